"""Answering a query: the predictor and the candidates each source proposes."""

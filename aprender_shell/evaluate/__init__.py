"""Evaluation beside the model: replay a history as typed and compare with other strategies."""

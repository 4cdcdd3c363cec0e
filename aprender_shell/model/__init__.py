"""The model: what is stored, what is learned live, answering queries, and training."""

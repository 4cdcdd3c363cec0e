"""Building a model from history: training, self-tuning, updates and forgetting."""

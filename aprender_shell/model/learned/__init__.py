"""What is learned live, after training: the in-memory overlay and its journal."""

"""What is stored: the model file's index, segments, tables and corpus, and their sizes."""

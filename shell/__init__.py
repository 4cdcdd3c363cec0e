"""The zsh and bash scripts of the shell integration, shipped as package data."""

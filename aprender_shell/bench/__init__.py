"""Benchmarks and the realistic-session generator they (and the tests) run on.

``python -m aprender_shell.bench`` runs every benchmark and prints ratios measured side by side.
"""

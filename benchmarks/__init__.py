"""Benchmarks and the realistic-session generator they (and the tests) run on.

``python -m benchmarks`` runs every benchmark and prints ratios measured side by side.
"""

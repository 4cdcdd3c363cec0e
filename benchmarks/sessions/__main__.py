"""``python -m benchmarks.sessions``: rewrite the shipped sample history."""

from __future__ import annotations

from benchmarks.sessions import write_sample_history

print(write_sample_history())

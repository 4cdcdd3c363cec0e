"""``python -m aprender_shell.bench.sessions``: rewrite the shipped sample history."""

from __future__ import annotations

from aprender_shell.bench.sessions import write_sample_history

print(write_sample_history())

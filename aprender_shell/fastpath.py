"""The click-free path of ``aprender-shell suggest``.

Returns ``None`` for any argument list it does not fully understand, so the click command
line (the single source of truth for help and validation) handles it instead.
"""

from __future__ import annotations


def run_suggest(args: list[str]) -> int | None:
    """Answer ``suggest`` without importing click, or return ``None`` to defer to click."""
    return None

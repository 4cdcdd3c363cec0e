"""What a model bundle holds and how big its parts may be: shared by training and queries.

Kept apart from ``train`` so that answering a query never imports the training code.
"""

from __future__ import annotations

from aprender_shell.errors import UsageError

# The memory limit, in bytes everywhere inside; people write it in MB (see parse_memory_limit).
MIN_MEMORY_LIMIT = 128 * 1024
# The tool's one default (the bundle library keeps its own, for other users of it).
DEFAULT_MEMORY_LIMIT = 16 * 1024 * 1024
# Beyond this a float no longer counts bytes exactly; no machine has that much anyway.
MAX_MEMORY_LIMIT = 2**53 - 1
_UNITS = {
    "": 2**20,  # a bare number is MB, as --memory-limit has always been
    "b": 1,
    "k": 2**10, "kb": 2**10, "kib": 2**10,
    "m": 2**20, "mb": 2**20, "mib": 2**20,
    "g": 2**30, "gb": 2**30, "gib": 2**30,
}
MAX_SEGMENT_BYTES = 256 * 1024
MIN_SEGMENT_BYTES = 32 * 1024
NGRAM_MIN_ORDER = 1
NGRAM_MAX_ORDER = 5
# Sentence markers and the separator of n-gram context keys.
START, END, SEP = "^", "$", "\x1f"


def segment_budget(memory_limit: int) -> int:
    """Largest segment a model trained for ``memory_limit`` bytes may hold."""
    return max(MIN_SEGMENT_BYTES, min(MAX_SEGMENT_BYTES, memory_limit // 4))


def parse_memory_limit(text: str) -> int:
    """The bytes a memory limit written by a person means, checked like ``check_memory_limit``.

    A plain number is MB (MiB; fractions allowed: ``16``, ``0.25``); a unit may follow:
    ``B``, ``K``/``KB``/``KiB``, ``M``/``MB``/``MiB``, ``G``/``GB``/``GiB`` (binary units, case
    ignored). Raises ``UsageError`` with one line for anything else.
    """
    written = text.strip()
    number = written.rstrip("BbKkMmGgIi ")
    unit = written[len(number) :].strip().lower()
    try:
        value = float(number) * _UNITS[unit]
        if value != value or abs(value) == float("inf"):
            raise ValueError(number)
    except (KeyError, ValueError):
        raise UsageError(
            f"memory limit {text[:40]!r} is not a size: give MB (16, 0.25) or a unit "
            "(512K, 16MB, 1G)"
        ) from None
    if value > MAX_MEMORY_LIMIT:
        raise UsageError(f"memory limit {text[:40]!r} is too large")
    return check_memory_limit(int(value))


def check_memory_limit(memory_limit: int) -> int:
    """``memory_limit`` if a model can honour it, else a UsageError saying the minimum."""
    if memory_limit < MIN_MEMORY_LIMIT:
        raise UsageError(
            f"memory limit {memory_limit / 2**20:.3g} MB is too small: use at least "
            f"{MIN_MEMORY_LIMIT / 2**20:.3g} MB"
        )
    return memory_limit

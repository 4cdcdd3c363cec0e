"""What a model bundle holds and how big its parts may be: shared by training and queries.

Kept apart from ``train`` so that answering a query never imports the training code.
"""

from __future__ import annotations

from aprender_shell.errors import UsageError

MIN_MEMORY_LIMIT = 128 * 1024
DEFAULT_MEMORY_LIMIT = 16 * 1024 * 1024
MAX_SEGMENT_BYTES = 256 * 1024
MIN_SEGMENT_BYTES = 32 * 1024
NGRAM_MIN_ORDER = 1
NGRAM_MAX_ORDER = 5
# Sentence markers and the separator of n-gram context keys.
START, END, SEP = "^", "$", "\x1f"


def segment_budget(memory_limit: int) -> int:
    """Largest segment a model trained for ``memory_limit`` bytes may hold."""
    return max(MIN_SEGMENT_BYTES, min(MAX_SEGMENT_BYTES, memory_limit // 4))


def check_memory_limit(memory_limit: int) -> int:
    """``memory_limit`` if a model can honour it, else a UsageError saying the minimum."""
    if memory_limit < MIN_MEMORY_LIMIT:
        raise UsageError(
            f"memory limit {memory_limit / 2**20:.3g} MB is too small: use at least "
            f"{MIN_MEMORY_LIMIT / 2**20:.3g} MB"
        )
    return memory_limit

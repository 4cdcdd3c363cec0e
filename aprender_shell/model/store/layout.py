"""What a model bundle holds and how big its parts may be: shared by training and queries.

Kept apart from ``train`` so that answering a query never imports the training code.
"""

from __future__ import annotations

from aprender_shell.errors import UsageError

# Segment sizes a model may be trained with (``MemoryLimit.segment_bytes`` picks one).
MAX_SEGMENT_BYTES = 256 * 1024
MIN_SEGMENT_BYTES = 32 * 1024
# The n-gram order: how many commands (the one predicted included) a context spans.
MIN_NGRAM_ORDER = 2
MAX_NGRAM_ORDER = 5
DEFAULT_NGRAM_ORDER = 3
# Sentence markers and the separator of n-gram context keys.
START, END, SEP = "^", "$", "\x1f"


def check_ngram_order(order: int) -> int:
    """``order`` if a model can be trained with it, else a UsageError saying the range."""
    if not MIN_NGRAM_ORDER <= order <= MAX_NGRAM_ORDER:
        raise UsageError(
            f"n-gram size must be between {MIN_NGRAM_ORDER} and {MAX_NGRAM_ORDER}, not {order}"
        )
    return order

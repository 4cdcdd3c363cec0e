"""What a model bundle holds and how big its parts may be: shared by training and queries.

Kept apart from ``train`` so that answering a query never imports the training code.
"""

from __future__ import annotations

from aprender_shell.errors import UsageError

# The n-gram order: how many commands (the one predicted included) a context spans.
MIN_NGRAM_ORDER = 2
MAX_NGRAM_ORDER = 5
DEFAULT_NGRAM_ORDER = 3
# Argument kinds (query/arguments.py), as the index stores them: for each of the most used
# command heads, a byte per kind and argument position. Arguments numbered past POSITIONS, or
# after an option, share its slot.
PATH, HOST, NAME, WORD = 1, 2, 4, 8
KINDS = (PATH, HOST, NAME, WORD)
POSITIONS = 3
SLOT_SIZE = len(KINDS)
COUNTS = POSITIONS * SLOT_SIZE
MAX_HEADS = 128
MAX_HEAD_CHARS = 64
MAX_KIND_COUNT = 255
# Sentence markers and the separator of n-gram context keys.
START, END, SEP = "^", "$", "\x1f"


def check_ngram_order(order: int) -> int:
    """``order`` if a model can be trained with it, else a UsageError saying the range."""
    if not MIN_NGRAM_ORDER <= order <= MAX_NGRAM_ORDER:
        raise UsageError(
            f"n-gram size must be between {MIN_NGRAM_ORDER} and {MAX_NGRAM_ORDER}, not {order}"
        )
    return order

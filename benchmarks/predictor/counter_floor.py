"""The floor training is measured against: the least work that learns anything from a history.

Read the history file, keep its commands (zsh's ``: time:duration;`` prefix cut off), and count
whole commands plus word bigrams and trigrams with ``collections.Counter``. Standard library
only, run by path (``python3 counter_floor.py HISTORY``) so that importing our package costs it
nothing.
"""

from __future__ import annotations

import sys
from collections import Counter


def count(path: str) -> tuple[int, int, int]:
    """Distinct commands, word bigrams and word trigrams in the history file at ``path``."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        commands = [
            line.partition(";")[2] if line.startswith(": ") else line
            for line in handle.read().splitlines()
        ]
    whole = Counter(commands)
    bigrams: Counter[tuple[str, str]] = Counter()
    trigrams: Counter[tuple[str, str, str]] = Counter()
    for command in commands:
        words = command.split()
        bigrams.update(zip(words, words[1:]))
        trigrams.update(zip(words, words[1:], words[2:]))
    return len(whole), len(bigrams), len(trigrams)


if __name__ == "__main__":
    print(*count(sys.argv[1]))

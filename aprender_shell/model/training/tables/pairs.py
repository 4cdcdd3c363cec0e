"""What followed two commands in a row, for the pairs that say most: the second level of the
sequence's back-off (``query.successors.PairSuccessors`` reads it).

After ``git diff`` then ``git add -A`` a user may always commit, while after ``git add -A``
alone they sometimes push: the pair knows more than its last command. ``train`` counts, over
the last ``LEARNED_FROM`` commands, every command's two predecessors; pairs seen at least
``MIN_PAIR_COUNT`` times with a successor seen at least twice are kept, the most seen first,
each with its ``SUCCESSORS_PER_PAIR`` most frequent successors, within a byte budget (a bundle
entry, ``PAIRS_ENTRY``, JSON: ``[[first, second, count, [[successor, n], ...]], ...]``).
"""

from __future__ import annotations

import json
from array import array
from collections import Counter
from collections.abc import Sequence
from itertools import islice

from aprender_shell.model import scoring
from aprender_shell.model.query.successors import PAIRS_ENTRY as PAIRS_ENTRY

LEARNED_FROM = 100_000
MIN_PAIR_COUNT = 2
SUCCESSORS_PER_PAIR = 4


def pair_table(commands: Sequence[str], budget: int) -> bytes | None:
    """The ``PAIRS_ENTRY`` data for ``commands`` within ``budget`` bytes (None: no pair says
    anything)."""
    tail = commands[-LEARNED_FROM:]
    longest = scoring.RECENT_COMMAND_CHARS
    # Each triple is counted as one integer (its three commands' numbers), not as a tuple of
    # strings: a fold's child counts 100,000 of them within the memory limit.
    number: dict[str, int] = {}
    for text in tail:
        if len(text) <= longest and text not in number:
            number[text] = len(number)
    texts = list(number)
    width = len(texts)
    # Machine words, not an int object per command.
    coded = array("q", [number.get(text, -1) for text in tail])
    del number, tail
    # Only a pair seen twice makes a row: its triples alone are counted (most pairs of a long
    # history are seen once, and a Counter of every triple was most of this table's memory).
    seen = Counter(
        a * width + b for a, b, c in zip(coded, islice(coded, 1, None), islice(coded, 2, None))
        if a >= 0 and b >= 0 and c >= 0
    )
    totals: Counter[int] = Counter(
        {pair: n for pair, n in seen.items() if n >= MIN_PAIR_COUNT})
    del seen
    triples = Counter(
        pair * width + c for pair, c in (
            (a * width + b, c) for a, b, c in zip(coded, islice(coded, 1, None),
                                                  islice(coded, 2, None))
            if a >= 0 and b >= 0 and c >= 0)
        if pair in totals
    )
    del coded
    pairs: dict[int, list[tuple[str, int]]] = {}
    for triple, n in triples.items():
        pair, third = divmod(triple, width)
        if n >= 2:
            pairs.setdefault(pair, []).append((texts[third], n))
    del triples

    def first_two(pair: int) -> tuple[str, str]:
        return texts[pair // width], texts[pair % width]

    rows: list[list[object]] = []
    size = 2
    # Only a pair with a follower seen twice can make a row (it was seen twice itself): the
    # others are not sorted at all.
    for pair in sorted(pairs, key=lambda pair: (-totals[pair], first_two(pair))):
        count = totals[pair]
        if count < MIN_PAIR_COUNT:
            break
        followers = pairs[pair]
        first, second = first_two(pair)
        best = sorted(followers, key=lambda item: (-item[1], item[0]))[:SUCCESSORS_PER_PAIR]
        row: list[object] = [first, second, count, [[c, n] for c, n in best]]
        size += len(json.dumps(row, ensure_ascii=False).encode("utf-8")) + 1
        if size > budget:
            break
        rows.append(row)
    if not rows:
        return None
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

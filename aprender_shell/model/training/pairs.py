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
from collections import Counter
from collections.abc import Sequence

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
    triples: Counter[tuple[str, str, str]] = Counter(
        (a, b, c) for a, b, c in zip(tail, tail[1:], tail[2:])
        if len(a) <= longest and len(b) <= longest and len(c) <= longest
    )
    pairs: dict[tuple[str, str], list[tuple[str, int]]] = {}
    totals: Counter[tuple[str, str]] = Counter()
    for (a, b, c), n in triples.items():
        totals[a, b] += n
        if n >= 2:
            pairs.setdefault((a, b), []).append((c, n))
    del triples
    rows: list[list[object]] = []
    size = 2
    for (a, b), count in sorted(totals.items(), key=lambda item: (-item[1], item[0])):
        if count < MIN_PAIR_COUNT:
            break
        followers = pairs.get((a, b))
        if not followers:
            continue
        best = sorted(followers, key=lambda item: (-item[1], item[0]))[:SUCCESSORS_PER_PAIR]
        row: list[object] = [a, b, count, [[c, n] for c, n in best]]
        size += len(json.dumps(row, ensure_ascii=False).encode("utf-8")) + 1
        if size > budget:
            break
        rows.append(row)
    if not rows:
        return None
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

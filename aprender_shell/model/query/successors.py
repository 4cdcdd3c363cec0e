"""Where a query's candidates come from: the trained commands matching the prefix, and what
followed the previous command (the sequence signals of the score).

What followed is read once per previous command (trained successors from its command record,
learned ones from the overlay) and shared by the keystrokes of the next command, which do not
change it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

from aprender_shell.bundle.jsontext import loads
from aprender_shell.model import scoring
from aprender_shell.model.learned.overlay import Overlay
from aprender_shell.model.store.segments import CommandStats
from aprender_shell.model.store.tables import Table

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from typing import Any

    from aprender_shell.bundle import PagedBundle

# A prefix matching at most this many commands has all of them scored; past it, the best
# ranked (RETRIEVED_CANDIDATES) are, with the successors and what was learned since training.
# On the tuning half of the generated histories 96 keeps the keystroke saving of 256 (39.7%)
# and cuts the slowest keystrokes by a third.
SCORE_WHOLE_RANGE = 96
RANKED_SCAN_LIMIT = 20_000


def history_candidates(
    table: Table, hot: Table, prefix: str
) -> Iterator[tuple[str, CommandStats]]:
    """The trained commands a query starting with ``prefix`` scores: all of them when few
    match, else the best ranked (``scoring.RETRIEVED_CANDIDATES``)."""
    if not len(table):
        return
    first, last = table.segments_of_prefix(prefix)
    if first != last:
        found = hot.find(prefix)
        if found is not None:
            view, index = found
            yield from view.candidates(index)
            return
        # Not listed as spanning: every match is in the last segment that starts with it.
        first = last
    view = table.view(first)
    lo, hi = view.prefix_range(prefix)
    if hi - lo <= SCORE_WHOLE_RANGE:
        for index in range(lo, hi):
            yield view.entry(index)
        return
    taken = 0
    for scanned, index in enumerate(view.ranked()):
        if lo <= index < hi:
            yield view.entry(index)
            taken += 1
            if taken == scoring.RETRIEVED_CANDIDATES:
                return
        if scanned >= RANKED_SCAN_LIMIT:
            return


class Successors:
    """What followed the previous command: its count, kept successors, and the last one.

    It does not depend on what is typed, so the keystrokes of one command share it.
    """

    __slots__ = (
        "count", "transitions", "last", "successors", "_by_template", "pair_count",
        "pair_transitions",
    )

    def __init__(self) -> None:
        self.count = 0
        self.transitions: dict[str, int] = {}
        # What followed the two previous commands in a row (``PairSuccessors``).
        self.pair_count = 0
        self.pair_transitions: dict[str, int] = {}
        self.last: str | None = None
        # Every successor with its trained statistics (None: learned since training only).
        self.successors: list[tuple[str, CommandStats | None]] = []
        self._by_template: dict[tuple[str, ...], int] | None = None

    def by_template(self) -> dict[tuple[str, ...], int]:
        """How often each template followed."""
        if self._by_template is None:
            found: dict[tuple[str, ...], int] = {}
            for text, n in self.transitions.items():
                key = scoring.template_of(text)
                found[key] = found.get(key, 0) + n
            self._by_template = found
        return self._by_template


def read_successors(commands: Table, overlay: Overlay, previous: str) -> Successors:
    """What followed ``previous``: its trained successors and what was learned since."""
    sequence = Successors()
    found = commands.find(previous) if len(commands) else None
    latest = -1
    if found is not None:
        view, index = found
        record = view.command(index)
        sequence.count = record.stats.count
        for successor in record.successors:
            sequence.transitions[successor.text] = successor.transitions
            sequence.successors.append((successor.text, successor.stats))
            # The trained successors do not say which came last; the most recently used
            # one mostly did.
            if successor.stats.last_position > latest:
                latest = successor.stats.last_position
                sequence.last = successor.text
    learned_stats = overlay.stats(previous)
    if learned_stats is not None:
        sequence.count += learned_stats.count
    learned = overlay.transitions(previous)
    if learned:
        # The previous command may be known only as a predecessor (it was run, but not
        # recorded): its learned transitions still count as evidence.
        sequence.count = max(sequence.count, sum(learned.values()))
        for text, n in learned.items():
            if text not in sequence.transitions:
                sequence.successors.append((text, None))
            sequence.transitions[text] = sequence.transitions.get(text, 0) + n
    follower = overlay.last_follower(previous)
    if follower is not None:
        sequence.last = follower
    return sequence


class Sequences:
    """What followed the previous command, and the two before it, as one predictor reads
    them: the last read is kept, for the keystrokes of the next command share it."""

    __slots__ = ("pairs", "_cached")

    def __init__(self) -> None:
        self.pairs = PairSuccessors()
        self._cached: tuple[tuple[str, ...], int, Successors] | None = None

    def after(
        self,
        commands: Table,
        overlay: Overlay,
        bundle: PagedBundle,
        prev: Sequence[str],
        prefix: str,
        candidates: dict[str, CommandStats | None],
    ) -> Successors:
        """What followed ``prev`` (every kept successor, matching or not, for the template
        shares); those starting with ``prefix`` join the candidates."""
        key, clock = tuple(prev[-2:]), overlay.clock
        cached = self._cached
        if cached is not None and cached[0] == key and cached[1] == clock:
            sequence = cached[2]
        else:
            sequence = read_successors(commands, overlay, prev[-1])
            if len(key) == 2:
                sequence.pair_count, sequence.pair_transitions = self.pairs.of(bundle, *key)
            self._cached = (key, clock, sequence)
        for text, stats in sequence.successors:
            if text.startswith(prefix):
                candidates.setdefault(text, stats)
        for text in sequence.pair_transitions:
            if text.startswith(prefix):
                candidates.setdefault(text, None)
        return sequence


# Learned pairs kept since training, at most (the least recently seen go first).
MAX_LEARNED_PAIRS = 4096
PAIRS_ENTRY = "pairs"  # the bundle entry training.pairs writes


class PairSuccessors:
    """What followed two commands in a row: the strongest pairs of the trained history (the
    model's ``pairs`` entry, read at the first query that has two previous commands) and
    every pair recorded since."""

    __slots__ = ("_trained", "_learned")

    def __init__(self) -> None:
        self._trained: dict[tuple[str, str], tuple[int, dict[str, int]]] | None = None
        self._learned: dict[tuple[str, str], dict[str, int]] = {}

    def of(self, bundle: PagedBundle, first: str, second: str) -> tuple[int, dict[str, int]]:
        """How often ``first`` then ``second`` ran, and what followed them how often."""
        if self._trained is None:
            self._trained = _read_pairs(bundle)
        count, trained = self._trained.get((first, second), (0, {}))
        learned = self._learned.get((first, second))
        if not learned:
            return count, trained
        merged = dict(trained)
        for text, n in learned.items():
            merged[text] = merged.get(text, 0) + n
        return count + sum(learned.values()), merged

    def learn(self, first: str | None, second: str | None, command: str) -> None:
        """``command`` ran after ``first`` then ``second``."""
        if first is None or second is None:
            return
        key = (first, second)
        found = self._learned.pop(key, None) or {}
        found[command] = found.get(command, 0) + 1
        self._learned[key] = found
        if len(self._learned) > MAX_LEARNED_PAIRS:
            del self._learned[next(iter(self._learned))]

    def noting(self, records: Iterable[Mapping[str, Any]]) -> Iterator[Any]:
        """Journal records passed through unchanged, the pairs they make learned on the way
        (a record's previous command is the record before it, when that one ran it)."""
        before: tuple[object, object] | None = None
        for record in records:
            command, previous = record.get("c"), record.get("prev")
            if before is not None and isinstance(command, str) and isinstance(previous, str):
                ran, its_previous = before
                if ran == previous and isinstance(its_previous, str):
                    self.learn(its_previous, previous, command)
            before = (command, previous)
            yield record


def _read_pairs(bundle: PagedBundle) -> dict[tuple[str, str], tuple[int, dict[str, int]]]:
    """The model's pairs; a model without them (older, or a history with none) has none."""
    if PAIRS_ENTRY not in bundle:
        return {}
    raw = bundle.get_model(PAIRS_ENTRY)
    bundle.evict(PAIRS_ENTRY)  # kept decoded, like the index
    try:
        rows = loads(raw)
    except (ValueError, RecursionError) as error:
        raise ValueError(f"its pairs are not JSON ({error})") from error
    found: dict[tuple[str, str], tuple[int, dict[str, int]]] = {}
    if not isinstance(rows, list):
        raise ValueError("its pairs are not a list")
    for row in rows:
        if not (
            isinstance(row, list) and len(row) == 4 and isinstance(row[0], str)
            and isinstance(row[1], str) and _count(row[2]) and isinstance(row[3], list)
        ):
            raise ValueError("a pair is not [first, second, count, successors]")
        followers: dict[str, int] = {}
        for item in row[3]:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
                    and _count(item[1])):
                raise ValueError("a pair's successor is not [command, count]")
            followers[item[0]] = item[1]
        found[row[0], row[1]] = (max(row[2], sum(followers.values())), followers)
    return found


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**48

"""Where a query's candidates come from: the trained commands matching the prefix, and what
followed the previous command (the sequence signals of the score).

What followed is read once per previous command (trained successors from its command record,
learned ones from the overlay) and shared by the keystrokes of the next command, which do not
change it.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence

from aprender_shell.bundle.jsontext import loads
from aprender_shell.history.tokens import command_name
from aprender_shell.model import scoring
from aprender_shell.model.learned.overlay import Overlay
from aprender_shell.model.store.segments import CommandStats, Successor
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
        # decoded one at a time: a command followed by hundreds holds them once, as kept here
        stats, successors = view.successors(index)
        sequence.count = stats.count
        for successor in successors:
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

    __slots__ = ("pairs", "_cached", "_matching")

    def __init__(self) -> None:
        self.pairs = PairSuccessors()
        self._cached: tuple[tuple[str, ...], int, Successors] | None = None
        # The last prefix asked and the successors and pair successors starting with it: the
        # next keystroke types on, and its matches are among these.
        self._matching: tuple[str, list[tuple[str, CommandStats | None]], list[str]] | None = None

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
        matching = self._matching
        if cached is not None and cached[0] == key and cached[1] == clock:
            sequence = cached[2]
        else:
            # What the last command kept goes before the next is read: never both at once.
            self._cached = self._matching = cached = matching = None
            sequence = read_successors(commands, overlay, prev[-1])
            if len(key) == 2:
                sequence.pair_count, sequence.pair_transitions = self.pairs.of(bundle, *key)
            self._cached = (key, clock, sequence)
        if matching is not None and prefix.startswith(matching[0]):
            successors, pairs = matching[1], matching[2]
        else:
            successors, pairs = sequence.successors, list(sequence.pair_transitions)
        successors = [item for item in successors if item[0].startswith(prefix)]
        pairs = [text for text in pairs if text.startswith(prefix)]
        self._matching = (prefix, successors, pairs)
        for text, stats in successors:
            candidates.setdefault(text, stats)
        for text in pairs:
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


# What followed the previous command's *name* ---------------------------------------------
#
# The sequence signal reads what followed the previous *line*; a line with varying arguments
# (``vim src/app.py``, ``git commit -m "..."``) was seen a few times at most, so its successors
# say little. What followed any line of the same name (``vim``, ``git``) is seen far more
# often: ``Names`` pools the successors of the name's best-ranked trained lines (their command
# records) and of the lines learned since training, as counts of the next command's name, and
# keeps the lines that followed as candidates. ``scoring.history_scores`` reads the names'
# shares as the ``names`` signal (``p(name | previous name) x p(line | name)``). The trained
# part of a name is read once per name and kept; the learned part per query context.

# At most this many trained lines of a name have their successors pooled (the best ranked),
# from at most this many segments of the command table.
NAME_LINES = 32
NAME_SEGMENTS = 2
# At most this many learned lines of a name are pooled (the most recently used).
LEARNED_NAME_LINES = 32
# The lines that followed the name that join an empty line's candidates, at most.
NAME_CANDIDATES = 16
# Names kept per previous name (the most frequent): the rest share too little to matter.
NAMES_KEPT = 24
# Names whose followers a predictor keeps between queries (a prompt's keystrokes share one).
NAMES_CACHED = 2


class NameFollowers:
    """The next names after a name: counts, and the lines that followed (with their stats)."""

    __slots__ = ("names", "lines", "total", "_best")

    def __init__(self) -> None:
        self.names: dict[str, int] = {}
        # each line that followed a line of the name: its pooled transitions and trained stats
        self.lines: dict[str, tuple[int, CommandStats | None]] = {}
        self.total = 0
        self._best: list[tuple[str, CommandStats | None]] | None = None

    def add(self, text: str, transitions: int, stats: CommandStats | None) -> None:
        name = command_name(text)
        if not name or transitions <= 0:
            return
        self.names[name] = self.names.get(name, 0) + transitions
        self.total += transitions
        known, kept = self.lines.get(text, (0, None))
        self.lines[text] = (known + transitions, stats if stats is not None else kept)
        self._best = None

    def merged(self, other: NameFollowers) -> NameFollowers:
        """These and ``other``'s counts; of the lines only each one's best
        (``NAME_CANDIDATES``) are kept, so a merge per query copies little."""
        if not other.total:
            return self
        found = NameFollowers()
        found.names = dict(self.names)
        for name, count in other.names.items():
            found.names[name] = found.names.get(name, 0) + count
        found.total = self.total + other.total
        found.lines = {text: self.lines[text] for text, _ in self.candidates()}
        for text, _ in other.candidates():
            transitions, stats = other.lines[text]
            known, kept = found.lines.get(text, (0, None))
            found.lines[text] = (known + transitions, kept if kept is not None else stats)
        return found

    def shares(self) -> dict[str, float]:
        """Each next name's share of what followed (the ``NAMES_KEPT`` most frequent)."""
        if not self.total:
            return {}
        kept = heapq.nlargest(NAMES_KEPT, self.names.items(), key=lambda item: item[1])
        return {name: count / self.total for name, count in kept}

    def candidates(self) -> list[tuple[str, CommandStats | None]]:
        """The lines that followed most often (``NAME_CANDIDATES``), with their stats."""
        if self._best is None:
            best = heapq.nlargest(NAME_CANDIDATES, self.lines.items(), key=lambda i: i[1][0])
            self._best = [(text, stats) for text, (_, stats) in best]
        return self._best


class Names:
    """What followed each previous name, as one predictor reads it: the trained part of each
    name is read once and kept; the learned part is read from the overlay the first time the
    name is asked, then kept up to date as commands are learned (``learn``)."""

    __slots__ = ("_trained", "_learned", "_cached")

    def __init__(self) -> None:
        self._trained: dict[str, NameFollowers] = {}
        self._learned: dict[str, NameFollowers] = {}
        self._cached: tuple[str, int, NameFollowers] | None = None

    def after(self, commands: Table, overlay: Overlay, previous: str) -> NameFollowers:
        """What followed the lines named as ``previous`` is, trained and learned since."""
        name = command_name(previous)
        clock = overlay.clock
        cached = self._cached
        if cached is not None and cached[0] == name and cached[1] == clock:
            return cached[2]
        trained = self._trained.get(name)
        if trained is None:
            trained = _kept(self._trained, name, _trained_followers(commands, name))
        learned = self._learned.get(name)
        if learned is None and name:
            learned = _kept(self._learned, name, _learned_followers(overlay, name))
        found = trained.merged(learned) if learned is not None else trained
        self._cached = (name, clock, found)
        return found

    def learn(self, previous: str | None, command: str) -> None:
        """``command`` ran after ``previous`` (learned since training)."""
        learned = self._learned.get(command_name(previous)) if previous is not None else None
        if learned is not None:
            learned.add(command, 1, None)


def _kept(kept: dict[str, NameFollowers], name: str, found: NameFollowers) -> NameFollowers:
    """``found`` kept for ``name``, the oldest name dropped past ``NAMES_CACHED``: what is
    kept is re-read when asked again, so the memory limit holds however many names are asked."""
    if len(kept) >= NAMES_CACHED:
        del kept[next(iter(kept))]
    kept[name] = found
    return found


def _trained_followers(commands: Table, name: str) -> NameFollowers:
    """The successors of the best-ranked trained lines named ``name``, pooled."""
    found = NameFollowers()
    if not name or not len(commands):
        return found
    exact = commands.find(name)
    if exact is not None:
        _pool(found, exact[0].command(exact[1]).successors)
    prefix = name + " "
    first, last = commands.segments_of_prefix(prefix)
    read = 0
    for number in range(first, min(last, first + NAME_SEGMENTS - 1) + 1):
        view = commands.view(number)
        lo, hi = view.prefix_range(prefix)
        if hi - lo <= NAME_LINES - read:
            indices = list(range(lo, hi))
        else:
            indices = []
            for index in view.ranked():
                if lo <= index < hi:
                    indices.append(index)
                    if len(indices) >= NAME_LINES - read:
                        break
        for index in indices:
            _pool(found, view.command(index).successors)
        read += len(indices)
        if read >= NAME_LINES:
            break
    # Only the best lines are ever merged or offered: keep those, not every line pooled.
    found.lines = {text: found.lines[text] for text, _ in found.candidates()}
    return found


def _pool(found: NameFollowers, successors: Iterable[Successor]) -> None:
    for successor in successors:
        found.add(successor.text, successor.transitions, successor.stats)


def _learned_followers(overlay: Overlay, name: str) -> NameFollowers:
    """What followed the lines named ``name`` learned since training."""
    found = NameFollowers()
    lines = overlay.matching(name + " ", LEARNED_NAME_LINES)
    lines.append(name)
    for line in lines:
        transitions: Mapping[str, int] | None = overlay.transitions(line)
        if transitions:
            for text, count in transitions.items():
                found.add(text, count, None)
    return found

"""Where a query's candidates come from: the trained commands matching the prefix, and what
followed the previous command (the sequence signals of the score).

What followed is read once per previous command (trained successors from its command record,
learned ones from the overlay) and shared by the keystrokes of the next command, which do not
change it.
"""

from __future__ import annotations

from collections.abc import Iterator

from aprender_shell.model import scoring
from aprender_shell.model.learned.overlay import Overlay
from aprender_shell.model.store.segments import CommandStats
from aprender_shell.model.store.tables import Table

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

    __slots__ = ("count", "transitions", "last", "successors", "_by_template")

    def __init__(self) -> None:
        self.count = 0
        self.transitions: dict[str, int] = {}
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

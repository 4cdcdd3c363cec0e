"""What followed the previous command, as a query sees it: the sequence signals of the score.

Read once per previous command (trained successors from its command record, learned ones
from the overlay) and shared by the keystrokes of the next command, which do not change it.
"""

from __future__ import annotations

from aprender_shell.model import scoring
from aprender_shell.model.learned.overlay import Overlay
from aprender_shell.model.store.segments import CommandStats
from aprender_shell.model.store.tables import Table


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

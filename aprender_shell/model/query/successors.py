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

    def add_to(
        self,
        features: dict[str, scoring.Features],
        prefix: str,
        weights: scoring.Weights,
        w_recent: float,
    ) -> None:
        """Fill in the sequence signals of ``features``.

        A candidate's template share is how often the previous command was followed by its
        template, times its share (by score without context) of the candidates of that
        template: the family is predicted from the sequence, the line from use.
        """
        kept = sum(self.transitions.values())
        own: dict[str, float] = {}
        templates: dict[str, tuple[str, ...]] = {}
        if kept and weights.template:
            by_template = self.by_template()
            template_of = scoring.template_among(by_template, prefix)
            score_of = scoring.scorer(weights, w_recent)
            base: dict[tuple[str, ...], float] = {}
            for text, f in features.items():
                found = template_of(text)
                if found is not None:
                    templates[text] = found
                    own[text] = score_of(f)
                    base[found] = base.get(found, 0.0) + own[text]
            for text, value in own.items():
                key = templates[text]
                if base[key] > 0:
                    features[text].template_share = by_template[key] / kept * value / base[key]
        transitions = self.transitions
        last = self.last
        count = self.count
        for text, f in features.items():
            f.successor = transitions.get(text, 0) / count
            f.followed_last = 1.0 if text == last else 0.0
            f.evidence = count


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

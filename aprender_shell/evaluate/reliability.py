"""Whether ``p`` means what it says: a reliability table per decile of ``p``, and how often the
empty line shows a guess and how often a shown one is right.

scikit-learn judges a calibration the same way (``calibration_curve``): group the predictions
by their stated probability and compare each group's mean with how often it came true. A
calibrated predictor's rows agree within sampling noise; ``evaluate`` marks a row whose
observed rate is more than ``TOLERANCE`` from its mean ``p``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

BINS = 10
TOLERANCE = 0.05


@dataclass
class ReliabilityRow:
    """One decile of ``p``: how many suggestions fell in it, their mean ``p``, how many were
    the command run."""

    low: float
    high: float
    count: int = 0
    p_total: float = 0.0
    right: int = 0

    @property
    def mean_p(self) -> float:
        return self.p_total / self.count if self.count else 0.0

    @property
    def observed(self) -> float:
        return self.right / self.count if self.count else 0.0

    @property
    def within(self) -> bool:
        return abs(self.observed - self.mean_p) <= TOLERANCE


@dataclass
class Reliability:
    """What the replayed suggestions' ``p`` said and what happened, and the empty line's
    guesses: asked, shown (``show`` was true) and shown and right."""

    rows: list[ReliabilityRow] = field(
        default_factory=lambda: [ReliabilityRow(i / BINS, (i + 1) / BINS) for i in range(BINS)]
    )
    empty_asked: int = 0
    empty_shown: int = 0
    empty_shown_right: int = 0

    def add(self, p: float, right: bool) -> None:
        """One suggestion of stated chance ``p`` that was (``right``) or was not run."""
        row = self.rows[min(BINS - 1, max(0, int(p * BINS)))]
        row.count += 1
        row.p_total += p
        row.right += right

    def add_empty_line(self, shown: bool, right: bool) -> None:
        """One empty-line guess: whether it was shown, whether it was the command run."""
        self.empty_asked += 1
        self.empty_shown += shown
        self.empty_shown_right += shown and right

    @property
    def shown_share(self) -> float:
        return self.empty_shown / self.empty_asked if self.empty_asked else 0.0

    @property
    def shown_right(self) -> float:
        return self.empty_shown_right / self.empty_shown if self.empty_shown else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": [
                {"low": r.low, "high": r.high, "count": r.count, "mean_p": r.mean_p,
                 "observed": r.observed}
                for r in self.rows
            ],
            "empty_asked": self.empty_asked,
            "empty_shown": self.empty_shown,
            "empty_shown_right": self.empty_shown_right,
        }


def format_reliability(name: str, reliability: Reliability) -> list[str]:
    """The table's lines for one strategy (only the deciles some suggestion fell in)."""
    lines = [
        f"Reliability of p ({name}): per decile of p, the share of suggestions that were the "
        "command run",
        "  p range      suggestions   mean p   observed",
    ]
    for row in reliability.rows:
        if not row.count:
            continue
        mark = "" if row.within else f"   off by more than {TOLERANCE:.2f}"
        lines.append(
            f"  {row.low:.1f} - {row.high:.1f}  {row.count:>11,}   {row.mean_p:6.3f}   "
            f"{row.observed:8.3f}{mark}"
        )
    lines.append(
        f"Empty line: shown on {reliability.shown_share:.1%} of {reliability.empty_asked:,} "
        f"prompts; right {reliability.shown_right:.1%} of the {reliability.empty_shown:,} "
        "times shown."
    )
    return lines


def stated_chances(strategy: Any, suggestions: Sequence[Any]) -> list[float] | None:
    """Each suggestion's ``p``, or None when the strategy states none (the baselines, which
    have no ``shows``)."""
    if not callable(getattr(strategy, "shows", None)):
        return None
    found = [getattr(s, "p", None) for s in suggestions]
    return [p for p in found if isinstance(p, float)]

"""Whether a suggestion's ``p`` means what it says: a reliability table, per decile of ``p``.

Each suggestion that carried a ``p`` during a replay is one pair: its ``p`` and whether it was
the command run. Grouped by ``p`` in ten bins of 0.1 (``p == 1`` in the last), a calibrated
predictor's observed rate in each bin is close to the bin's mean ``p`` (scikit-learn's
``calibration_curve`` with ``strategy="uniform"`` groups the same way).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

BINS = 10
# Below this many suggestions a bin's observed rate says little: its gap is not judged.
MIN_JUDGED = 30


@dataclass(frozen=True)
class ReliabilityBin:
    """The suggestions whose ``p`` fell in ``[low, high)`` (the last bin includes 1)."""

    low: float
    high: float
    count: int
    mean_p: float | None  # None when the bin is empty
    observed: float | None  # the share that was the command run

    @property
    def gap(self) -> float | None:
        """How far the observed rate is from the mean ``p`` (None when the bin is empty)."""
        if self.mean_p is None or self.observed is None:
            return None
        return abs(self.observed - self.mean_p)


def reliability_table(
    pairs: Iterable[tuple[float, bool]], bins: int = BINS
) -> list[ReliabilityBin]:
    """Per bin of ``p`` (``bins`` equal ones over [0, 1]): the count, the mean ``p`` and the
    observed rate of the ``(p, was it right)`` pairs; raises ``ValueError`` for a ``p``
    outside [0, 1]."""
    if bins < 1:
        raise ValueError(f"bins must be at least 1, not {bins}")
    counts = [0] * bins
    sums = [0.0] * bins
    rights = [0] * bins
    for p, right in pairs:
        if not 0.0 <= p <= 1.0:  # NaN fails this too
            raise ValueError(f"p must be between 0 and 1, not {p}")
        index = min(int(p * bins), bins - 1)
        counts[index] += 1
        sums[index] += p
        rights[index] += bool(right)
    return [
        ReliabilityBin(
            i / bins, (i + 1) / bins, counts[i],
            sums[i] / counts[i] if counts[i] else None,
            rights[i] / counts[i] if counts[i] else None,
        )
        for i in range(bins)
    ]


def largest_gap(table: Sequence[ReliabilityBin], min_count: int = MIN_JUDGED) -> float | None:
    """The largest gap between observed rate and mean ``p`` over the bins holding at least
    ``min_count`` suggestions (None when none does)."""
    gaps = [b.gap for b in table if b.count >= min_count and b.gap is not None]
    return max(gaps) if gaps else None


def expected_error(table: Sequence[ReliabilityBin]) -> float | None:
    """The gaps weighted by how many suggestions each bin holds (the expected calibration
    error); None for an empty table."""
    total = sum(b.count for b in table)
    if not total:
        return None
    return sum(b.count * (b.gap or 0.0) for b in table) / total


def format_reliability(table: Sequence[ReliabilityBin], min_count: int = MIN_JUDGED) -> str:
    """The table as text: one line per bin, then the largest and the expected gap."""
    lines = [f"{'p':<11}{'suggestions':>12}{'mean p':>9}{'observed':>10}{'gap':>8}"]
    for b in table:
        label = f"{b.low:.1f}-{b.high:.1f}"
        if b.mean_p is None or b.observed is None:
            lines.append(f"{label:<11}{0:>12}{'-':>9}{'-':>10}{'-':>8}")
            continue
        few = " (few)" if b.count < min_count else ""
        lines.append(f"{label:<11}{b.count:>12,}{b.mean_p:>9.3f}{b.observed:>10.3f}"
                     f"{b.gap or 0.0:>8.3f}{few}")
    largest, expected = largest_gap(table, min_count), expected_error(table)
    if largest is None or expected is None:
        lines.append(f"No bin holds {min_count} suggestions: too few to judge.")
    else:
        lines.append(f"Largest gap {largest:.3f} (bins of {min_count} or more), "
                     f"weighted mean gap {expected:.3f}.")
    return "\n".join(lines)

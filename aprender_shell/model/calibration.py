"""What a suggestion's score means: the chance it is what the user runs next (its ``p``).

A score ranks the candidates of one query; it is not a probability. Training replays the end of
the user's own history (``training.calibrating``), notes each suggestion's score, as a share of
the ``TOP`` best scores of its query (the predictor scores more candidates than the replay, and
the many small ones would otherwise make the two disagree), and whether it was the command run
next, and fits a monotone map from score to that observed rate (isotonic
regression over equal-count bins, as scikit-learn's calibration does), one for the empty line
and one for a typed prefix: how sure a guess is differs a lot between the two. The map is kept
in the index's ``tuning`` as numbered knots, beside the weights (``to_tuning``), so models
without one read as before.

The empty line's ``show`` level comes from the same replay: the lowest ``p`` at which the
guesses shown would have been right at least ``SHOWN_RIGHT`` of the time. A history with no
pattern reaches it nowhere and shows nothing on the empty line.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence

# The share of shown empty-line guesses that must turn out right.
SHOWN_RIGHT = 0.5
# How many standard errors below its observed rate a level's rate is judged (Wilson).
SHOWN_Z = 1.0
# Fewer observed guesses than this leave the map at its prior: half the score's share.
MIN_OBSERVED = 30
MAX_KNOTS = 20
# A score is read as its share of this many best scores of the query.
TOP = 12
# ``show`` level of a model never calibrated: a calibrated-by-prior p this high.
DEFAULT_SHOW_LEVEL = 0.5
NEVER = 2.0
# "start": a partial ghost's start (model/query/partial), judged on whether the line run
# starts with it; a model without that map reads a start's score through its line's map.
KINDS = ("empty", "typed", "start")


class Calibration:
    """Monotone maps from a suggestion's score to its ``p``, and the empty line's show level."""

    __slots__ = ("knots", "show_level", "names")

    def __init__(
        self,
        knots: Mapping[str, Sequence[tuple[float, float]]] | None = None,
        show_level: float = DEFAULT_SHOW_LEVEL,
    ) -> None:
        self.knots: dict[str, list[tuple[float, float]]] = {
            kind: sorted(found) for kind, found in (knots or {}).items() if found
        }
        self.show_level = show_level
        # The names signal's share the replay chose (``Weights.names``); None: not fitted.
        self.names: float | None = None

    def p(self, score: float, empty: bool) -> float:
        """The chance a suggestion is the command run next, from its ``score`` as a share of its
        query's ``TOP`` best."""
        return _read(self.knots.get("empty" if empty else "typed"), score)

    def p_start(self, score: float, empty: bool) -> float:
        """The chance the line run starts with a partial ghost whose lines' scores, summed, are
        ``score`` (a share of its query's ``TOP`` best)."""
        knots = self.knots.get("start")
        return _read(knots, score) if knots else self.p(score, empty)

    def shows(self, p: float, start: bool = False) -> bool:
        """Whether an empty-line guess this sure is shown. A partial ghost's ``start`` is shown
        once it is likelier than not (its own map says how often the line starts with it; the
        level was judged on whole lines, where a start would let unsure lines through)."""
        return p >= (SHOWN_RIGHT if start else self.show_level)

    def to_tuning(self) -> dict[str, float]:
        """The map as the index's ``tuning`` keeps it: ``p.KIND.N.score`` and ``p.KIND.N.rate``."""
        stored = {"p.show": self.show_level}
        if self.names is not None:  # read back as the weight of that name (Weights)
            stored["names"] = self.names
        for kind, knots in self.knots.items():
            for number, (score, rate) in enumerate(knots):
                stored[f"p.{kind}.{number}.score"] = score
                stored[f"p.{kind}.{number}.rate"] = rate
        return stored

    @classmethod
    def from_tuning(cls, tuning: Mapping[str, float] | None) -> Calibration:
        """The map an index's ``tuning`` holds; the prior when it holds none (or a damaged one:
        knots out of [0, 1] or not monotone are dropped whole)."""
        if not tuning:
            return cls()
        knots: dict[str, list[tuple[float, float]]] = {}
        for kind in KINDS:
            found = []
            for number in range(MAX_KNOTS):
                score = tuning.get(f"p.{kind}.{number}.score")
                rate = tuning.get(f"p.{kind}.{number}.rate")
                if score is None or rate is None:
                    break
                found.append((float(score), float(rate)))
            if found and _valid(found):
                knots[kind] = found
        level = tuning.get("p.show", DEFAULT_SHOW_LEVEL)
        if not (isinstance(level, (int, float)) and math.isfinite(level) and 0 <= level <= NEVER):
            level = DEFAULT_SHOW_LEVEL
        return cls(knots, float(level))


def _read(knots: list[tuple[float, float]] | None, score: float) -> float:
    """``score`` read through the monotone map ``knots`` (the prior, half the score, when
    there is none)."""
    score = min(1.0, max(0.0, score))
    if not knots:
        return score / 2
    # (score,) sorts before a knot (s, rate) exactly when score <= s: no list of the scores
    # is built on every suggestion of every keystroke
    at = bisect.bisect_left(knots, (score,))
    if at == 0:
        first_score, first_rate = knots[0]
        return first_rate * score / first_score if first_score > 0 else first_rate
    if at == len(knots):
        return knots[-1][1]
    (s0, r0), (s1, r1) = knots[at - 1], knots[at]
    return r0 + (r1 - r0) * (score - s0) / (s1 - s0) if s1 > s0 else r1


def _valid(knots: list[tuple[float, float]]) -> bool:
    in_range = all(0.0 <= s <= 1.0 and 0.0 <= r <= 1.0 for s, r in knots)
    ordered = all(a[0] <= b[0] and a[1] <= b[1] for a, b in zip(knots, knots[1:]))
    return in_range and ordered


def fit(observed: Sequence[tuple[float, bool]]) -> list[tuple[float, float]]:
    """Knots (mean score, observed rate) of equal-count bins of ``observed`` (score, right),
    pooled until the rates never fall as the score grows (pool adjacent violators)."""
    if len(observed) < MIN_OBSERVED:
        return []
    ordered = sorted(observed)
    bins = min(MAX_KNOTS, max(2, len(ordered) // 40))
    size = len(ordered) / bins
    # each block: [sum of scores, hits, count]
    blocks: list[list[float]] = []
    for number in range(bins):
        part = ordered[round(number * size) : round((number + 1) * size)]
        if part:
            blocks.append([sum(s for s, _ in part), sum(1 for _, r in part if r), len(part)])
            while len(blocks) > 1 and _rate(blocks[-2]) >= _rate(blocks[-1]):
                last = blocks.pop()
                for i in range(3):
                    blocks[-1][i] += last[i]
    # half a hit and half a miss more: no bin of a few dozen guesses says never, or always
    return [(total / count, (hits + 0.5) / (count + 1)) for total, hits, count in blocks]


def _rate(block: list[float]) -> float:
    return (block[1] + 0.5) / (block[2] + 1)


def show_level(guesses: Sequence[tuple[float, bool]]) -> float:
    """The lowest ``p`` showing which the empty-line ``guesses`` (p, right) shown would have
    been right at least ``SHOWN_RIGHT`` of the time; ``NEVER`` when no level would."""
    if len(guesses) < MIN_OBSERVED:
        return DEFAULT_SHOW_LEVEL
    ordered = sorted(guesses, key=lambda guess: -guess[0])
    level = NEVER
    hits = 0
    for shown, (p, right) in enumerate(ordered, 1):
        hits += right
        # Guesses as sure as each other are shown together (the shells compare p with the
        # level), so a level is judged on all of them, never on the first few of a tie: the
        # flat top of the map gives many guesses one p.
        tied = shown < len(ordered) and ordered[shown][0] == p
        # a handful of lucky guesses at the top says little: at least 5 shown, and right half
        # the time even by the rate's lower bound (the replay only approximates the predictor)
        if not tied and shown >= 5 and _lower_bound(hits, shown) >= SHOWN_RIGHT and p > 0:
            level = p
    return level


def _lower_bound(hits: int, count: int, z: float = SHOWN_Z) -> float:
    """The Wilson score interval's lower end of a rate of ``hits`` in ``count``."""
    rate, z2 = hits / count, z * z / count
    centre = rate + z2 / 2
    margin = z * math.sqrt(rate * (1 - rate) / count + z2 / (4 * count))
    return (centre - margin) / (1 + z2)

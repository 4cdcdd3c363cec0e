"""The partial ghost: the likely start of the next command when no whole line is likely enough.

Several candidates often share a start the user is sure to type (``git commit -m "``) while
each whole line (``git commit -m "fix x"``, ``... "wip"``) is a long shot. The candidates are
different lines, so the chance the line run starts with a given text is the sum of theirs.
Summing ``p`` would add up the map's errors at its low end, so the start is read as one
candidate holding its lines' scores, through the same calibration map (``Calibration.p``):
its ``p`` is calibrated as any suggestion's is, and ``evaluate`` checks it apart.

Among the starts cut at a sensible boundary (after a word and its space, after an opening
quote, after ``--option=``, after a folder of a path) and shared by several lines, the one
worth the most keystrokes on average (its ``p`` times what taking it saves) is offered before
the whole lines when it is worth more than the best of them and likelier than it.

A package of its own, not a module beside the predictor: model/query holds its dozen.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from itertools import compress, repeat
from operator import itemgetter

TYPE_CHECKING = False  # as typing.TYPE_CHECKING: typing stays off the keystroke path

# Only the best candidates are summed: the many small ones add little to a start's p and
# would make every keystroke pay for them.
CANDIDATES = 16
# Starts are cut from the best few lines only (each then summed over all the candidates): a
# start none of them has holds too little of the answer to beat its best line.
SEEDS = 3
# A start must stand for at least this many different lines ("several candidates share").
MIN_LINES = 2
# Keys a ghost costs to take (the accept key); a start saving no more is never offered.
ACCEPT_KEYS = 1
# A start is never surer than this: the candidates' p are estimates, and they are summed.
MAX_P = 0.99
_QUOTES = "\"'"
_CUT_AFTER = " \"'/="
_SCORE = itemgetter(1)
_TEXT = itemgetter(0)

__all__ = ["ACCEPT_KEYS", "PartialGhost", "boundaries", "likeliest_start", "partial_ghost",
           "with_partial"]


class PartialGhost:
    """A start shared by the candidates ``lines``: ``p``, the chance the line run starts with
    it, and ``score``, their scores summed (at most 1)."""

    __slots__ = ("lines", "p", "score", "text")

    def __init__(self, text: str, p: float, score: float, lines: tuple[str, ...] = ()) -> None:
        self.text, self.p, self.score, self.lines = text, p, score, lines


def boundaries(line: str, start: int) -> list[int]:
    """The places after ``start`` where ``line`` may be cut for a partial ghost (each the length
    of the start kept): after the space ending a word, after a quote opening an argument, after
    the ``=`` of a ``--option=``, after a folder of a path; never at the line's end."""
    cuts = _CUTS.get(line)
    if cuts is None:
        # The best lines of one keystroke are mostly the next one's: each is cut once.
        if len(_CUTS) >= CUTS_KEPT:
            del _CUTS[next(iter(_CUTS))]
        cuts = _CUTS[line] = _all_cuts(line)
    return [cut for cut in cuts if cut >= start]


# Lines whose places to cut are kept (the oldest read goes first): a few keystrokes' seeds.
CUTS_KEPT = 32
_CUTS: dict[str, tuple[int, ...]] = {}


def _all_cuts(line: str) -> tuple[int, ...]:
    cuts: list[int] = []
    end = len(line) - 1
    for char in _CUT_AFTER:
        # str.find, not a loop over every character: this runs on every keystroke
        at = line.find(char)
        while 0 <= at < end:
            if _fits(line, at, char):
                cuts.append(at + 1)
            at = line.find(char, at + 1)
    cuts.sort()
    return tuple(cuts)


def _fits(line: str, at: int, char: str) -> bool:
    """Whether ``line`` may be cut after its ``char`` at ``at`` (not its last character)."""
    after = line[at + 1]
    before = line[at - 1] if at else ""
    if char == " ":
        return before not in ("", " ") and after != " "
    if char in _QUOTES:  # opening: the quote starts an argument (after a space or an =)
        return before in (" ", "=") and after != char
    if char == "/":  # a folder of a path argument (not the root alone, not the path's end)
        return after not in " /" and before not in ("", " ", "/")
    # "=": of an option (--option=), its first
    word = line.rfind(" ", 0, at) + 1
    return after != " " and line.startswith("-", word) and "=" not in line[word:at]


def gain(text: str, prefix: str) -> int:
    """Keystrokes taking ``text`` as a ghost saves once ``prefix`` is typed."""
    return len(text) - len(prefix) - ACCEPT_KEYS


def partial_ghost(
    prefix: str,
    scores: Mapping[str, float],
    chance: Callable[[float], float],
    best: tuple[str, float] | None,
    plausible: Callable[[str], bool] | None = None,
    ranked: list[tuple[str, float]] | None = None,
) -> PartialGhost | None:
    """The start of the candidates ``scores`` (text: score) worth offering before the best whole
    line ``best`` (its text and p), or None. ``chance`` is a start's p from its summed score
    (``Calibration.p_start`` as the predictor reads it). A start is worth offering when, on
    average, it saves more keystrokes than the best line (its p times what it saves, against
    the line's) and is likelier; and when ``plausible`` is given (the path check), only a
    start it accepts. ``ranked``: the best ``CANDIDATES`` of ``scores`` at least, best first,
    when the caller has them (the predictor ranks them anyway)."""
    if len(scores) < MIN_LINES:
        return None
    if ranked is None:
        top = heapq.nlargest(CANDIDATES, scores.items(), key=_SCORE)
    else:
        top = ranked[:CANDIDATES]
    if plausible is not None:  # a line the path check refuses is not one the user will run here
        if best is not None and _cannot_win(prefix, top, chance, best):
            return None  # known before any path of the lines is read
        top = [(text, score) for text, score in top if plausible(text)]
    best_p, best_value = 0.0, 0.0
    if best is not None:
        # The best line is a start too, of every line it begins (``git commit -m fix`` of
        # ``git commit -m fix!``): a shorter start of the same lines saves less.
        covered = sum(score for text, score in top if score > 0 and text.startswith(best[0]))
        best_p = max(best[1], min(MAX_P, chance(covered)))
        best_value = best_p * gain(best[0], prefix)
    # No start is likelier than all of them together, nor saves more than the longest: when
    # even that would not beat the best line, no line need be cut (most keystrokes end here).
    most = min(MAX_P, chance(sum(score for _, score in top if score > 0)))
    # a start is cut from one (none: the path check refused them all)
    longest = max((gain(text, prefix) for text, _ in top[:SEEDS]), default=0)
    if most <= best_p or most * longest <= best_value:
        return None
    shared = _starts(prefix, top)
    worth: list[tuple[float, str, PartialGhost]] = []
    for text, (score, lines) in shared.items():
        if lines < MIN_LINES or text in scores:
            continue
        # the start read as one candidate holding its lines' scores, through its own map
        p = min(MAX_P, chance(score))
        value = p * gain(text, prefix)
        if p > best_p and value > best_value:
            worth.append((-value, text, PartialGhost(text, p, min(1.0, score))))
    for _, text, ghost in sorted(worth, key=lambda item: item[:2]):
        if plausible is None or plausible(text):
            return ghost
    return None


def _cannot_win(prefix: str, top: list[tuple[str, float]], chance: Callable[[float], float],
                best: tuple[str, float]) -> bool:
    """Whether no start of ``top`` could beat ``best`` even if every line passed the path
    check: the check only takes lines away, which lowers what a start may be worth and
    raises nothing the best line is weighed by (its own p and what it saves)."""
    saves = gain(best[0], prefix)
    most = min(MAX_P, chance(sum(score for _, score in top if score > 0)))
    longest = max(map(len, map(_TEXT, top)), default=0) - len(prefix) - ACCEPT_KEYS  # in C
    return most <= best[1] or (saves >= 0 and longest >= 0 and most * longest <= best[1] * saves)


def likeliest_start(prefix: str, shares: Mapping[str, float]) -> tuple[str, float] | None:
    """The start of the candidates ``shares`` (text: score as a share of the best few) that
    training notes for the starts' own calibration map (``training.calibrating``): shared by
    several lines, the one whose summed share times what it saves is largest."""
    top = heapq.nlargest(CANDIDATES, shares.items(), key=_SCORE)
    chosen: tuple[str, float] | None = None
    chosen_value = 0.0
    for text, (share, lines) in _starts(prefix, top).items():
        value = share * gain(text, prefix)
        if lines >= MIN_LINES and value > chosen_value and text not in shares:
            chosen, chosen_value = (text, share), value
    return chosen


def _starts(prefix: str, top: list[tuple[str, float]]) -> dict[str, list[float]]:
    """The starts past ``prefix`` of the best ``SEEDS`` lines of ``top`` (best first), cut at a
    boundary and shared by at least ``MIN_LINES`` lines of ``top``: the scores of the lines
    they start, summed, and how many lines."""
    texts: list[str] = []
    scores: list[float] = []
    for text, score in top:
        if score > 0 and text.startswith(prefix):
            texts.append(text)
            scores.append(score)
    shared: dict[str, list[float]] = {}
    first = len(prefix) + 1
    for seed in texts[:SEEDS]:
        for cut in boundaries(seed, first):
            start = seed[:cut]
            if start in shared:
                continue
            # the lines it starts, matched in C (this runs on every keystroke)
            found = list(compress(scores, map(str.startswith, texts, repeat(start))))
            if len(found) < MIN_LINES:
                break  # a seed's later starts are longer: they start fewer lines still
            shared[start] = [sum(found), float(len(found))]
    return shared


if TYPE_CHECKING:
    from typing import Protocol, TypeVar

    class _Line(Protocol):
        """A suggestion as the predictor makes them (``predictor.Suggestion``)."""

        @property
        def text(self) -> str: ...

        @property
        def p(self) -> float: ...

        def _replace(self: _L, *, text: str = ..., score: float = ..., p: float = ...,
                     partial: bool = ...) -> _L: ...

    _L = TypeVar("_L", bound=_Line)


def with_partial(
    prefix: str,
    scores: Mapping[str, float],
    chance: Callable[[float], float],
    found: list[_L],
    explained: dict[str, dict[str, float]] | None = None,
    plausible: Callable[[str], bool] | None = None,
    ranked: list[tuple[str, float]] | None = None,
) -> list[_L]:
    """``found`` (the best whole lines, best first) with the partial ghost worth offering put
    before them, if there is one. ``explained`` (each candidate's score parts) then gets the
    partial's: its lines' parts summed, scaled as its score is (capped at 1). ``ranked``: as
    ``partial_ghost`` takes it."""
    if not found:
        return found
    ghost = partial_ghost(prefix, scores, chance, (found[0].text, found[0].p), plausible,
                          ranked)
    if ghost is None:
        return found
    if explained is not None:
        top = heapq.nlargest(CANDIDATES, scores.items(), key=_SCORE)
        ghost.lines = tuple(line for line, score in top
                            if score > 0 and line.startswith(ghost.text))
        parts: dict[str, float] = {}
        for line in ghost.lines:
            for name, value in explained.get(line, {}).items():
                parts[name] = parts.get(name, 0.0) + value
        total = sum(scores[line] for line in ghost.lines)
        scale = ghost.score / total if total > 0 else 0.0
        explained[ghost.text] = {name: value * scale for name, value in parts.items()}
    return [found[0]._replace(text=ghost.text, score=ghost.score, p=ghost.p, partial=True),
            *found]

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
from typing import Protocol, TypeVar

# Only the best candidates are summed: the many small ones add little to a start's p and
# would make every keystroke pay for them.
CANDIDATES = 48
# A start must stand for at least this many different lines ("several candidates share").
MIN_LINES = 2
# Keys a ghost costs to take (the accept key); a start saving no more is never offered.
ACCEPT_KEYS = 1
# A start is never surer than this: the candidates' p are estimates, and they are summed.
MAX_P = 0.99
_QUOTES = "\"'"

__all__ = ["ACCEPT_KEYS", "PartialGhost", "boundaries", "partial_ghost", "with_partial"]


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
    cuts: list[int] = []
    end = len(line)
    for at in range(max(start, 1), end):
        char = line[at - 1]
        if char == " ":
            if line[at - 2 : at - 1] not in ("", " ") and line[at] != " ":
                cuts.append(at)
        elif char in _QUOTES:
            # opening: the quote starts an argument (after a space or an =)
            if at >= 2 and line[at - 2] in " =" and line[at] != char:
                cuts.append(at)
        elif char == "/":
            # a folder of a path argument (not the root alone, not the path's end)
            if line[at] not in " /" and line[at - 2 : at - 1] not in ("", " ", "/"):
                cuts.append(at)
        elif char == "=" and line[at] != " ":
            word = line.rfind(" ", 0, at) + 1
            if line.startswith("-", word) and "=" not in line[word : at - 1]:
                cuts.append(at)
    return cuts


def gain(text: str, prefix: str) -> int:
    """Keystrokes taking ``text`` as a ghost saves once ``prefix`` is typed."""
    return len(text) - len(prefix) - ACCEPT_KEYS


def partial_ghost(
    prefix: str,
    scores: Mapping[str, float],
    chance: Callable[[float], float],
    best: tuple[str, float] | None,
    plausible: Callable[[str], bool] | None = None,
) -> PartialGhost | None:
    """The start of the candidates ``scores`` (text: score) worth offering before the best whole
    line ``best`` (its text and p), or None. ``chance`` is a score's p (``Calibration.p`` as the
    predictor reads it). A start is worth offering when, on average, it saves more keystrokes
    than the best line (its p times what it saves, against the line's) and is likelier; and
    when ``plausible`` is given (the path check), only a start it accepts."""
    if len(scores) < MIN_LINES:
        return None
    top = heapq.nlargest(CANDIDATES, scores.items(), key=lambda item: item[1])
    shared: dict[str, list[float]] = {}  # start: [score summed, lines]
    start = len(prefix)
    for text, score in top:
        if score <= 0:
            break
        if not text.startswith(prefix):
            continue
        for cut in boundaries(text, start + 1):
            entry = shared.get(text[:cut])
            if entry is None:
                shared[text[:cut]] = [score, 1.0]
            else:
                entry[0] += score
                entry[1] += 1
    best_p, best_value = 0.0, 0.0
    if best is not None:
        best_p = best[1]
        best_value = best_p * gain(best[0], prefix)
    worth: list[tuple[float, str, PartialGhost]] = []
    for text, (score, lines) in shared.items():
        if lines < MIN_LINES or text in scores:
            continue
        # the start read as one candidate holding its lines' scores, through the same map
        p = min(MAX_P, chance(score))
        value = p * gain(text, prefix)
        if p > best_p and value > best_value:
            worth.append((-value, text, PartialGhost(text, p, min(1.0, score))))
    for _, text, ghost in sorted(worth, key=lambda item: item[:2]):
        if plausible is None or plausible(text):
            ghost.lines = tuple(line for line, score in top if score > 0
                                and line.startswith(text))
            return ghost
    return None


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
) -> list[_L]:
    """``found`` (the best whole lines, best first) with the partial ghost worth offering put
    before them, if there is one. ``explained`` (each candidate's score parts) then gets the
    partial's: its lines' parts summed, scaled as its score is (capped at 1)."""
    if not found:
        return found
    ghost = partial_ghost(prefix, scores, chance, (found[0].text, found[0].p), plausible)
    if ghost is None:
        return found
    if explained is not None:
        parts: dict[str, float] = {}
        for line in ghost.lines:
            for name, value in explained.get(line, {}).items():
                parts[name] = parts.get(name, 0.0) + value
        total = sum(scores[line] for line in ghost.lines)
        scale = ghost.score / total if total > 0 else 0.0
        explained[ghost.text] = {name: value * scale for name, value in parts.items()}
    return [found[0]._replace(text=ghost.text, score=ghost.score, p=ghost.p, partial=True),
            *found]

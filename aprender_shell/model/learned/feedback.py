"""What the user did with the suggestions the shells showed: per-command counts and per-day sums.

The shells tell the server, once per command line, how many suggestions they showed, which one
was taken (whole or a word of it), which were typed over, how many characters taking saved and
whether the line run was one shown (``feedback`` requests, PROTOCOL.md). Kept here:

- per learned command, how often it was accepted and ignored (only commands the model already
  learned: feedback never brings in text of its own); ``feedback_factor`` turns them into the
  small gain or loss the predictor multiplies a score by;
- per day, the sums ``stats`` shows as "what it saved you" (shown, accepted, saved keystrokes,
  lines it got right, and commands recorded).

The file (``model.apbundle.feedback`` beside the model, mode 0600) is one JSON object, replaced
atomically. The server owns it while it runs (as it owns the journal): it saves it with the
journal, and ``forget`` goes through it; with no server, ``forget`` rewrites it under the
model's writer lock. Folds and retrains replace the model and the journal, never this file, so
the counts outlive them. It is bounded: the most used ``MAX_COMMANDS`` commands and the last
``MAX_DAYS`` days are kept.

Version history (``FEEDBACK_VERSION``): 1 = the first.
"""

from __future__ import annotations

import os
import time

from aprender_shell.bundle.jsontext import loads
from aprender_shell.errors import AprenderError
from aprender_shell.fileio import FileTooLargeError, atomic_write_bytes, read_regular
from aprender_shell.model.tuples import NamedTuple

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path
    from typing import TypeGuard  # Python 3.10; only read by the type checker

FEEDBACK_VERSION = 1
MAX_COMMANDS = 5000
MAX_DAYS = 400
MAX_FILE_BYTES = 4 * 1024 * 1024
# A command taken every time it is shown gains at most this share, one always typed over loses
# at most as much: feedback tips close calls, it does not outweigh what the history says.
MAX_SWING = 0.2
# The per-day sums, in the order the file and ``stats`` list them.
DAY_FIELDS = ("shown", "accepted", "saved", "right", "commands")

__all__ = [
    "DAY_FIELDS", "FEEDBACK_VERSION", "Feedback", "FeedbackError", "LineFeedback",
    "feedback_file", "feedback_path", "today",
]


class FeedbackError(AprenderError):
    """A feedback file that cannot be read."""


def feedback_path(model_path: str | os.PathLike[str]) -> Path:
    """The feedback file of the model at ``model_path``."""
    from pathlib import Path  # not on the query path, which reads feedback_file

    return Path(feedback_file(model_path))


def feedback_file(model_path: str | os.PathLike[str]) -> str:
    """The feedback file of the model at ``model_path``, as a plain string."""
    return os.fspath(model_path) + ".feedback"


def today(now: float | None = None) -> str:
    """The local date ``now`` (default: now) falls on, as the file keys days: ``2026-12-07``."""
    return time.strftime("%Y-%m-%d", time.localtime(now))


# Plain classes, not dataclasses: this module is on the cold ``suggest`` path, which must not
# import dataclasses and inspect (tests/cli: test_a_cold_suggest_imports_none_of_the_heavy_...).
class LineFeedback(NamedTuple):
    """What happened to the suggestions shown on one command line."""

    shown: int = 0
    saved: int = 0
    right: bool = False
    accepted: str | None = None
    ignored: tuple[str, ...] = ()


class Feedback:
    """The feedback of one model, read from its file and saved back by ``save``."""

    def __init__(
        self,
        path: str,
        commands: dict[str, list[int]] | None = None,
        days: dict[str, dict[str, int]] | None = None,
        problem: str | None = None,
    ) -> None:
        self.path = path
        self.commands = commands if commands is not None else {}  # text: [accepted, ignored]
        self.days = days if days is not None else {}
        self.dirty = False
        # Why the file could not be read (then it is never written over either), or None.
        self.problem = problem

    @classmethod
    def load(cls, model_path: str | os.PathLike[str]) -> Feedback:
        """The feedback beside the model at ``model_path`` (empty when there is none yet)."""
        path = feedback_file(model_path)
        try:
            data = read_regular(path, MAX_FILE_BYTES, "feedback file")
        except FileNotFoundError:
            return cls(path)
        except FileTooLargeError as error:
            raise FeedbackError(f"{error}: delete it to start counting again") from None
        except OSError as error:
            raise FeedbackError(f"cannot read {path}: {error.strerror or error}") from None
        return cls(path, *_decode(path, data))

    @classmethod
    def beside(cls, model_path: str | os.PathLike[str]) -> Feedback:
        """As ``load``, but a file that cannot be read gives empty counts that are never saved
        (a suggestion must not fail for it), with the reason in ``problem``."""
        try:
            return cls.load(model_path)
        except AprenderError as error:
            return cls(feedback_file(model_path), problem=str(error))

    def feedback_factor(self, command: str) -> float:
        """What a score of ``command`` is multiplied by: above 1 when the user tends to take it,
        below when they type over it, 1.0 when nothing is known."""
        counts = self.commands.get(command)
        if counts is None:
            return 1.0
        accepted, ignored = counts
        # Laplace-smoothed share taken: one answer either way moves it only a little.
        share = (accepted + 1) / (accepted + ignored + 2)
        return 1.0 + MAX_SWING * (2 * share - 1)

    def weigh(self, scores: dict[str, float]) -> dict[str, float]:
        """``scores`` with each multiplied by its ``feedback_factor`` (the same dict when no
        feedback is known, so a keystroke pays nothing for it then)."""
        if not self.commands:
            return scores
        factor = self.feedback_factor
        return {text: value * factor(text) for text, value in scores.items()}

    def note(
        self, line: LineFeedback, known: Callable[[str], bool], now: float | None = None
    ) -> None:
        """Count what happened on one line; only commands ``known`` accepts are counted per
        command (text the model never learned is not stored)."""
        day = self._day(now)
        day["shown"] += line.shown
        day["saved"] += line.saved
        if line.right:
            day["right"] += 1
        if line.accepted is not None:
            day["accepted"] += 1
            if known(line.accepted):
                self.commands.setdefault(line.accepted, [0, 0])[0] += 1
        for text in dict.fromkeys(line.ignored):
            if text != line.accepted and known(text):
                self.commands.setdefault(text, [0, 0])[1] += 1
        self._bound()
        self.dirty = True

    def count_command(self, now: float | None = None) -> None:
        """Count one command recorded today (the share it got right is of these)."""
        self._day(now)["commands"] += 1
        self.dirty = True

    def forget(self, matches: Callable[[str], bool]) -> int:
        """Drop the counts of the commands ``matches`` accepts; returns how many."""
        gone = [text for text in self.commands if matches(text)]
        for text in gone:
            del self.commands[text]
        if gone:
            self.dirty = True
        return len(gone)

    def save(self) -> None:
        """Write the file (atomically, 0600) when something changed since it was read."""
        if self.problem is not None:
            self.dirty = False  # counted in memory only: the file is not ours to replace
        if not self.dirty:
            return
        data = {
            "feedback": FEEDBACK_VERSION,
            "commands": [[text, *counts] for text, counts in self.commands.items()],
            "days": {day: [sums[name] for name in DAY_FIELDS] for day, sums in self.days.items()},
        }
        import json  # a writer's: reading decodes without the json package

        try:
            atomic_write_bytes(self.path, json.dumps(data, ensure_ascii=False).encode("utf-8"))
        except OSError as error:  # one line, as the journal's: what, where and why
            raise FeedbackError(
                f"could not save the feedback counts to {self.path}: {error.strerror or error}"
            ) from None
        self.dirty = False

    def last_days(self, count: int, now: float | None = None) -> list[tuple[str, dict[str, int]]]:
        """The ``count`` days up to today, oldest first, each with its sums (zero when none)."""
        stamp = time.time() if now is None else now
        dates = [today(stamp - 86400 * back) for back in range(count - 1, -1, -1)]
        return [(date, self.days.get(date, dict.fromkeys(DAY_FIELDS, 0))) for date in dates]

    def _day(self, now: float | None) -> dict[str, int]:
        return self.days.setdefault(today(now), dict.fromkeys(DAY_FIELDS, 0))

    def _bound(self) -> None:
        if len(self.commands) > MAX_COMMANDS:
            ranked = sorted(self.commands.items(), key=lambda item: -sum(item[1]))
            self.commands = dict(ranked[:MAX_COMMANDS])
        if len(self.days) > MAX_DAYS:
            self.days = dict(sorted(self.days.items())[-MAX_DAYS:])


def _decode(path: str, data: bytes) -> tuple[dict[str, list[int]], dict[str, dict[str, int]]]:
    try:
        found = loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise FeedbackError(f"{path} is not a feedback file: delete it to start again") from None
    if not isinstance(found, dict) or not isinstance(found.get("feedback"), int):
        raise FeedbackError(f"{path} is not a feedback file: delete it to start again")
    if found["feedback"] > FEEDBACK_VERSION:
        raise FeedbackError(
            f"{path} was written by a newer aprender-shell (version {found['feedback']}): "
            "upgrade aprender-shell"
        )
    commands: dict[str, list[int]] = {}
    for row in _rows(found.get("commands")):
        text, accepted, ignored = row
        if isinstance(text, str) and _count(accepted) and _count(ignored):
            commands[text] = [accepted, ignored]
    days: dict[str, dict[str, int]] = {}
    stored = found.get("days")
    for day, sums in (stored.items() if isinstance(stored, dict) else ()):
        if isinstance(sums, list) and len(sums) == len(DAY_FIELDS) and all(map(_count, sums)):
            days[str(day)] = dict(zip(DAY_FIELDS, sums))
    return commands, days


def _rows(value: object) -> Iterable[list[object]]:
    if not isinstance(value, list):
        return ()
    return (row for row in value if isinstance(row, list) and len(row) == 3)


def _count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0

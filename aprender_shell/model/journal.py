"""What the model learns after training: an in-memory overlay, persisted as a journal.

Commands recorded by the shell hook (or ``suggest --batch``) are learned at once into the
overlay, which the predictor merges with the trained bundle. ``save`` rewrites the journal
file next to the model atomically. Journal lines carry the model's generation, so lines
written for a model that has since been retrained are ignored instead of counted twice.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import math
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from aprender_shell.fileio import atomic_write_bytes
from aprender_shell.history.tokens import tokenize
from aprender_shell.model import scoring
from aprender_shell.model.segments import CommandStats

# The overlay is a bounded cache of recent learning; 'aprender-shell update' folds it into
# the bundle. Past this many distinct commands, the least recently used are forgotten.
MAX_LEARNED_COMMANDS = 20_000
MAX_JOURNAL_LINES = 100_000


def journal_path(model_path: Path) -> Path:
    return model_path.with_name(model_path.name + ".journal")


class _Learned:
    __slots__ = ("count", "last", "short", "long", "at")

    def __init__(self) -> None:
        self.count = 0
        self.last = 0
        self.short = 0.0
        self.long = 0.0
        self.at = 0


class Overlay:
    """Commands learned since training, with decayed weights on the model's clock."""

    def __init__(self, clock: int) -> None:
        self.clock = clock
        self._learned: dict[str, _Learned] = {}
        self._sorted: list[str] = []
        self._transitions: dict[str, Counter[str]] = {}
        self._cwds: dict[str, Counter[str]] = {}
        # The last commands run, most recent last, and the tokens of those recently asked for.
        self.recent: deque[str] = deque(maxlen=scoring.RECENT_COMMANDS)
        self._recent_tokens: dict[str, list[str]] = {}

    def __len__(self) -> int:
        return len(self._learned)

    def learn(self, command: str, previous: str | None, cwd: str | None) -> None:
        self.clock += 1
        learned = self._learned.get(command)
        if learned is None:
            if len(self._learned) >= MAX_LEARNED_COMMANDS:
                self._forget_oldest()
            learned = self._learned[command] = _Learned()
            bisect.insort(self._sorted, command)
        self._decay_to_now(learned)
        learned.count += 1
        learned.last = self.clock - 1
        learned.short += 1.0
        learned.long += 1.0
        if previous is not None:
            self._transitions.setdefault(previous, Counter())[command] += 1
        if cwd:
            self._cwds.setdefault(cwd, Counter())[command] += 1
        if len(command) <= scoring.RECENT_COMMAND_CHARS:
            self.recent.append(command)

    def recent_tokens(self) -> list[list[str]]:
        """The tokens of each of the last commands run, most recent first."""
        cache = self._recent_tokens
        if len(cache) > 2 * scoring.RECENT_COMMANDS:
            kept = set(self.recent)
            for text in [text for text in cache if text not in kept]:
                del cache[text]
        found = []
        for text in reversed(self.recent):
            tokens = cache.get(text)
            if tokens is None:
                tokens = cache[text] = tokenize(text)
            found.append(tokens)
        return found

    def _decay_to_now(self, learned: _Learned) -> None:
        steps = self.clock - learned.at
        if steps:
            learned.short *= math.exp(-steps / scoring.TAU_SHORT)
            learned.long *= math.exp(-steps / scoring.TAU_LONG)
            learned.at = self.clock

    def _forget_oldest(self) -> None:
        oldest = min(self._learned, key=lambda text: self._learned[text].last)
        del self._learned[oldest]
        index = bisect.bisect_left(self._sorted, oldest)
        del self._sorted[index]

    def stats(self, command: str) -> CommandStats | None:
        """The command's learned statistics, weights decayed to the current clock."""
        learned = self._learned.get(command)
        if learned is None:
            return None
        steps = self.clock - learned.at
        return CommandStats(
            learned.count,
            learned.last,
            learned.short * math.exp(-steps / scoring.TAU_SHORT),
            learned.long * math.exp(-steps / scoring.TAU_LONG),
        )

    def matching(self, prefix: str) -> Iterator[str]:
        index = bisect.bisect_left(self._sorted, prefix)
        while index < len(self._sorted) and self._sorted[index].startswith(prefix):
            yield self._sorted[index]
            index += 1

    def transitions(self, previous: str) -> Counter[str]:
        return self._transitions.get(previous, Counter())

    def in_directory(self, cwd: str) -> Counter[str]:
        return self._cwds.get(cwd, Counter())


class Journal:
    """The recorded commands of one model generation, kept in a file beside the model."""

    def __init__(self, model_path: Path, generation: str) -> None:
        self.path = journal_path(model_path)
        self.generation = generation
        self._pending: list[dict[str, Any]] = []

    def load(self) -> list[dict[str, Any]]:
        """Recorded lines of this generation; torn or foreign lines are skipped."""
        lines: list[dict[str, Any]] = []
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 - closed below; may not exist
        except (FileNotFoundError, PermissionError, IsADirectoryError):
            return lines
        with handle:
            for raw in handle:
                try:
                    line = json.loads(raw)
                except ValueError:
                    continue
                if (
                    isinstance(line, dict)
                    and line.get("g") == self.generation
                    and isinstance(line.get("c"), str)
                ):
                    lines.append(line)
        return lines

    def add(
        self, command: str, cwd: str | None, exit_status: int | None, previous: str | None
    ) -> None:
        self._pending.append(
            {
                "g": self.generation,
                "c": command,
                "cwd": cwd,
                "exit": exit_status,
                "prev": previous,
                "t": int(time.time()),
            }
        )

    @property
    def dirty(self) -> bool:
        return bool(self._pending)

    def save(self) -> None:
        if not self._pending:
            return
        lines = self.load() + self._pending
        lines = lines[-MAX_JOURNAL_LINES:]
        payload = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
        atomic_write_bytes(self.path, payload.encode("utf-8", "surrogatepass"))
        self._pending.clear()

    def clear(self) -> None:
        self._pending.clear()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def replay(overlay: Overlay, lines: Sequence[dict[str, Any]]) -> None:
    """Learn journal lines into ``overlay`` in the order they were recorded."""
    for line in lines:
        previous = line.get("prev")
        cwd = line.get("cwd")
        overlay.learn(
            line["c"],
            previous if isinstance(previous, str) else None,
            cwd if isinstance(cwd, str) else None,
        )


def _journal_lines(path: Path) -> list[dict[str, Any]]:
    """Every readable record line of the journal at ``path``, whatever its generation."""
    lines: list[dict[str, Any]] = []
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below; may not exist
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        return lines
    with handle:
        for raw in handle:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if isinstance(line, dict) and isinstance(line.get("c"), str):
                lines.append(line)
    return lines


def read_journal_commands(model_path: Path) -> list[str]:
    """The commands recorded in the journal beside ``model_path``, oldest first."""
    return [str(line["c"]) for line in _journal_lines(journal_path(model_path))]


def remove_from_journal(model_path: Path, matches: Callable[[str], bool]) -> int:
    """Rewrite the journal beside ``model_path`` without the commands ``matches`` accepts (and
    without them as another record's previous command); returns how many records went.

    Torn or unreadable lines go too: they cannot be checked.
    """
    path = journal_path(model_path)
    if not path.exists():
        return 0
    kept = []
    removed = 0
    for line in _journal_lines(path):
        if matches(line["c"]):
            removed += 1
            continue
        previous = line.get("prev")
        if isinstance(previous, str) and matches(previous):
            line["prev"] = None
        kept.append(line)
    payload = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in kept)
    atomic_write_bytes(path, payload.encode("utf-8", "surrogatepass"))
    return removed

"""zsh-autosuggestions' two history strategies, reproduced to compare the model against.

Both follow ``src/strategies/history.zsh`` and ``match_prev_cmd.zsh`` of zsh-autosuggestions:

- ``history``: ``${history[(r)$prefix*]}``, the most recent history event starting with the
  buffer. ``$history`` holds every event, duplicates included, newest first.
- ``match_prev_cmd``: of the first 200 events matching the buffer (newest first, duplicates
  counted), the newest whose preceding event equals the command just run; else the newest match.

An empty buffer gets no suggestion (``_zsh_autosuggest_suggest`` shows one only when
``$#BUFFER`` is non-zero). zsh shows one suggestion; for ``k > 1`` the rest are the next most
recent distinct matches, so Hit@5 can be measured. Scores are ``1 / rank``.

Queries never scan the whole history: distinct commands are kept sorted, so the commands
starting with a prefix are one range found by binary search, and each query costs at most a
few times the size of that range (usually far less: a backward scan stops at ``k`` matches).
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Sequence

from aprender_shell.model.query.predictor import Suggestion

# ZSH_AUTOSUGGEST strategy match_prev_cmd: `for key in "${(@)history_match_keys[1,200]}"`.
MATCH_PREV_WINDOW = 200
# Below this many distinct matching commands, ranking the range directly is cheapest.
_SMALL_RANGE = 32


class HistoryStrategy:
    """``ZSH_AUTOSUGGEST_STRATEGY=(history)``: the most recent command starting with the buffer."""

    name = "history"

    def __init__(self, commands: Iterable[str] = ()) -> None:
        self._commands: list[str] = []
        self._last_use: dict[str, int] = {}
        self._sorted: list[str] = []
        for command in commands:
            self._append(command)
        self._sorted = sorted(self._last_use)

    def __len__(self) -> int:
        return len(self._commands)

    def suggest(
        self, prefix: str, k: int = 5, prev: Sequence[str] = (), cwd: str | None = None
    ) -> list[Suggestion]:
        """Up to ``k`` distinct commands starting with ``prefix``, most recently run first."""
        if not prefix or k <= 0:
            return []
        return _ranked(self._most_recent(prefix, k))

    def record(
        self,
        command: str,
        cwd: str | None = None,
        exit_status: int | None = None,
        prev: Sequence[str] = (),
    ) -> None:
        """Append ``command`` to the history, as zsh does once it has run."""
        if not command:
            return
        if command not in self._last_use:
            insort(self._sorted, command)
        self._append(command)

    def _append(self, command: str) -> None:
        self._last_use[command] = len(self._commands)
        self._commands.append(command)

    def _range(self, prefix: str) -> tuple[int, int]:
        """The slice of the sorted distinct commands that start with ``prefix``."""
        items = self._sorted
        low = bisect_left(items, prefix)
        # Commands starting with the prefix are contiguous from ``low``: find where they end.
        lo, hi = low, len(items)
        while lo < hi:
            mid = (lo + hi) // 2
            if items[mid].startswith(prefix):
                lo = mid + 1
            else:
                hi = mid
        return low, lo

    def _most_recent(self, prefix: str, k: int) -> list[str]:
        """The ``k`` most recently used distinct commands starting with ``prefix``."""
        low, high = self._range(prefix)
        size = high - low
        if size > _SMALL_RANGE:
            # Recent history usually holds k matches soon; give up after a range's worth.
            found: list[str] = []
            commands = self._commands
            for position in range(len(commands) - 1, max(-1, len(commands) - 1 - 2 * size), -1):
                command = commands[position]
                if command.startswith(prefix) and command not in found:
                    found.append(command)
                    if len(found) == k:
                        return found
        last_use = self._last_use
        return heapq.nlargest(k, self._sorted[low:high], key=last_use.__getitem__)


class MatchPrevCmdStrategy(HistoryStrategy):
    """``ZSH_AUTOSUGGEST_STRATEGY=(match_prev_cmd)``: prefer what followed the last command."""

    name = "match_prev_cmd"

    def __init__(self, commands: Iterable[str] = ()) -> None:
        self._positions: dict[str, list[int]] = {}
        # For each command, the commands that followed it and the last time each did.
        self._followers: dict[str, dict[str, int]] = {}
        super().__init__(commands)

    def suggest(
        self, prefix: str, k: int = 5, prev: Sequence[str] = (), cwd: str | None = None
    ) -> list[Suggestion]:
        """zsh's choice first, then the next most recent distinct matches.

        The previous command is ``prev[-1]``; without ``prev`` it is the last history entry,
        which is what zsh compares with (``$history[$((HISTCMD-1))]``).
        """
        if not prefix or k <= 0:
            return []
        recent = self._most_recent(prefix, k + 1)
        if not recent:
            return []
        previous = prev[-1] if prev else (self._commands[-1] if self._commands else None)
        chosen = self._after(previous, prefix) if previous is not None else None
        if chosen is None:
            return _ranked(recent[:k])
        return _ranked([chosen] + [command for command in recent if command != chosen][: k - 1])

    def _append(self, command: str) -> None:
        position = len(self._commands)
        if position:
            previous = self._commands[-1]
            self._followers.setdefault(previous, {})[command] = position
        self._positions.setdefault(command, []).append(position)
        super()._append(command)

    def _after(self, previous: str, prefix: str) -> str | None:
        """The newest match that followed ``previous``, if within zsh's 200 newest matches."""
        best = -1
        for command, position in self._followers.get(previous, {}).items():
            if position > best and command.startswith(prefix):
                best = position
        if best < 0 or self._newer_matches(prefix, best) >= MATCH_PREV_WINDOW:
            return None
        return self._commands[best]

    def _newer_matches(self, prefix: str, position: int) -> int:
        """How many history events after ``position`` start with ``prefix`` (counting stops
        at the window size)."""
        commands = self._commands
        low, high = self._range(prefix)
        newer = len(commands) - 1 - position
        count = 0
        if newer <= 4 * (high - low):
            for index in range(position + 1, len(commands)):
                if commands[index].startswith(prefix):
                    count += 1
                    if count >= MATCH_PREV_WINDOW:
                        break
            return count
        last_use = self._last_use
        for command in self._sorted[low:high]:
            if last_use[command] > position:
                positions = self._positions[command]
                count += len(positions) - bisect_right(positions, position)
                if count >= MATCH_PREV_WINDOW:
                    break
        return count


def _ranked(commands: Sequence[str]) -> list[Suggestion]:
    return [Suggestion(command, 1.0 / rank) for rank, command in enumerate(commands, 1)]

"""What the model learned since training, in memory: the overlay the predictor merges.

Every operation is O(1) or O(log n) in the number of learned commands: recency is an ordered
dict (the least recently used first), prefix matching a blocked sorted list whose inserts and
deletes move at most one block. The overlay holds at most ``max_bytes`` (the learned share of
the memory limit, ``MemoryLimit.learned``): past it, the least recently used command,
predecessor or folder is forgotten. The order of forgetting is the bundle cache's contract
(``aprender_shell.bundle.cache``: a policy orders the keys, the holder counts the bytes), as the
paging cache does for segments. The journal keeps every record, so the next compaction (a full
retrain) learns what the overlay forgot.
"""

from __future__ import annotations

import os
import sys
from bisect import bisect_left, insort
from collections import Counter, deque
from collections.abc import Iterator

from aprender_shell.bundle.cache import LRUPolicy
from aprender_shell.history.tokens import tokenize
from aprender_shell.limits import INTERRUPTED, SHELLS
from aprender_shell.model import scoring
from aprender_shell.model.store.segments import CommandStats

# Of the overlay's bytes, what learned commands, transitions and folders may each hold.
COMMAND_SHARE, TRANSITION_SHARE, FOLDER_SHARE = 0.6, 0.25, 0.15
# Per-entry costs beyond the text itself, measured with tracemalloc on CPython 3.11 at the
# worst point of the containers' growth (350, about 400 and 50 bytes) and rounded up
# (tests/model/learned/test_overlay.py checks the limit holds): a dict entry and the recency
# policy's entry with its link, the _Learned record with two floats and its ints, a
# sorted-list slot; a predecessor's (or folder's) Counter, dict and policy entries; one item in
# such a Counter.
COMMAND_COST = 360
COUNTER_COST = 420
ITEM_COST = 80
# Successors kept per predecessor and commands per folder: the rarest give way.
MAX_SUCCESSORS = 32
MAX_PER_FOLDER = 64
_BLOCK = 256


class _SortedTexts:
    """Strings kept sorted in blocks of at most 2 * _BLOCK: insert and delete move one block."""

    def __init__(self) -> None:
        self._blocks: list[list[str]] = []
        self._maxes: list[str] = []

    def add(self, text: str) -> None:
        blocks, maxes = self._blocks, self._maxes
        if not blocks:
            blocks.append([text])
            maxes.append(text)
            return
        number = bisect_left(maxes, text)
        if number == len(maxes):
            number -= 1
            block = blocks[number]
            block.append(text)
            maxes[number] = text
        else:
            block = blocks[number]
            insort(block, text)
        if len(block) > 2 * _BLOCK:
            blocks[number : number + 1] = [block[:_BLOCK], block[_BLOCK:]]
            maxes[number : number + 1] = [block[_BLOCK - 1], block[-1]]

    def remove(self, text: str) -> None:
        number = bisect_left(self._maxes, text)
        block = self._blocks[number]
        position = bisect_left(block, text)
        del block[position]
        if not block:
            del self._blocks[number]
            del self._maxes[number]
        elif position == len(block):
            self._maxes[number] = block[-1]

    def starting_with(self, prefix: str) -> Iterator[str]:
        number = bisect_left(self._maxes, prefix)
        start = bisect_left(self._blocks[number], prefix) if number < len(self._blocks) else 0
        while number < len(self._blocks):
            for text in self._blocks[number][start:]:
                if not text.startswith(prefix):
                    return
                yield text
            number += 1
            start = 0


class _Learned:
    __slots__ = ("count", "last", "short", "long", "at", "runs", "away", "follower")

    def __init__(self) -> None:
        self.count = 0
        self.last = 0
        self.short = 0.0
        self.long = 0.0
        self.at = 0
        # Uses per shell (zsh, bash, fish), then exits 0 and other exits (store/runs.py's
        # RunCounts), and what ran right after it the last time: kept in the learned record,
        # so within the commands' bytes.
        self.runs: list[int] | None = None
        # Uses recorded on other hosts (records other devices synced): one int, no list.
        self.away = 0
        self.follower: str | None = None


class _Counters:
    """Counters per key (predecessor or folder), least recently used first, within bytes."""

    def __init__(self, max_bytes: int, per_key: int) -> None:
        self.max_bytes = max_bytes
        self.per_key = per_key
        self.bytes = 0
        self._counters: dict[str, Counter[str]] = {}
        self._recency = LRUPolicy()

    def __len__(self) -> int:
        return len(self._counters)

    def add(self, key: str, text: str) -> None:
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = Counter()
            self._recency.admit(key)
            self.bytes += COUNTER_COST + sys.getsizeof(key)
        else:
            self._recency.touch(key)
        if text not in counter:
            if len(counter) >= self.per_key:
                rarest = min(counter, key=counter.__getitem__)  # at most per_key items
                del counter[rarest]
                self.bytes -= ITEM_COST + sys.getsizeof(rarest)
            self.bytes += ITEM_COST + sys.getsizeof(text)
        counter[text] += 1
        while self.bytes > self.max_bytes and len(self._counters) > 1:
            self._forget_oldest()

    def _forget_oldest(self) -> None:
        key = self._recency.pop_victim()
        counter = self._counters.pop(key)
        self.bytes -= COUNTER_COST + sys.getsizeof(key)
        self.bytes -= sum(ITEM_COST + sys.getsizeof(text) for text in counter)

    def get(self, key: str) -> Counter[str]:
        return self._counters.get(key) or Counter()


class Overlay:
    """Commands learned since training, with decayed weights on the model's clock."""

    def __init__(self, clock: int, max_bytes: int) -> None:
        self.clock = clock
        self.max_bytes = max_bytes
        self._max_command_bytes = int(max_bytes * COMMAND_SHARE)
        self._command_bytes = 0
        self.forgotten = 0
        # Runs learned from other hosts (synced), forgotten ones included: none, and no command
        # has a host share, so a query need not ask per candidate.
        self.away_runs = 0
        self._learned: dict[str, _Learned] = {}
        self._recency = LRUPolicy()
        self._sorted = _SortedTexts()
        self._transitions = _Counters(int(max_bytes * TRANSITION_SHARE), MAX_SUCCESSORS)
        self._cwds = _Counters(int(max_bytes * FOLDER_SHARE), MAX_PER_FOLDER)
        # The last commands run, most recent last, and the tokens of those recently asked for.
        self.recent: deque[str] = deque(maxlen=scoring.RECENT_COMMANDS)
        self._recent_tokens: dict[str, list[str]] = {}

    def __len__(self) -> int:
        return len(self._learned)

    @property
    def bytes(self) -> int:
        """The overlay's estimated size, kept within ``max_bytes``."""
        return self._command_bytes + self._transitions.bytes + self._cwds.bytes

    def learn(
        self,
        command: str,
        previous: str | None,
        cwd: str | None,
        shell: str | None = None,
        exit_status: int | None = None,
        host: str | None = None,
    ) -> None:
        self.clock += 1
        learned = self._learned.get(command)
        if learned is None:
            learned = self._learned[command] = _Learned()
            self._recency.admit(command)
            self._sorted.add(command)
            self._command_bytes += COMMAND_COST + sys.getsizeof(command)
            while self._command_bytes > self._max_command_bytes and len(self._learned) > 1:
                self._forget_oldest()
        else:
            self._recency.touch(command)
        self._decay_to_now(learned)
        learned.count += 1
        learned.last = self.clock - 1
        learned.short += 1.0
        learned.long += 1.0
        if shell in SHELLS or exit_status is not None:
            runs = learned.runs
            if runs is None:
                runs = learned.runs = [0, 0, 0, 0, 0]
            if shell in SHELLS:
                runs[SHELLS.index(shell)] += 1
            if exit_status is not None and exit_status not in INTERRUPTED:
                runs[3 if exit_status == 0 else 4] += 1
        if host and host != _this_host():
            learned.away += 1
            self.away_runs += 1
        if previous is not None:
            self._transitions.add(previous, command)
            before = self._learned.get(previous)
            if before is not None and len(command) <= scoring.RECENT_COMMAND_CHARS:
                before.follower = command
        if cwd:
            self._cwds.add(cwd, command)
        if len(command) <= scoring.RECENT_COMMAND_CHARS:
            self.recent.append(command)

    def _forget_oldest(self) -> None:
        oldest = self._recency.pop_victim()
        del self._learned[oldest]
        self._sorted.remove(oldest)
        self._command_bytes -= COMMAND_COST + sys.getsizeof(oldest)
        self.forgotten += 1

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
            learned.short *= scoring.decay(steps, scoring.TAU_SHORT)
            learned.long *= scoring.decay(steps, scoring.TAU_LONG)
            learned.at = self.clock

    def stats(self, command: str) -> CommandStats | None:
        """The command's learned statistics, weights decayed to the current clock."""
        learned = self._learned.get(command)
        if learned is None:
            return None
        steps = self.clock - learned.at
        return CommandStats(
            learned.count,
            learned.last,
            learned.short * scoring.decay(steps, scoring.TAU_SHORT),
            learned.long * scoring.decay(steps, scoring.TAU_LONG),
        )

    def most_used(self, limit: int) -> list[tuple[str, int]]:
        """The ``limit`` learned commands with the highest counts (for ``stats``)."""
        import heapq

        best = heapq.nlargest(limit, self._learned.items(), key=lambda item: item[1].count)
        return [(text, learned.count) for text, learned in best]

    def matching(self, prefix: str, limit: int) -> list[str]:
        """The learned commands starting with ``prefix``; when more than ``limit`` do, the
        ``limit`` most recently used of them (a keystroke must not score every command learned
        in weeks of use)."""
        found: list[str] = []
        for text in self._sorted.starting_with(prefix):
            found.append(text)
            if len(found) > limit:
                break
        else:
            return found
        found = []
        for text in self._recency.newest_first():
            if text.startswith(prefix):
                found.append(text)
                if len(found) == limit:
                    break
        return found

    def transitions(self, previous: str) -> Counter[str]:
        return self._transitions.get(previous)

    def in_directory(self, cwd: str) -> Counter[str]:
        return self._cwds.get(cwd)

    def shell_share(self, command: str, shell: str) -> float | None:
        """The share of ``command``'s recorded uses that ran in ``shell`` (None: no shell was
        recorded for it, or ``shell`` is not one this model tells apart)."""
        learned = self._learned.get(command)
        if learned is None or learned.runs is None or shell not in SHELLS:
            return None
        uses = learned.runs
        total = uses[0] + uses[1] + uses[2]
        return uses[SHELLS.index(shell)] / total if total else None

    def host_share(self, command: str) -> float | None:
        """The share of ``command``'s uses that ran on this host (None: all of them did, as
        far as is known)."""
        learned = self._learned.get(command)
        if learned is None or not learned.away:
            return None
        return 1.0 - learned.away / learned.count

    def host_runs(self, command: str) -> tuple[int, int] | None:
        """``command``'s learned uses and how many of them ran on other hosts (None: unknown)."""
        learned = self._learned.get(command)
        return (learned.count, learned.away) if learned is not None else None

    def runs(self, command: str) -> list[int] | None:
        """How ``command``'s learned runs went: uses in zsh, bash and fish, exits 0, other
        exits (None: nothing recorded)."""
        learned = self._learned.get(command)
        return learned.runs if learned is not None else None

    def last_follower(self, previous: str) -> str | None:
        """The command run right after ``previous`` the last time it ran, if recorded."""
        learned = self._learned.get(previous)
        return learned.follower if learned is not None else None


_HOST: list[str] = []


def _this_host() -> str:
    if not _HOST:
        _HOST.append(os.uname().nodename)
    return _HOST[0]

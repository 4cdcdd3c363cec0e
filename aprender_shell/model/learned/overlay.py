"""What the model learned since training, in memory: the overlay the predictor merges.

Every operation is O(1) or O(log n) in the number of learned commands: recency is an ordered
dict (the least recently used first), prefix matching a blocked sorted list whose inserts and
deletes move at most one block. The overlay lives within a byte budget (a share of the model's
memory limit, see ``overlay_budget``): past it, the least recently used command, predecessor
or folder is forgotten. The journal keeps every record, so the next compaction (a full
retrain) learns what the overlay forgot.
"""

from __future__ import annotations

import sys
from bisect import bisect_left, insort
from collections import Counter, OrderedDict, deque
from collections.abc import Iterator

from aprender_shell.history.tokens import tokenize
from aprender_shell.model import scoring
from aprender_shell.model.store.segments import CommandStats

# The overlay's share of the memory limit; the paging cache gets the rest.
OVERLAY_SHARE = 4
# Of the overlay's budget, what learned commands, transitions and folders may each hold.
COMMAND_SHARE, TRANSITION_SHARE, FOLDER_SHARE = 0.6, 0.25, 0.15
# Per-entry costs beyond the text itself, measured with tracemalloc on CPython 3.11 (257,
# about 270 and 50 bytes) and rounded up (tests/model/learned/test_overlay.py checks the budget
# holds): an ordered-dict entry with its link, the _Learned record with two floats and its
# ints, a sorted-list slot; a predecessor's (or folder's) Counter and ordered-dict entry;
# one item in such a Counter.
COMMAND_COST = 300
COUNTER_COST = 320
ITEM_COST = 80
# Successors kept per predecessor and commands per folder: the rarest give way.
MAX_SUCCESSORS = 32
MAX_PER_FOLDER = 64
_BLOCK = 256


def overlay_budget(memory_limit: int) -> int:
    """The bytes learned commands may hold for a model opened within ``memory_limit``."""
    return memory_limit // OVERLAY_SHARE


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


SHELLS = ("zsh", "bash", "fish")


class _Learned:
    __slots__ = ("count", "last", "short", "long", "at", "shells", "follower")

    def __init__(self) -> None:
        self.count = 0
        self.last = 0
        self.short = 0.0
        self.long = 0.0
        self.at = 0
        # Uses per shell (zsh, bash, fish), and what ran right after it the last time: kept in
        # the learned record, so within the command budget.
        self.shells: list[int] | None = None
        self.follower: str | None = None


class _Counters:
    """Counters per key (predecessor or folder), least recently used first, within bytes."""

    def __init__(self, budget: int, per_key: int) -> None:
        self.budget = budget
        self.per_key = per_key
        self.bytes = 0
        self._counters: OrderedDict[str, Counter[str]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._counters)

    def add(self, key: str, text: str) -> None:
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = Counter()
            self.bytes += COUNTER_COST + sys.getsizeof(key)
        else:
            self._counters.move_to_end(key)
        if text not in counter:
            if len(counter) >= self.per_key:
                rarest = min(counter, key=counter.__getitem__)  # at most per_key items
                del counter[rarest]
                self.bytes -= ITEM_COST + sys.getsizeof(rarest)
            self.bytes += ITEM_COST + sys.getsizeof(text)
        counter[text] += 1
        while self.bytes > self.budget and len(self._counters) > 1:
            self._forget_oldest()

    def _forget_oldest(self) -> None:
        key, counter = self._counters.popitem(last=False)
        self.bytes -= COUNTER_COST + sys.getsizeof(key)
        self.bytes -= sum(ITEM_COST + sys.getsizeof(text) for text in counter)

    def get(self, key: str) -> Counter[str]:
        return self._counters.get(key) or Counter()


class Overlay:
    """Commands learned since training, with decayed weights on the model's clock."""

    def __init__(self, clock: int, budget: int = overlay_budget(16 * 1024 * 1024)) -> None:
        self.clock = clock
        self.budget = budget
        self._command_budget = int(budget * COMMAND_SHARE)
        self._command_bytes = 0
        self.forgotten = 0
        # Least recently used first: forgetting the oldest is popitem(last=False).
        self._learned: OrderedDict[str, _Learned] = OrderedDict()
        self._sorted = _SortedTexts()
        self._transitions = _Counters(int(budget * TRANSITION_SHARE), MAX_SUCCESSORS)
        self._cwds = _Counters(int(budget * FOLDER_SHARE), MAX_PER_FOLDER)
        # The last commands run, most recent last, and the tokens of those recently asked for.
        self.recent: deque[str] = deque(maxlen=scoring.RECENT_COMMANDS)
        self._recent_tokens: dict[str, list[str]] = {}

    def __len__(self) -> int:
        return len(self._learned)

    @property
    def bytes(self) -> int:
        """The overlay's estimated size, kept within ``budget``."""
        return self._command_bytes + self._transitions.bytes + self._cwds.bytes

    def learn(
        self, command: str, previous: str | None, cwd: str | None, shell: str | None = None
    ) -> None:
        self.clock += 1
        learned = self._learned.get(command)
        if learned is None:
            learned = self._learned[command] = _Learned()
            self._sorted.add(command)
            self._command_bytes += COMMAND_COST + sys.getsizeof(command)
            while self._command_bytes > self._command_budget and len(self._learned) > 1:
                self._forget_oldest()
        else:
            self._learned.move_to_end(command)
        self._decay_to_now(learned)
        learned.count += 1
        learned.last = self.clock - 1
        learned.short += 1.0
        learned.long += 1.0
        if shell in SHELLS:
            if learned.shells is None:
                learned.shells = [0, 0, 0]
            learned.shells[SHELLS.index(shell)] += 1
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
        oldest, _ = self._learned.popitem(last=False)
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
        for text in reversed(self._learned):
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
        if learned is None or learned.shells is None or shell not in SHELLS:
            return None
        uses = learned.shells
        total = uses[0] + uses[1] + uses[2]
        return uses[SHELLS.index(shell)] / total if total else None

    def last_follower(self, previous: str) -> str | None:
        """The command run right after ``previous`` the last time it ran, if recorded."""
        learned = self._learned.get(previous)
        return learned.follower if learned is not None else None

"""Plain counting baselines: what a model of shell commands has to beat before it is worth it.

- ``most frequent``: the lines run most often that start with the buffer (ties: most recent);
- ``most frequent follower``: the lines that most often followed the previous command, then
  the most frequent ones;
- ``back-off (lines)``: what followed the previous *two* lines, backing off to what followed
  the previous one, then to the most frequent;
- ``back-off (names)``: the same over command *names* (the first word): the likeliest next
  names, each offered as its most frequent line that fits the buffer.

Every one answers an empty buffer too (unlike zsh-autosuggestions) and learns online like the
shells' hooks. Scores are ``1 / rank``.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

from aprender_shell.history.tokens import command_name
from aprender_shell.model.query.predictor import Suggestion

__all__ = ["BASELINES", "BackoffLinesStrategy", "BackoffNamesStrategy", "FollowerStrategy",
           "MostFrequentStrategy", "command_name", "counting_baselines"]


class _Followers:
    """Counts of what came next after a context, and when each last did (for ties)."""

    def __init__(self) -> None:
        self.counts: dict[object, Counter[str]] = {}

    def add(self, context: object, item: str) -> None:
        self.counts.setdefault(context, Counter())[item] += 1

    def ranked(self, context: object) -> Counter[str]:
        return self.counts.get(context, Counter())


class MostFrequentStrategy:
    """The most often run lines starting with the buffer; the most recent of equals first."""

    name = "most frequent"

    def __init__(self, commands: Iterable[str] = ()) -> None:
        self._count: Counter[str] = Counter()
        self._last: dict[str, int] = {}
        self._sorted: list[str] = []
        self._clock = 0
        self._recent: list[str] = []
        for command in commands:
            self._learn(command)

    def suggest(
        self, prefix: str, k: int = 5, prev: Sequence[str] = (), cwd: str | None = None
    ) -> list[Suggestion]:
        """Up to ``k`` lines starting with ``prefix``, best first."""
        if k <= 0:
            return []
        return _ranked(_take(self._candidates(prefix, prev, k), k))

    def record(
        self,
        command: str,
        cwd: str | None = None,
        exit_status: int | None = None,
        prev: Sequence[str] = (),
    ) -> None:
        """Count ``command`` once it has run; ``prev`` (most recent last) is what ran before."""
        if command.strip():
            self._learn(command, tuple(prev))

    def _learn(self, command: str, prev: tuple[str, ...] | None = None) -> None:
        if prev is None:  # training: the lines before are this strategy's own history
            prev = tuple(self._recent)
        if command not in self._count:
            insort(self._sorted, command)
        self._count[command] += 1
        self._clock += 1
        self._last[command] = self._clock
        self._follow(command, prev)
        self._recent = [*self._recent[-1:], command]

    def _follow(self, command: str, prev: tuple[str, ...]) -> None:
        """Counts what follows what; the global counts need nothing more."""

    def _key(self, command: str) -> tuple[int, int]:
        return self._count[command], self._last[command]

    def _best(self, counts: Counter[str], prefix: str) -> list[str]:
        """The lines of ``counts`` that start with ``prefix``, most counted (then recent) first."""
        fitting = [line for line in counts if line.startswith(prefix)]
        last = self._last
        fitting.sort(key=lambda line: (counts[line], last[line]), reverse=True)
        return fitting

    def _global(self, prefix: str, k: int) -> Iterator[str]:
        """The ``2k`` best lines starting with ``prefix``: enough to fill ``k`` after up to
        ``k - 1`` found by a context first."""
        items = self._sorted
        low = bisect_left(items, prefix)
        high = low
        while high < len(items) and items[high].startswith(prefix):
            high += 1
        yield from heapq.nlargest(2 * k, items[low:high], key=self._key)

    def _candidates(self, prefix: str, prev: Sequence[str], k: int) -> Iterator[str]:
        return self._global(prefix, k)


class FollowerStrategy(MostFrequentStrategy):
    """What most often followed the previous command, then the most frequent lines."""

    name = "most frequent follower"
    order = 1

    def __init__(self, commands: Iterable[str] = ()) -> None:
        self._after = _Followers()
        super().__init__(commands)

    def _follow(self, command: str, prev: tuple[str, ...]) -> None:
        for order in range(1, self.order + 1):
            if len(prev) >= order:
                self._after.add(prev[-order:], command)

    def _candidates(self, prefix: str, prev: Sequence[str], k: int) -> Iterator[str]:
        for order in range(min(self.order, len(prev)), 0, -1):
            yield from self._best(self._after.ranked(tuple(prev[-order:])), prefix)
        yield from self._global(prefix, k)


class BackoffLinesStrategy(FollowerStrategy):
    """What followed the previous two lines, backing off to one, then to none."""

    name = "back-off (lines)"
    order = 2


class BackoffNamesStrategy(MostFrequentStrategy):
    """The next command's name from the previous two names (backing off to one, then none),
    offered as that name's most frequent line starting with the buffer."""

    name = "back-off (names)"

    def __init__(self, commands: Iterable[str] = ()) -> None:
        self._after = _Followers()
        self._names: Counter[str] = Counter()
        self._lines: dict[str, Counter[str]] = {}
        super().__init__(commands)

    def _follow(self, command: str, prev: tuple[str, ...]) -> None:
        name = command_name(command)
        names = tuple(command_name(line) for line in prev[-2:])
        self._names[name] += 1
        self._lines.setdefault(name, Counter())[command] += 1
        for order in (1, 2):
            if len(names) >= order:
                self._after.add(names[-order:], name)

    def _candidates(self, prefix: str, prev: Sequence[str], k: int) -> Iterator[str]:
        names = tuple(command_name(line) for line in prev[-2:])
        typed_name = command_name(prefix)
        whole_name = " " in prefix.lstrip() or prefix.endswith(" ")

        def fits(name: str) -> bool:
            return name == typed_name if whole_name else name.startswith(prefix)

        counts = [self._after.ranked(names[-order:]) for order in range(len(names), 0, -1)]
        for ranked in (*counts, self._names):
            for name, _ in ranked.most_common():
                if fits(name):
                    lines = [line for line in self._lines[name] if line.startswith(prefix)]
                    if lines:
                        yield max(lines, key=self._key)
        yield from self._global(prefix, k)


def _take(candidates: Iterator[str], k: int) -> list[str]:
    found: list[str] = []
    for line in candidates:
        if line not in found:
            found.append(line)
            if len(found) == k:
                break
    return found


def _ranked(commands: Sequence[str]) -> list[Suggestion]:
    return [Suggestion(command, 1.0 / rank) for rank, command in enumerate(commands, 1)]


BASELINES = (MostFrequentStrategy, FollowerStrategy, BackoffLinesStrategy, BackoffNamesStrategy)


def counting_baselines(commands: Sequence[str]) -> dict[str, MostFrequentStrategy]:
    """Every counting baseline, trained on ``commands``, by name."""
    return {kind.name: kind(commands) for kind in BASELINES}

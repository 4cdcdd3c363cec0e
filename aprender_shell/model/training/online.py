"""The small in-memory model the self-tuning replay learns into, one command at a time.

It keeps what the predictor's candidates and features come from, online: each command's
decayed counts and last use, the most recent and most used commands of every short prefix,
what followed each command (and which templates), and the arguments of the last commands.
"""

from __future__ import annotations

import bisect
import heapq
from collections import Counter, deque

from aprender_shell.history.tokens import tokenize
from aprender_shell.model import scoring
from aprender_shell.model.query import reuse
from aprender_shell.model.store.layout import END

CANDIDATES = 12
# Prefixes up to this long keep their best commands up to date as the replay learns.
TOP_PREFIX = 2


class Use:
    __slots__ = ("count", "last", "short", "long", "at")

    def __init__(self, at: int) -> None:
        self.count = 0
        self.last = -1
        self.short = 0.0
        self.long = 0.0
        self.at = at


class Top:
    """The most recent and the most used commands that start with one prefix."""

    __slots__ = ("size", "recent", "frequent")

    def __init__(self) -> None:
        self.size = 0  # how many distinct commands start with it
        # the CANDIDATES // 2 most recent, least recent first (a use moves one to the end)
        self.recent: dict[str, None] = {}
        # the CANDIDATES // 2 most used, most used first (counts only grow)
        self.frequent: list[str] = []

    def use(self, command: str, count: int, new: bool, uses: dict[str, Use]) -> None:
        self.size += new
        recent = self.recent
        recent.pop(command, None)
        recent[command] = None
        if len(recent) > CANDIDATES // 2:
            del recent[next(iter(recent))]
        frequent = self.frequent
        if command not in frequent:
            if len(frequent) == CANDIDATES // 2:
                if uses[frequent[-1]].count >= count:
                    return
                frequent.pop()
            frequent.append(command)
        frequent.sort(key=lambda text: -uses[text].count)


class OnlineModel:
    """The in-memory online model the replay learns into."""

    def __init__(self) -> None:
        self.clock = 0
        self.uses: dict[str, Use] = {}
        self.ordered: list[str] = []
        # for every prefix of up to TOP_PREFIX characters, its most recent and most used
        self.tops: dict[str, Top] = {}
        self.followers: dict[str, Counter[str]] = {}
        # how often each command was followed by each template (filled as queries ask)
        self.by_template: dict[str, dict[tuple[str, ...], int]] = {}
        self.last_follower: dict[str, str] = {}
        self.recent: deque[str] = deque(maxlen=scoring.RECENT_COMMANDS)
        # what came after each first word: the context argument reuse asks about
        self.second: dict[str, Counter[str]] = {}
        self.tokens: dict[str, list[str]] = {}
        self.templates: dict[str, tuple[str, ...]] = {}
        # what followed each two commands in a row, and the last two learned
        self.pairs: dict[tuple[str, str], Counter[str]] = {}
        self.last_two: deque[str] = deque(maxlen=2)

    def tokens_of(self, command: str) -> list[str]:
        found = self.tokens.get(command)
        if found is None:
            found = self.tokens[command] = tokenize(command)
        return found

    def template_of(self, command: str) -> tuple[str, ...]:
        found = self.templates.get(command)
        if found is None:
            found = self.templates[command] = scoring.template_of(command)
        return found

    def learn(self, command: str, previous: str | None) -> None:
        use = self.uses.get(command)
        new = use is None
        if use is None:
            use = self.uses[command] = Use(self.clock)
            bisect.insort(self.ordered, command)
        tokens = self.tokens_of(command)
        if tokens:
            following = tokens[1] if len(tokens) > 1 else END
            self.second.setdefault(tokens[0], Counter())[following] += 1
        steps = self.clock - use.at
        use.short = use.short * scoring.decay(steps, scoring.TAU_SHORT) + 1.0
        use.long = use.long * scoring.decay(steps, scoring.TAU_LONG) + 1.0
        use.at = self.clock
        use.count += 1
        use.last = self.clock
        for length in range(min(TOP_PREFIX, len(command)) + 1):
            top = self.tops.get(command[:length])
            if top is None:
                top = self.tops[command[:length]] = Top()
            top.use(command, use.count, new, self.uses)
        if previous is not None and len(self.last_two) == 2 and self.last_two[1] == previous:
            self.pairs.setdefault((self.last_two[0], previous), Counter())[command] += 1
        self.last_two.append(command)
        if previous is not None:
            self.followers.setdefault(previous, Counter())[command] += 1
            self.by_template.pop(previous, None)
            self.last_follower[previous] = command
        if len(command) <= scoring.RECENT_COMMAND_CHARS:
            self.recent.append(command)
        self.clock += 1

    def matching(self, prefix: str) -> list[str]:
        low = bisect.bisect_left(self.ordered, prefix)
        high = bisect.bisect_left(self.ordered, prefix + "\U0010ffff")
        return self.ordered[low:high]

    def best_matches(self, prefix: str, followers: Counter[str] | None) -> list[str]:
        """The prefix's matches; when there are many, the most recent, the most used and the
        previous command's successors among them."""
        top = self.tops.get(prefix) if len(prefix) <= TOP_PREFIX else None
        if top is not None and top.size > CANDIDATES:
            best = [*top.recent, *top.frequent]
        else:
            matches = self.matching(prefix)
            if len(matches) <= CANDIDATES:
                return matches
            uses = self.uses
            best = heapq.nlargest(CANDIDATES // 2, matches, key=lambda t: uses[t].last)
            best += heapq.nlargest(CANDIDATES // 2, matches, key=lambda t: uses[t].count)
        if followers:
            following = [text for text in followers if text.startswith(prefix)]
            if len(following) > scoring.SUCCESSORS_KEPT:  # what a record keeps
                following = heapq.nlargest(
                    scoring.SUCCESSORS_KEPT, following, key=followers.__getitem__
                )
            best += following
        return best

    def templates_after(self, previous: str) -> dict[tuple[str, ...], int]:
        """How often ``previous`` was followed by a command of each template."""
        found = self.by_template.get(previous)
        if found is None:
            found = self.by_template[previous] = {}
            for text, count in self.followers[previous].items():
                key = self.template_of(text)
                found[key] = found.get(key, 0) + count
        return found

    def pair_followers(self, previous: str | None) -> tuple[int, dict[str, int]]:
        """What followed the command before ``previous`` and ``previous`` in a row, as the model
        keeps it (``training.tables.pairs``: pairs seen twice or more, successors seen twice or
        more); ``(0, {})`` when ``previous`` is not the last command learned."""
        if previous is None or len(self.last_two) < 2 or self.last_two[1] != previous:
            return 0, {}
        found = self.pairs.get((self.last_two[0], previous))
        if not found:
            return 0, {}
        count = sum(found.values())
        kept = {text: n for text, n in found.items() if n >= 2}
        return (count, kept) if count >= 2 and kept else (0, {})

    def argument_share(self, words: list[str]) -> float:
        """How much the first word took reusable arguments so far (``reuse.argument_share``)."""
        if len(words) != 1:
            return 1.0  # the replay learns first words only; nothing speaks against it
        counts = self.second.get(words[0])
        return reuse.argument_share(counts.items() if counts else ())

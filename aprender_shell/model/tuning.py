"""Self-tuning: choose the score's weights that save this user the most keystrokes.

At training the most recent part of the history (``SAMPLE`` commands, whatever the history's
size) is replayed online, as ``evaluate --online`` does, through a small in-memory model that
gathers the same features the predictor does (decayed counts, last use, successors,
templates, what followed last time). Every query's candidates and features are gathered once;
each set of weights is then judged by ``scoring.score`` alone, on the keystrokes it saves when
the top suggestion is accepted as soon as it is right after 0, 1 or 2 typed characters.
A coordinate search over a few values per weight, starting from the defaults, keeps what
saves more. Histories shorter than ``MIN_COMMANDS`` keep the defaults.

The n-gram and argument-reuse shares are not tuned here: their candidates come from the
model's n-gram segments, which this replay does not build (the n-gram share already follows
the user, through the history's novelty rate).
"""

from __future__ import annotations

import bisect
import heapq
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from aprender_shell.model import scoring
from aprender_shell.model.scoring import Features, Weights

MIN_COMMANDS = 600
SAMPLE = 1000
# Commands before the sample that the replay learns first (bounded, so tuning costs the same
# whatever the history's size).
WARM_UP = 4000
PREFIXES = (0, 1, 2)
CANDIDATES = 12
GRID: dict[str, tuple[float, ...]] = {
    "recency": (0.1, 0.2, 0.35, 0.5, 0.7),
    "tau_recent": (2.0, 5.0, 15.0, 50.0),
    "mu": (0.2, 0.5, 0.8),
    "context_max": (0.2, 0.35, 0.5, 0.7),
    "template": (0.0, 0.25, 0.5, 0.7),
    "last_follower": (0.0, 0.2, 0.4),
    "kappa": (0.5, 1.0, 4.0),
}
ROUNDS = 1


@dataclass
class _Use:
    count: int = 0
    last: int = -1
    short: float = 0.0
    long: float = 0.0
    at: int = 0


class _Replay:
    """The in-memory online model the replay learns into."""

    def __init__(self) -> None:
        self.clock = 0
        self.uses: dict[str, _Use] = {}
        self.ordered: list[str] = []
        self.followers: dict[str, Counter[str]] = {}
        self.last_follower: dict[str, str] = {}

    def learn(self, command: str, previous: str | None) -> None:
        use = self.uses.get(command)
        if use is None:
            use = self.uses[command] = _Use(at=self.clock)
            bisect.insort(self.ordered, command)
        steps = self.clock - use.at
        use.short = use.short * scoring.decay(steps, scoring.TAU_SHORT) + 1.0
        use.long = use.long * scoring.decay(steps, scoring.TAU_LONG) + 1.0
        use.at = self.clock
        use.count += 1
        use.last = self.clock
        if previous is not None:
            self.followers.setdefault(previous, Counter())[command] += 1
            self.last_follower[previous] = command
        self.clock += 1

    def matching(self, prefix: str) -> list[str]:
        low = bisect.bisect_left(self.ordered, prefix)
        high = bisect.bisect_left(self.ordered, prefix + "\U0010ffff")
        return self.ordered[low:high]


class _Query:
    """One typed prefix: the target's length, its candidates' features and templates."""

    __slots__ = ("target", "features", "templates", "by_template", "kept")

    def __init__(
        self,
        target: int,
        features: list[Features],
        templates: list[tuple[str, ...]],
        by_template: dict[tuple[str, ...], int],
        kept: int,
    ) -> None:
        self.target = target
        self.features = features
        self.templates = templates
        self.by_template = by_template
        self.kept = kept


def _gather(replay: _Replay, command: str, previous: str | None, n: int) -> _Query | None:
    """The query after ``command[:n]`` is typed, or None when the command cannot win it."""
    prefix = command[:n]
    matches = replay.matching(prefix)
    followers = replay.followers.get(previous, Counter()) if previous is not None else Counter()
    if command not in replay.uses:
        return None
    uses = replay.uses
    if len(matches) > CANDIDATES:
        recent = heapq.nlargest(CANDIDATES // 2, matches, key=lambda t: uses[t].last)
        frequent = heapq.nlargest(CANDIDATES // 2, matches, key=lambda t: uses[t].count)
        chosen = dict.fromkeys(recent + frequent + [t for t in followers if t.startswith(prefix)])
        chosen[command] = None
        matches = list(chosen)
    if len(matches) < 2:
        return None
    clock = replay.clock
    w_short = scoring.total_weight(clock, scoring.TAU_SHORT)
    w_long = scoring.total_weight(clock, scoring.TAU_LONG)
    evidence = uses[previous].count if previous in uses else 0
    evidence = max(evidence, sum(followers.values()))
    last = replay.last_follower.get(previous) if previous is not None else None
    by_template: dict[tuple[str, ...], int] = {}
    for text, count in followers.items():
        key = scoring.template(text.split(None, scoring.TEMPLATE_WORDS + 1))
        by_template[key] = by_template.get(key, 0) + count
    features: list[Features] = []
    templates = []
    target = -1
    for text in matches:
        use = uses[text]
        steps = clock - use.at
        f = Features(
            short=use.short * scoring.decay(steps, scoring.TAU_SHORT) / w_short,
            long=use.long * scoring.decay(steps, scoring.TAU_LONG) / w_long,
            age=clock - 1 - use.last,
        )
        if evidence:
            f.successor = followers.get(text, 0) / evidence
            f.followed_last = 1.0 if text == last else 0.0
            f.evidence = evidence
        if text == command:
            target = len(features)
        features.append(f)
        templates.append(scoring.template(text.split(None, scoring.TEMPLATE_WORDS + 1)))
    return _Query(target, features, templates, by_template, sum(followers.values()))


def _top_is_target(query: _Query, weights: Weights, w_recent: float) -> bool:
    features = query.features
    if query.kept:
        # the template shares, as the predictor computes them (scores before any context)
        own = []
        base: dict[tuple[str, ...], float] = {}
        for f, key in zip(features, query.templates):
            saved, f.evidence = f.evidence, 0
            value = scoring.score(f, weights, w_recent) if key in query.by_template else 0.0
            f.evidence = saved
            own.append(value)
            base[key] = base.get(key, 0.0) + value
        for f, key, value in zip(features, query.templates, own):
            total = base.get(key, 0.0)
            f.template_share = (
                query.by_template[key] / query.kept * value / total if total > 0 else 0.0
            )
    best = -1.0
    best_index = -1
    for index, f in enumerate(features):
        value = scoring.score(f, weights, w_recent)
        if value > best:
            best, best_index = value, index
    return best_index == query.target


class _Sample:
    """Every query of the replayed sample, gathered once."""

    def __init__(self, commands: Sequence[str]) -> None:
        replay = _Replay()
        start = max(0, len(commands) - SAMPLE)
        previous: str | None = None
        for command in commands[max(0, start - WARM_UP) : start]:
            replay.learn(command, previous)
            previous = command
        self.typed = 0
        # per command: its length and its queries in typing order (None: cannot win there)
        self.commands: list[tuple[int, list[tuple[int, _Query | None]]]] = []
        self.clocks: list[int] = []
        for command in commands[start:]:
            queries = [
                (n, _gather(replay, command, previous, n)) for n in PREFIXES if len(command) > n
            ]
            if previous is None:
                queries = [(n, q) for n, q in queries if n > 0]
            self.commands.append((len(command), queries))
            self.clocks.append(replay.clock)
            self.typed += len(command)
            replay.learn(command, previous)
            previous = command

    def saving(self, weights: Weights) -> float:
        """Share of keystrokes saved with these weights (accepting at 0 to 2 characters)."""
        keys = 0
        for (length, queries), clock in zip(self.commands, self.clocks):
            w_recent = scoring.total_weight(clock, weights.tau_recent)
            used = length
            for n, query in queries:
                if query is not None and _top_is_target(query, weights, w_recent):
                    used = n + 1
                    break
            keys += used
        return 1.0 - keys / self.typed if self.typed else 0.0


def tune(commands: Sequence[str], start: Weights | None = None) -> Weights | None:
    """The weights that save the most keystrokes on the end of ``commands``, or None when the
    history is too short to tell (the defaults then apply)."""
    if len(commands) < MIN_COMMANDS:
        return None
    sample = _Sample(commands)
    best = start or scoring.DEFAULT_WEIGHTS
    best_saving = sample.saving(best)
    for _ in range(ROUNDS):
        improved = False
        for name, values in GRID.items():
            for value in values:
                if value == getattr(best, name):
                    continue
                candidate = best.replace(**{name: value})
                saving = sample.saving(candidate)
                if saving > best_saving + 1e-9:
                    best, best_saving, improved = candidate, saving, True
        if not improved:
            break
    return best

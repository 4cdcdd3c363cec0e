"""Self-tuning: choose the score's weights that save this user the most keystrokes.

At training the most recent part of the history (``SAMPLE`` commands, whatever the history's
size) is replayed online, as ``evaluate --online`` does, through a small in-memory model
(``online.OnlineModel``) whose candidates get their features as the predictor's do
(``FeatureBuilder``: decayed counts, last use, successors, templates, what followed last
time), with the arguments of the last commands. Queries are the command's
first 0, 1 and 2 characters, then its first word and the space after it, and one character
more: where argument reuse (``reuse.reused_arguments``) joins in. Every query's candidates
and features are gathered once, into flat per-candidate lists; a set of weights is then judged
by the keystrokes it saves when the top suggestion is accepted as soon as it is right, with a
few float operations per candidate (the arithmetic of ``scoring.score`` and
``scoring.combine``, spelled out over the lists; a test holds it to ranking exactly as they
do). A candidate that no set of weights can put above the command typed is dropped while
gathering. A coordinate search over a few values per weight, starting from the defaults,
keeps what saves more. Histories shorter than ``MIN_COMMANDS`` keep the defaults.

Tuned: the last use's share and time constant, short against long frequency, the sequence's
share and evidence constant, the template and last-follower shares, and the argument-reuse
share and its time constant. How much a typed word takes arguments is learned online by the
replay itself (what followed each first word before the query), as the predictor reads it
from its n-grams.

Not tuned: the n-gram share. Its candidates are the model's n-gram continuations, and the
only n-grams at hand when tuning are those trained on the whole history, the replayed commands
included, so every replayed command would be predicted by counts that already hold it;
building n-grams online inside the replay would cost about as much as the rest of training.
It keeps following the user through the history's novelty rate (``novelty``), which the
replay uses to weigh history candidates against reused arguments as ``combine`` does.
"""

from __future__ import annotations

import bisect
import math
from array import array
from collections.abc import Sequence
from typing import cast

from aprender_shell.history.tokens import split_prefix
from aprender_shell.model import scoring
from aprender_shell.model.query import reuse
from aprender_shell.model.query.features import FeatureBuilder
from aprender_shell.model.scoring import Weights
from aprender_shell.model.training.online import OnlineModel

MIN_COMMANDS = 600
SAMPLE = 1000
# Commands before the sample that the replay learns first (bounded, so tuning costs the same
# whatever the history's size).
WARM_UP = 4000
PREFIXES = (0, 1, 2)
GRID: dict[str, tuple[float, ...]] = {
    "recency": (0.1, 0.2, 0.35, 0.5, 0.7),
    "tau_recent": (2.0, 5.0, 15.0, 50.0),
    "short_share": (0.2, 0.5, 0.8),
    "context_max": (0.2, 0.35, 0.5, 0.7),
    "template": (0.0, 0.25, 0.5, 0.7),
    "last_follower": (0.0, 0.2, 0.4),
    "half_evidence": (0.5, 1.0, 4.0),
    "argument_reuse": (0.0, 0.25, 0.5, 1.0, 2.0),
    "argument_reuse_tau": (1.0, 3.0, 8.0),
}
ROUNDS = 1


class _ReplayedQuery:
    """One typed prefix of the replay, its candidates' ``features`` (built as the predictor
    builds them, ``FeatureBuilder``); the command typed is candidate 0.

    The others follow in text order; the first ``before`` of them sort before the command,
    so they win a tie (the predictor breaks ties by text).
    """

    __slots__ = (
        "features", "grouped", "sequence", "before", "reused", "argument_share",
        "shares_by_tau", "base_id", "base_values", "history_id", "history_values",
    )

    def __init__(self, features: scoring.Features | None = None) -> None:
        self.features = features if features is not None else scoring.Features()
        # The candidates with a template, and their templates (arrays: see _COLUMNS).
        self.grouped: tuple[Sequence[int], Sequence[int]] = ((), ())
        # The candidates with a successor or followed term not 0, and those two terms.
        self.sequence: tuple[Sequence[int], Sequence[float], Sequence[float]] = ((), (), ())
        self.before = 0
        # (candidate, ages of the recent commands it reuses), or None without argument reuse
        self.reused: list[tuple[int, list[int]]] | None = None
        self.argument_share = 0.0
        self.shares_by_tau: dict[float, list[tuple[int, float]]] = {}
        # the last values computed, and for which weights (``_Setting`` ids)
        self.base_id = self.history_id = -1
        self.base_values: list[float] = []
        self.history_values: list[float] = []

    def reused_shares(self, tau: float, decay: list[float]) -> list[tuple[int, float]]:
        """Each reused candidate's share before ``Weights.argument_reuse`` (``combine``'s
        ``reused``), with time constant ``tau`` (``decay`` is its table)."""
        found = self.shares_by_tau.get(tau)
        if found is None:
            weights = [(i, sum(decay[age] for age in ages)) for i, ages in self.reused or ()]
            total = sum(w for _, w in weights)
            found = [(i, self.argument_share * w / total) for i, w in weights] if total else []
            self.shares_by_tau[tau] = found
        return found


# A query the command wins whatever the weights (no other candidate can beat it).
_ALWAYS = _ReplayedQuery()


def _dominated(f: scoring.Features, j: int) -> bool:
    """Whether candidate ``j`` can never score above the command (candidate 0)."""
    age, target_age = f.age[j], f.age[0]
    return (
        f.group[j] < 0
        and f.short[j] <= f.short[0]
        and f.long[j] <= f.long[0]
        and target_age >= 0
        and (age < 0 or age >= target_age)
        and f.successor[j] <= f.successor[0]
        and f.followed[j] <= f.followed[0]
    )


def _gather(
    replay: OnlineModel, command: str, previous: str | None, n: int
) -> _ReplayedQuery | None:
    """The query after ``command[:n]`` is typed, or None when the command cannot win it."""
    prefix = command[:n]
    uses = replay.uses
    followers = replay.followers.get(previous) if previous is not None else None
    reused: dict[str, list[int]] = {}
    words: list[str] = []
    if prefix.strip():
        words = split_prefix(prefix)[0]
        if words:
            recent_tokens = [replay.tokens_of(text) for text in reversed(replay.recent)]
            reused = reuse.reused_arguments(prefix, recent_tokens)
    if command not in uses and command not in reused:
        return None
    chosen = dict.fromkeys(replay.best_matches(prefix, followers))
    chosen.update(dict.fromkeys(reused))
    chosen.pop(command, None)
    if not chosen:
        return None
    others = sorted(chosen)
    texts = [command, *others]

    query = _ReplayedQuery(query_features(replay, previous, texts))
    query.before = bisect.bisect_left(others, command)
    if reused:
        _index_sparse(query)
        query.reused = [(i, reused[text]) for i, text in enumerate(texts) if text in reused]
        query.argument_share = replay.argument_share(words)
        return query
    return _prune(query)


def query_features(
    replay: OnlineModel, previous: str | None, texts: Sequence[str], repeat: str | None = None
) -> scoring.Features:
    """The features of candidates ``texts`` after ``previous``, as the predictor builds them
    (a text the replay never saw run is one only a reused argument proposes). ``repeat``: the
    command just run, when it is to be scored by the repeat rate (the tuning leaves it out:
    the rate is measured, not tuned)."""
    uses = replay.uses
    followers = replay.followers.get(previous) if previous is not None else None
    evidence = uses[previous].count if previous in uses else 0
    kept = sum(followers.values()) if followers else 0
    templates = replay.templates_after(previous) if followers and previous else None

    def template_of(text: str) -> tuple[str, ...] | None:
        key = replay.template_of(text)
        return key if templates is not None and key in templates else None

    clock = replay.clock
    pair_count, pair_transitions = replay.pair_followers(previous)
    builder = FeatureBuilder(
        clock,
        max(evidence, kept),
        followers,
        replay.last_follower.get(previous) if previous is not None else None,
        templates,
        template_of,
        repeat=repeat,
        pair_count=pair_count,
        pair_transitions=pair_transitions,
    )
    short_decay, long_decay = scoring.TAU_SHORT, scoring.TAU_LONG
    for text in texts:
        use = uses.get(text)
        if use is None:  # only a reused argument proposes it
            builder.add_never_run(text)
        else:
            steps = clock - use.at
            builder.add(
                text,
                use.short * scoring.decay(steps, short_decay),
                use.long * scoring.decay(steps, long_decay),
                use.last,
            )
    return _compact(builder.features)


# The per-candidate lists the replays keep for thousands of queries, and the array type each
# is stored as: 8 bytes a value rather than a float object and its pointer (about 32). The
# values are the same doubles and integers, read by index and iteration only.
_COLUMNS = (("short", "d"), ("long", "d"), ("age", "q"), ("successor", "d"), ("followed", "d"),
            ("group", "q"))


def _compact(features: scoring.Features) -> scoring.Features:
    """``features`` with its per-candidate lists stored as arrays (``_COLUMNS``)."""
    for name, kind in _COLUMNS:
        setattr(features, name, cast("list[float]", array(kind, getattr(features, name))))
    return features


def _index_sparse(query: _ReplayedQuery) -> None:
    """List the candidates with a template or a sequence term (a few of each query's)."""
    f = query.features
    grouped = [i for i, g in enumerate(f.group) if g >= 0]
    if grouped:
        query.grouped = (array("q", grouped), array("q", [f.group[i] for i in grouped]))
    sequence = [i for i, (x, y) in enumerate(zip(f.successor, f.followed)) if x or y]
    if sequence:
        query.sequence = (array("q", sequence), array("d", [f.successor[i] for i in sequence]),
                          array("d", [f.followed[i] for i in sequence]))


def _prune(query: _ReplayedQuery) -> _ReplayedQuery | None:
    """The query without the candidates that cannot beat the command; ``_ALWAYS`` when none
    can. Only those after the command in text order go: the others win ties."""
    f = query.features
    keep = [0, *range(1, query.before + 1)]
    keep += [j for j in range(query.before + 1, len(f.age)) if not _dominated(f, j)]
    if len(keep) == len(f.age):
        _index_sparse(query)
        return query
    if len(keep) == 1:
        return _ALWAYS if f.age[0] >= 0 else None
    for name, kind in _COLUMNS:
        values = getattr(f, name)
        setattr(f, name, array(kind, [values[j] for j in keep]))
    _index_sparse(query)
    return query


class _Setting:
    """One set of weights, turned into the constants the judging loop needs."""

    def __init__(
        self, weights: Weights, longest: int, novelty: float, ids: dict[tuple[float, ...], int]
    ) -> None:
        # Weight sets sharing these get the same ids, so queries can keep what they share.
        base = (weights.short_share, weights.recency, weights.tau_recent)
        self.base_id = ids.setdefault(base, len(ids))
        context = (
            weights.context_max, weights.half_evidence, weights.template, weights.last_follower
        )
        self.history_id = ids.setdefault(base + context, len(ids))
        self.a = (1.0 - weights.recency) * weights.short_share
        self.b = (1.0 - weights.recency) * (1.0 - weights.short_share)
        self.recency = weights.recency
        self.tau_recent = weights.tau_recent
        # decay by age; index -1 (never run) is 0
        self.recent_decay = _decay_table(longest, weights.tau_recent)
        self.context_max = weights.context_max
        self.half_evidence = weights.half_evidence
        self.template = weights.template
        self.direct = max(0.0, 1.0 - weights.template - weights.last_follower)
        self.last_follower = weights.last_follower
        self.history_share = 1.0 - min(1.0, max(0.0, novelty * weights.ngram))
        self.argument_reuse = weights.argument_reuse
        self.argument_reuse_tau = weights.argument_reuse_tau
        self.reuse_decay = _decay_table(scoring.RECENT_COMMANDS, weights.argument_reuse_tau)


def _decay_table(longest: int, tau: float) -> list[float]:
    step = math.exp(-1.0 / tau)
    table = [step**age for age in range(longest + 1)]
    table.append(0.0)
    return table


def _history_values(query: _ReplayedQuery, s: _Setting, c_recent: float) -> list[float]:
    """Each candidate's ``scoring.score`` under ``s`` (its history part, before reuse); the
    parts that only some weights change are kept for the next set that shares them."""
    if query.history_id == s.history_id:
        return query.history_values
    if query.base_id == s.base_id:
        values = query.base_values
    else:
        table = s.recent_decay
        a, b, c = s.a, s.b, c_recent
        f = query.features
        values = [a * x + b * y + c * table[g] for x, y, g in zip(f.short, f.long, f.age)]
        query.base_id, query.base_values = s.base_id, values
    evidence = query.features.evidence
    lam = s.context_max * evidence / (evidence + s.half_evidence) if evidence else 0.0
    if lam:
        # Every score divided by 1 - lam (the same for all candidates: the order stays), so
        # only the few candidates with a sequence term change.
        keep = 1.0 - lam
        direct, last = lam * s.direct / keep, lam * s.last_follower / keep
        base = values
        values = base.copy()
        for i, x, y in zip(*query.sequence):
            values[i] += direct * x + last * y
        group_weight = query.features.group_weight
        if group_weight:
            # the template shares, as the predictor computes them (scores before context)
            totals = [0.0] * len(group_weight)
            for i, g in zip(*query.grouped):
                totals[g] += base[i]
            factors = [
                lam * s.template * w / (t * keep) if t > 0 else 0.0
                for w, t in zip(group_weight, totals)
            ]
            for i, g in zip(*query.grouped):
                values[i] += factors[g] * base[i]
    query.history_id, query.history_values = s.history_id, values
    return values


def _wins(query: _ReplayedQuery, s: _Setting, c_recent: float) -> bool:
    """Whether the command is the top suggestion of ``query`` under ``s``."""
    if query is _ALWAYS:
        return True
    values = _history_values(query, s, c_recent)
    if query.reused is not None:
        shares = query.reused_shares(s.argument_reuse_tau, s.reuse_decay)
        if shares:
            # combine's mixture, scaled by total / history_share (the order stays the same)
            total = sum(values)
            if total > 0 and s.history_share > 0:
                factor = s.argument_reuse * total / s.history_share
                values = values.copy()
            else:
                values = [0.0] * len(values)
                factor = s.argument_reuse
            for i, share in shares:
                values[i] += factor * share
    top = values[0]
    if top <= 0:
        return False
    before = query.before
    if before and max(values[1 : before + 1]) >= top:
        return False
    return len(values) == before + 1 or max(values[before + 1 :]) <= top


class _Sample:
    """Every query of the replayed sample, gathered once."""

    def __init__(self, commands: Sequence[str], novelty: float) -> None:
        self.novelty = novelty
        self.ids: dict[tuple[float, ...], int] = {}
        replay = OnlineModel()
        start = max(0, len(commands) - SAMPLE)
        previous: str | None = None
        for command in commands[max(0, start - WARM_UP) : start]:
            replay.learn(command, previous)
            previous = command
        self.typed = 0
        self.fixed = 0  # keystrokes of the commands no weights change
        # per command: its length, its clock and its queries in typing order
        self.commands: list[tuple[int, int, list[tuple[int, _ReplayedQuery]]]] = []
        for command in commands[start:]:
            self.typed += len(command)
            queries: list[tuple[int, _ReplayedQuery]] = []
            for n in _query_points(command, previous is None):
                query = _gather(replay, command, previous, n)
                if query is not None:
                    queries.append((n, query))
                    if query is _ALWAYS:
                        break
            if not queries:
                self.fixed += len(command)
            elif queries[0][1] is _ALWAYS:
                self.fixed += queries[0][0] + 1
            else:
                self.commands.append((len(command), replay.clock, queries))
            replay.learn(command, previous)
            previous = command
        self.longest = replay.clock + 1

    def saving(self, weights: Weights) -> float:
        """Share of keystrokes saved with these weights (accepting at the query points)."""
        if not self.typed:
            return 0.0
        setting = _Setting(weights, self.longest, self.novelty, self.ids)
        keys = self.fixed
        recency, tau = setting.recency, setting.tau_recent
        for length, clock, queries in self.commands:
            w_recent = scoring.total_weight(clock, tau)
            c_recent = recency / w_recent if w_recent > 0 else 0.0
            used = length
            for n, query in queries:
                if _wins(query, setting, c_recent):
                    used = n + 1
                    break
            keys += used
        return 1.0 - keys / self.typed


def _query_points(command: str, first: bool) -> list[int]:
    """How much of ``command`` is typed at each query: 0 (not for the very first command),
    1 and 2 characters, then its first word with the space after it, and one character more."""
    points = set(PREFIXES)
    space = command.find(" ")
    if space > 0:
        points.update((space + 1, space + 2))
    return sorted(n for n in points if n < len(command) and (n > 0 or not first))


def tune(
    commands: Sequence[str], start: Weights | None = None, novelty: float = 0.0
) -> Weights | None:
    """The weights that save the most keystrokes on the end of ``commands``, or None when the
    history is too short to tell (the defaults then apply). ``novelty`` is the history's rate
    of new commands (``ModelIndex.novelty``), which sets the n-gram continuations' share."""
    if len(commands) < MIN_COMMANDS:
        return None
    sample = _Sample(commands, novelty)
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

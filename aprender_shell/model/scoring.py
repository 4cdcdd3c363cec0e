"""The one score that ranks every suggestion: a candidate's features and the weights mixing them.

The predictor gathers, for every whole command ``c`` that starts with the typed prefix, its
``Features`` (built in one place, ``query.features``); ``history_scores(features, weights)``
turns them into numbers, and ``combine`` mixes the history candidates with the n-gram
continuations and the reused arguments. This module is the only arithmetic of the score.
With ``p`` the previous command and ``w`` a ``Weights``::

    static(c)   = w.short_share * short(c) + (1 - w.short_share) * long(c)
    recent(c)   = (1 - w.recency) * static(c)
                  + w.recency * decay(age(c), w.tau_recent) / total_weight(clock, w.tau_recent)
    sequence(c) = max(0, 1 - w.template - w.last_follower) * successor(c)
                  + w.template * template_share(c) + w.last_follower * followed_last(c)
    lam         = w.context_max * count(p) / (count(p) + w.half_evidence)
    context(c)  = lam * sequence(c) + (1 - lam) * recent(c)
    local(c)    = (1 - w.cwd) * context(c) + w.cwd * cwd_share(c)      (when the cwd is known)
    score(c)    = local(c) * (1 - w.shell * (1 - shell_share(c)))      (when the shell is known)
                           * (1 - HOST_PREFERENCE * (1 - host_share(c)))  (when a host is)
    named(c)    = (1 - b) * score(c) + b * S * q(name(c)) / Q * score(c) / S_name(c)
``b = w.names * n / (n + NAME_HALF_EVIDENCE) * h / (count(p) + h)``, ``h = w.half_evidence``
(empty line; a back-off from the line to its name): ``q``: share of each name among what
followed ``n`` runs of ``p``'s name; ``S``, ``S_name``, ``Q``: sums over the candidates.
Then the name first (empty line, ``naming.name_first``): the line ranked first is the one with the
most ``score(c) / S + w.name_first * N(name(c))``, ``N = t * q / Q + (1 - t) * S_name / S``,
``t = n / (n + NAME_TRUST_HALF)``, backed off from the names of what followed ``p`` itself
(``count(p) / (count(p) + NAME_TRUST_HALF)`` of it); it trades scores with the best line.

``short`` and ``long`` are the command's occurrence counts decayed exponentially with the
number of commands run since (time constants ``TAU_SHORT`` and ``TAU_LONG``, fixed at
training) divided by the total weight of all commands, so ``static`` is a recency-weighted
frequency; ``age`` is the number of commands since its last use. ``successor(c)`` is
``transitions(p -> c) / count(p)``, backed off from what followed the two previous commands
``p2 p`` in a row: ``l * transitions(p2 p -> c) / count(p2 p) + (1 - l) * transitions(p -> c) /
count(p)`` with ``l = count(p2 p) / (count(p2 p) + PAIR_HALF_EVIDENCE)``. On the empty line
the command just run takes ``w.repeat_rate`` of the total of the scores (the user's measured
rate of running a command twice in a row), the others keep their proportions.
``template_share`` is how often ``p`` was followed by a command of ``c``'s template (first
words and options, see ``template``) times ``c``'s share of that template's matches, so a
successor whose full line never repeats (``git commit -m "..."`` after ``git add -A``) still
wins as a family.
``followed_last`` is 1 for what followed ``p`` the last time it ran (edit-compile-run cycles).
``cwd_share`` is ``c``'s share of the commands run in the working directory, ``shell_share``
its share of uses in the current shell (1 when unknown, so unknown costs nothing), and
``host_share`` its share of recorded uses on this host (other devices sync theirs: sync/).

``combine``: history candidates share ``1 - novelty * w.ngram`` of the probability in
proportion to ``score``; n-gram continuations (commands never seen whole) share
``novelty * w.ngram``, where ``novelty`` is the rate at which the history brings new commands;
once a word is typed, completions from the arguments of the last commands add up to
``w.argument_reuse`` more, and the three are scaled back to one distribution.

The weights have defaults below; ``train`` chooses them per user (``tuning.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from aprender_shell import limits
from aprender_shell.model.naming import NAME_HALF_EVIDENCE as NAME_HALF_EVIDENCE
from aprender_shell.model.naming import NAME_TRUST_HALF as NAME_TRUST_HALF
from aprender_shell.model.naming import name_first, named, scale_parts
from aprender_shell.model.templates import TEMPLATE_WORDS as TEMPLATE_WORDS
from aprender_shell.model.templates import template as template
from aprender_shell.model.templates import template_among as template_among
from aprender_shell.model.templates import template_of as template_of

# Read as ``scoring.template_of`` and so on by the rest of the model.
from aprender_shell.model.tuples import NamedTuple

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from typing import Any

# Fixed at training (the decayed counts in the segments are computed with them).
TAU_SHORT = 8.0
TAU_LONG = 3000.0
NGRAM_BACKOFF = 0.4

SUCCESSORS_KEPT = 12
# How often two commands in a row must have been seen for what followed them to take half of
# the successor share from what followed the last one alone (``FeatureBuilder``).
PAIR_HALF_EVIDENCE = 1.0
# The last commands run are kept in order (the trained history's last ones in the index), up
# to this many and this long, for their arguments to be reused in new commands.
RECENT_COMMANDS = 16
RECENT_COMMAND_CHARS = 200
# How many best-ranked matches a query scores when a prefix matches many commands; the
# same number is stored for prefixes that span segments, so segmenting never changes answers.
RETRIEVED_CANDIDATES = 24
NGRAM_CONTINUATIONS = 12
MAX_COMMAND_CHARS = limits.MAX_COMMAND_CHARS


class Weights(NamedTuple):
    """How the score mixes the signals; defaults are the fallback of short histories.

    A NamedTuple (immutable, compared and hashed by value) rather than a dataclass: importing
    dataclasses would add about 7 ms to every cold ``suggest``.
    """

    # Short-term against long-term frequency: the short one's share of ``static``.
    short_share: float = 0.5
    # The most recently used match is a strong guess on its own (zsh-autosuggestions' whole
    # strategy): the decayed weight of the last use alone takes this share of the score.
    recency: float = 0.35
    tau_recent: float = 5.0
    # Even a well-known previous command leaves room for what was used recently.
    context_max: float = 0.5
    # How often the previous command must have been seen for the sequence to get half of
    # ``context_max`` (``lam``).
    half_evidence: float = 1.0
    template: float = 0.5
    last_follower: float = 0.2
    cwd: float = 0.3
    shell: float = 0.5
    # Multiplies the share the n-gram continuations get (the history's novelty rate).
    ngram: float = 1.0
    # What the arguments of the last commands add, and how fast an older command's count less.
    argument_reuse: float = 0.5
    argument_reuse_tau: float = 3.0
    # How often this user runs the command just run again, right away: that command's share of
    # the guess, whatever its recency (measured at training, not tuned).
    repeat_rate: float = 0.05
    # What followed the previous command's name (any line of it) predicts the next name: its
    # share of the score, ``p(name | previous name) x p(line | name)`` (``query.successors.Names``).
    names: float = 0.0
    # On the empty line the next command's *name* is surer than its line (``git`` after
    # ``git pull``, its lines many): the line ranked first is the one whose share plus this
    # times its name's chance is highest (``naming.name_first``; the tuning half chose 0.5).
    name_first: float = 0.5

    def replace(self, **changes: float) -> Weights:
        """These weights with ``changes``; unknown names are a ValueError."""
        return self._replace(**changes)

    def to_dict(self) -> dict[str, float]:
        """The weights as the index's ``tuning`` stores them (their first names kept)."""
        return {STORED_AS.get(name, name): value for name, value in self._asdict().items()}

    @classmethod
    def from_mapping(cls, data: object) -> Weights:
        """Weights read defensively: known numeric keys in range are taken, the rest ignored."""
        if not isinstance(data, Mapping):
            return cls()
        taken: dict[str, float] = {}
        for name in cls._fields:
            value = data.get(STORED_AS.get(name, name))
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                number = float(value)
                low, high = BOUNDS[name]
                if math.isfinite(number) and low <= number <= high:
                    taken[name] = number
        return cls(**taken)


DEFAULT_WEIGHTS = Weights()
# Weights stored under the names they first had: the index's ``tuning`` keeps them, so models
# trained before and after the rename read alike (FORMAT.md).
STORED_AS = {
    "short_share": "mu",
    "half_evidence": "kappa",
    "argument_reuse": "recycle",
    "argument_reuse_tau": "recycle_tau",
}
# What a weight may be: shares stay shares, time constants stay positive.
BOUNDS: dict[str, tuple[float, float]] = {
    "short_share": (0.0, 1.0),
    "recency": (0.0, 1.0),
    "tau_recent": (0.5, 1000.0),
    "context_max": (0.0, 1.0),
    "half_evidence": (0.0, 100.0),
    "template": (0.0, 1.0),
    "last_follower": (0.0, 1.0),
    "cwd": (0.0, 1.0),
    "shell": (0.0, 1.0),
    "ngram": (0.0, 1.0 / 0.02),
    "argument_reuse": (0.0, 10.0),
    "argument_reuse_tau": (0.5, 1000.0),
    "repeat_rate": (0.0, 0.95),
    "names": (0.0, 1.0),
    "name_first": (0.0, 10.0),
}


class Features:
    """What the score reads about one query's candidates: one list per signal, candidate ``i``
    at index ``i`` in every list. ``query.features.FeatureBuilder`` fills it, the one place
    that does (for the predictor and the tuning replay alike); ``history_scores`` combines it.

    Flat lists rather than an object per candidate: a query has dozens of candidates and the
    replay tens of thousands of queries, and freed objects linger in the interpreter's free
    lists, which the memory limit would have to count.
    """

    __slots__ = (
        "short", "long", "age", "successor", "followed", "evidence", "group", "group_weight",
        "cwd_share", "shell_share", "repeat", "host_share", "name_share", "name_group",
        "name_evidence",
    )

    def __init__(self) -> None:
        self.short: list[float] = []  # decayed count (TAU_SHORT) over the total weight, in [0, 1]
        self.long: list[float] = []  # decayed count (TAU_LONG) over the total weight, in [0, 1]
        self.age: list[int] = []  # commands run since its last use; -1 when never used
        self.successor: list[float] = []  # transitions(p -> c) / count(p)
        self.followed: list[float] = []  # 1 for what followed p the last time it ran
        self.evidence = 0  # count(p): how often the previous command was seen
        # The candidate's template among those that followed p (an index into
        # group_weight), or -1; group_weight: how often p was followed by each, a share.
        self.group: list[int] = []
        self.group_weight: list[float] = []
        self.cwd_share: list[float] | None = None  # None: the working directory is unknown
        self.shell_share: list[float | None] | None = None  # None: the shell is unknown
        self.repeat = -1  # the candidate that is the command just run, or -1
        self.host_share: list[float | None] | None = None  # share of uses on this host
        # p(the candidate's name | the previous command's name), and the candidate's name as
        # an index (candidates of one name share it); None: no name followed the previous one
        self.name_share: list[float] | None = None
        self.name_group: list[int] = []
        self.name_evidence = 0  # how often lines of the previous command's name were followed


def decay(steps: float, tau: float) -> float:
    """The factor a weight loses over ``steps`` commands."""
    return math.exp(-steps / tau)


def total_weight(clock: float, tau: float) -> float:
    """Sum of the decayed weights of ``clock`` commands, the last of them just run."""
    if clock <= 0:
        return 0.0
    return (1.0 - math.exp(-clock / tau)) / (1.0 - math.exp(-1.0 / tau))


def _recent(
    weights: Weights, w_recent: float, short: float, long: float, age: int
) -> float:
    """``recent(c)``: frequency and last use, before any context."""
    share = weights.short_share
    value = (1.0 - weights.recency) * (share * short + (1.0 - share) * long)
    if age >= 0 and w_recent > 0 and weights.recency:
        value += weights.recency / w_recent * math.exp(-age / weights.tau_recent)
    return value


# The parts of a score by name, as ``suggest --explain`` shows them (``history_scores`` and
# ``combine`` fill them when asked; the keystroke path never asks).
PARTS = (
    "sequence", "frequency", "recency", "directory", "shell", "host", "arguments", "feedback",
    "repeat", "exit", "n-gram", "names", "name first",
)
Parts = dict[str, list[float]]


def history_scores(
    features: Features, weights: Weights, w_recent: float, parts: Parts | None = None
) -> list[float]:
    """Each candidate's score (the module's formula), in the order of ``features``.

    ``w_recent`` is ``total_weight(clock, weights.tau_recent)``, the same for every candidate
    of a query. A template share is computed from the scores without context (``local`` and
    the shell factor applied, the sequence not): the family is predicted from the sequence,
    the line from use. ``parts``, when given, is filled with what each named signal adds to
    each score (they sum to it).
    """
    mu, keep_static = weights.short_share, 1.0 - weights.recency
    recent_scale = weights.recency / w_recent if w_recent > 0 else 0.0
    tau_recent = weights.tau_recent
    exp = math.exp
    values = [
        keep_static * (mu * short + (1.0 - mu) * long)
        + (recent_scale * exp(-age / tau_recent) if age >= 0 and recent_scale else 0.0)
        for short, long, age in zip(features.short, features.long, features.age)
    ]
    if parts is not None:
        parts["frequency"] = [
            keep_static * (mu * short + (1.0 - mu) * long)
            for short, long in zip(features.short, features.long)
        ]
        parts["recency"] = [v - f for v, f in zip(values, parts["frequency"])]
    evidence = features.evidence
    if evidence > 0 and weights.context_max:
        lam = weights.context_max * evidence / (evidence + weights.half_evidence)
        template = weights.template
        shares = [0.0] * len(values)
        if template and features.group_weight:
            own = _in_context(values, features, weights)
            totals = [0.0] * len(features.group_weight)
            for value, group in zip(own, features.group):
                if group >= 0:
                    totals[group] += value
            for i, group in enumerate(features.group):
                if group >= 0 and totals[group] > 0:
                    shares[i] = features.group_weight[group] * own[i] / totals[group]
        direct = max(0.0, 1.0 - template - weights.last_follower)
        last = weights.last_follower
        sequence = [
            lam * (direct * successor + template * share + last * followed)
            for successor, share, followed in zip(features.successor, shares, features.followed)
        ]
        values = [s + (1.0 - lam) * v for v, s in zip(values, sequence)]
        if parts is not None:
            scale_parts(parts, 1.0 - lam)
            parts["sequence"] = sequence
    values = _in_context(values, features, weights, parts)
    if features.name_share is not None and weights.names and features.name_evidence:
        values = named(values, features, weights, parts)
    values = _repeated(values, features.repeat, weights, parts)
    if features.name_share is not None and weights.name_first and features.name_evidence:
        values = name_first(values, features, weights, parts)
    return values




def _repeated(
    values: list[float], repeat: int, weights: Weights, parts: Parts | None = None
) -> list[float]:
    """``values`` with the command just run taking ``repeat_rate`` of their total, the others
    keeping their proportions: how often this user repeats a command, not how recent it is."""
    if repeat < 0:
        return values
    others = sum(values) - values[repeat]
    if others > 0:
        rate = weights.repeat_rate
        values[repeat] = others * rate / (1.0 - rate)
        if parts is not None:
            for found in parts.values():
                found[repeat] = 0.0
            parts.setdefault("repeat", [0.0] * len(values))[repeat] = values[repeat]
    return values


# How much less a command run only on other hosts (synced) counts than one run here.
HOST_PREFERENCE = 0.3


def _in_context(
    values: list[float], features: Features, weights: Weights, parts: Parts | None = None
) -> list[float]:
    """``values`` mixed with the working directory's shares and scaled by the shell's and the
    host's."""
    if features.cwd_share is not None:
        cwd = weights.cwd
        values = [(1.0 - cwd) * v + cwd * share for v, share in zip(values, features.cwd_share)]
        if parts is not None:
            scale_parts(parts, 1.0 - cwd)
            parts["directory"] = [cwd * share for share in features.cwd_share]
    if features.shell_share is not None:
        shell = weights.shell
        scaled = [
            v if share is None else v * (1.0 - shell * (1.0 - share))
            for v, share in zip(values, features.shell_share)
        ]
        if parts is not None:
            parts["shell"] = [after - before for before, after in zip(values, scaled)]
        values = scaled
    if features.host_share is not None:
        # Commands synced from other machines count a little less than this host's own.
        scaled = [
            v if share is None else v * (1.0 - HOST_PREFERENCE * (1.0 - share))
            for v, share in zip(values, features.host_share)
        ]
        if parts is not None:
            parts["host"] = [after - before for before, after in zip(values, scaled)]
        values = scaled
    return values


def combine(
    history: Mapping[str, float],
    continuations: Iterable[tuple[str, float]],
    reused: Mapping[str, float],
    novelty: float,
    weights: Weights,
    parts: dict[str, dict[str, float]] | None = None,
) -> dict[str, float]:
    """One distribution over suggestions from the three sources (the module's ``combine``).

    ``reused`` shares are already scaled by how much the typed words take arguments; they
    are multiplied by ``weights.argument_reuse`` here. ``parts``, when given, gets each
    suggestion's share from each source: ``history``, ``n-gram`` and ``arguments``.
    """
    ngram_share = min(1.0, max(0.0, novelty * weights.ngram))
    total = sum(history.values())
    results: dict[str, float] = {}
    from_history: dict[str, float] = {}
    from_ngrams: dict[str, float] = {}
    if total > 0:
        history_share = 1.0 - ngram_share
        for text, value in history.items():
            results[text] = from_history[text] = history_share * value / total
    for text, probability in continuations:
        results[text] = results.get(text, 0.0) + ngram_share * probability
        from_ngrams[text] = from_ngrams.get(text, 0.0) + ngram_share * probability
    extra = {text: weights.argument_reuse * share for text, share in reused.items() if share > 0}
    scale = 1.0
    if extra:
        scale = 1.0 / (1.0 + sum(extra.values()))
        results = {text: scale * value for text, value in results.items()}
        for text, share in extra.items():
            results[text] = results.get(text, 0.0) + scale * share
    if parts is not None:
        sources = (("history", from_history), ("n-gram", from_ngrams), ("arguments", extra))
        for name, found in sources:
            parts[name] = {text: scale * value for text, value in found.items()}
    return results


def attribute(
    candidates: list[str],
    values: list[float],
    parts: Parts,
    sources: Mapping[str, Mapping[str, float]],
) -> dict[str, dict[str, float]]:
    """Each suggestion's share of the answer by named part: a history candidate's ``parts``
    (``history_scores``) scaled to its share in ``combine`` (``sources``), then what the
    n-grams and the reused arguments add."""
    explained: dict[str, dict[str, float]] = {}
    history = sources.get("history", {})
    for i, text in enumerate(candidates):
        scale = history.get(text, 0.0) / values[i] if values[i] > 0 else 0.0
        explained[text] = {name: scale * found[i] for name, found in parts.items()}
    for name in ("n-gram", "arguments"):
        for text, value in sources.get(name, {}).items():
            explained.setdefault(text, {})[name] = value
    return explained


def attribute_factors(
    explained: dict[str, dict[str, float]],
    before: Mapping[str, float],
    after: Mapping[str, float],
    name: str,
) -> None:
    """What a factor applied to whole scores (exit statuses, feedback) took or gave, as part
    ``name`` of each suggestion it changed: the parts still add up to the score."""
    for text, value in before.items():
        changed = after.get(text, 0.0) - value
        if changed:
            explained.setdefault(text, {})[name] = changed


def rank_score(short: float, long_: float, age: int, clock: int) -> float:
    """The score without any context, for ranking a model's commands at training time.

    ``short`` and ``long`` are raw decayed counts; ranked lists then agree with what a query
    without context scores.
    """
    w = DEFAULT_WEIGHTS
    return _recent(
        w,
        total_weight(clock, w.tau_recent),
        short / total_weight(clock, TAU_SHORT) if clock > 0 else 0.0,
        long_ / total_weight(clock, TAU_LONG) if clock > 0 else 0.0,
        age,
    )


def describe(weights: Weights) -> list[tuple[str, float]]:
    """The weights as (name, value) pairs, in declaration order (for ``stats``)."""
    return [(name, float(value)) for name, value in weights._asdict().items()]


def weights_from_index(index: Any) -> Weights:
    """The model's self-tuned weights (its ``tuning``), or the defaults when it has none;
    out-of-range or unknown entries are ignored one by one."""
    tuning = getattr(index, "tuning", None)
    return Weights.from_mapping(tuning) if tuning else DEFAULT_WEIGHTS

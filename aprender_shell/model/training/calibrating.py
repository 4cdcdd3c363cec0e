"""Calibration at training: what a score turned out to mean on the user's own recent history.

The end of the history (``tuning.SAMPLE`` commands, after ``tuning.WARM_UP`` learned first) is
replayed online with the chosen weights, as the tuning replay does (``OnlineModel``, the same
``FeatureBuilder`` and ``scoring.history_scores``): before each command, on the empty line and
after its first one and two characters, the best ``OBSERVED`` candidates' scores are noted with
whether each was the command run, and the likeliest partial ghost's start (``model.query.
partial``) with whether the command started with it. ``calibration.fit`` turns them into the
score-to-``p`` maps, and the empty line's best guesses, with their ``p``, into the level at
which it shows.

The repeat rate (how often a command is run twice in a row) is counted over the whole history
first: the replay scores the command just run with it, as the predictor does.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence

from aprender_shell.history.tokens import command_name
from aprender_shell.model import calibration, scoring
from aprender_shell.model.calibration import Calibration
from aprender_shell.model.query.features import add_names
from aprender_shell.model.query.partial import likeliest_start, partial_ghost
from aprender_shell.model.query.successors import NAME_CANDIDATES, NAMES_KEPT
from aprender_shell.model.scoring import Weights
from aprender_shell.model.training.online import OnlineModel
from aprender_shell.model.training.tuning import SAMPLE, WARM_UP, query_features

# How many of each query's best candidates are noted (the shells show the first; the rest
# still say how sure a lower-ranked score is).
OBSERVED = 3
TYPED = (1, 2)
# The starts' map is fitted on the starts its predecessor offers, this many times; on those
# alone once at least this many were offered (the first map judged every likeliest start).
START_REFITS = 2
START_OFFERED_ALONE = 200
# Below this many commands a repeat rate is a guess: the default stands.
MIN_REPEAT_EVIDENCE = 50


def repeat_rate(commands: Sequence[str]) -> float | None:
    """The share of commands that repeat the one just before (None: too few to tell)."""
    if len(commands) < MIN_REPEAT_EVIDENCE:
        return None
    repeats = sum(1 for before, after in zip(commands, commands[1:]) if before == after)
    low, high = scoring.BOUNDS["repeat_rate"]
    return min(high, max(low, repeats / (len(commands) - 1)))


def calibrate(commands: Sequence[str], weights: scoring.Weights) -> Calibration:
    """The calibration of ``weights`` on the end of ``commands`` (the prior when too short),
    with the share of the names signal (``Weights.names``) that put the command run first on
    the most empty lines of the replay (``Calibration.names``)."""
    queries: list[_Query] = []
    replay = OnlineModel()
    names = _Names()
    start = max(0, len(commands) - SAMPLE)
    previous: str | None = None
    for command in commands[max(0, start - WARM_UP) : start]:
        replay.learn(command, previous)
        names.learn(previous, command)
        previous = command
    for command in commands[start:]:
        for n in (0, *TYPED):
            if n >= len(command) or (n == 0 and previous is None):
                continue
            query = _query(replay, names, command[:n], previous, weights)
            if query is not None:
                queries.append((command[:n], command, *query))
        replay.learn(command, previous)
        names.learn(previous, command)
        previous = command
    chosen = _fit_names(queries, weights)
    observed: dict[str, list[tuple[float, bool]]] = {"empty": [], "typed": [], "start": []}
    best_guesses: list[tuple[float, bool]] = []
    starts: list[tuple[str, dict[str, float], str]] = []  # for the starts' second look
    for prefix, command, texts, features, w_recent in queries:
        ranked = _best(texts, features, w_recent, chosen, None)
        best = ranked[:OBSERVED]
        observed["typed" if prefix else "empty"].extend(
            (score, text == command) for text, score in best
        )
        # a partial ghost's start: right when the command starts with it
        shares = dict(ranked)
        cut = likeliest_start(prefix, shares)
        if cut is not None:
            # a map reads shares up to 1 (a longer one is refused when the model is read)
            observed["start"].append((min(1.0, cut[1]), command.startswith(cut[0])))
            starts.append((prefix, shares, command))
        if not prefix:
            best_guesses.append((best[0][1], best[0][0] == command) if best else (0.0, False))
    found = Calibration({kind: calibration.fit(pairs) for kind, pairs in observed.items()})
    for _ in range(START_REFITS):
        offered = _offered_starts(found, starts)
        if not offered:
            break
        # what an offered start is worth, once enough were offered to say: the likeliest
        # starts never offered are other ghosts (pooled, they made offered ones seem unsure)
        enough = len(offered) >= START_OFFERED_ALONE
        knots = calibration.fit(offered if enough else observed["start"] + offered)
        if knots:
            found.knots["start"] = knots
        else:
            found.knots.pop("start", None)
    guesses = [(found.p(score, empty=True), right) for score, right in best_guesses]
    found.show_level = calibration.show_level(guesses)
    found.names = chosen.names
    return found


# One replayed query: what was typed ("" on the empty line), the command run, its candidates
# and their features, and the total weight of recency at its clock.
_Query = tuple[str, str, list[str], scoring.Features, float]
# The shares of the names signal tried (``Weights.names``).
NAMES_GRID = (0.0, 0.6, 0.9)


def _query(
    replay: OnlineModel, names: _Names, prefix: str, previous: str | None, weights: Weights
) -> tuple[list[str], scoring.Features, float] | None:
    """The query's candidates and features, as the predictor gathers them."""
    followers = replay.followers.get(previous) if previous is not None else None
    texts = list(dict.fromkeys(replay.best_matches(prefix, followers)))
    shares: dict[str, float] = {}
    evidence = 0
    if not prefix and previous is not None:
        shares, evidence, lines = names.after(previous)
        texts += [text for text in lines if text not in texts]
    if not texts:
        return None
    features = query_features(replay, previous, texts, repeat=None if prefix else previous)
    add_names(features, texts, shares, evidence)
    return texts, features, scoring.total_weight(replay.clock, weights.tau_recent)


def _fit_names(queries: Sequence[_Query], weights: Weights) -> Weights:
    """``weights`` with the names share that puts the command run first on the most empty
    lines of the replay (the smallest of equals)."""
    empty = [query for query in queries if not query[0]]
    best, best_right = weights, -1
    for share in NAMES_GRID:
        tried = weights.replace(names=share)
        right = 0
        for _, command, texts, features, w_recent in empty:
            top = _best(texts, features, w_recent, tried, 1)
            right += bool(top) and top[0][0] == command
        if right > best_right:
            best, best_right = tried, right
    return best


def _offered_starts(
    found: Calibration, queries: Sequence[tuple[str, dict[str, float], str]]
) -> list[tuple[float, bool]]:
    """The partial ghosts ``found``'s maps offer on ``queries`` (prefix, candidates' shares,
    the command run), as the predictor picks them (likelier than the best line), each its
    summed share and whether the command started with it. The first map saw every query's
    likeliest start, most of them never offered: these say what an offered one is worth."""
    pairs: list[tuple[float, bool]] = []
    for prefix, shares, command in queries:
        empty = not prefix

        def chance(summed: float, empty: bool = empty) -> float:
            return found.p_start(summed, empty)

        text, share = min(shares.items(), key=lambda item: (-item[1], item[0]))
        ghost = partial_ghost(prefix, shares, chance, (text, found.p(share, empty)))
        if ghost is not None:
            pairs.append((ghost.score, command.startswith(ghost.text)))
    return pairs


def _best(
    texts: list[str],
    features: scoring.Features,
    w_recent: float,
    weights: Weights,
    observed: int | None = OBSERVED,
) -> list[tuple[str, float]]:
    """The query's ``observed`` best candidates (all, for None) and their scores, best first,
    each a share of the ``calibration.TOP`` best (as the predictor reads them)."""
    values = scoring.history_scores(features, weights, w_recent)
    top = sum(heapq.nlargest(calibration.TOP, values))
    if top <= 0:
        return []
    scored = [(text, value / top) for text, value in zip(texts, values)]
    # ties go to the first text, as the predictor breaks them
    if observed is None:
        return sorted(scored, key=lambda item: (-item[1], item[0]))
    return heapq.nsmallest(observed, scored, key=lambda item: (-item[1], item[0]))


class _Names:
    """What followed each command name in the replay: the next names and the next lines, as
    the predictor pools them (``query.successors.Names``)."""

    def __init__(self) -> None:
        self.names: dict[str, Counter[str]] = {}
        self.lines: dict[str, Counter[str]] = {}

    def learn(self, previous: str | None, command: str) -> None:
        if previous is None:
            return
        key, name = command_name(previous), command_name(command)
        if key and name:
            self.names.setdefault(key, Counter())[name] += 1
            self.lines.setdefault(key, Counter())[command] += 1

    def after(self, previous: str) -> tuple[dict[str, float], int, list[str]]:
        """The next names' shares after ``previous``'s name, how often it was followed, and
        the lines that followed it most."""
        key = command_name(previous)
        counts = self.names.get(key)
        if not counts:
            return {}, 0, []
        total = sum(counts.values())
        shares = {name: count / total for name, count in counts.most_common(NAMES_KEPT)}
        return shares, total, [text for text, _ in self.lines[key].most_common(NAME_CANDIDATES)]

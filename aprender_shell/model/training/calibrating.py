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
from collections.abc import Sequence

from aprender_shell.model import calibration, scoring
from aprender_shell.model.calibration import Calibration
from aprender_shell.model.query.partial import likeliest_start, partial_ghost
from aprender_shell.model.training.online import OnlineModel
from aprender_shell.model.training.tuning import SAMPLE, WARM_UP, query_features

# How many of each query's best candidates are noted (the shells show the first; the rest
# still say how sure a lower-ranked score is).
OBSERVED = 3
TYPED = (1, 2)
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
    """The calibration of ``weights`` on the end of ``commands`` (the prior when too short)."""
    observed: dict[str, list[tuple[float, bool]]] = {"empty": [], "typed": [], "start": []}
    best_guesses: list[tuple[float, bool]] = []
    queries: list[tuple[str, dict[str, float], str]] = []  # for the starts' second look
    replay = OnlineModel()
    start = max(0, len(commands) - SAMPLE)
    previous: str | None = None
    for command in commands[max(0, start - WARM_UP) : start]:
        replay.learn(command, previous)
        previous = command
    for command in commands[start:]:
        for n in (0, *TYPED):
            if n >= len(command) or (n == 0 and previous is None):
                continue
            ranked = _best(replay, command[:n], previous, weights)
            best = ranked[:OBSERVED]
            kind = "empty" if n == 0 else "typed"
            observed[kind].extend((score, text == command) for text, score in best)
            # a partial ghost's start: right when the command starts with it
            shares = dict(ranked)
            cut = likeliest_start(command[:n], shares)
            if cut is not None:
                # a map reads shares up to 1 (a longer one is refused when the model is read)
                observed["start"].append((min(1.0, cut[1]), command.startswith(cut[0])))
                queries.append((command[:n], shares, command))
            if n == 0:
                best_guesses.append((best[0][1], best[0][0] == command) if best else (0.0, False))
        replay.learn(command, previous)
        previous = command
    found = Calibration({kind: calibration.fit(pairs) for kind, pairs in observed.items()})
    offered = _offered_starts(found, queries)
    if offered:
        found.knots["start"] = calibration.fit(observed["start"] + offered) or []
        if not found.knots["start"]:
            del found.knots["start"]
    guesses = [(found.p(score, empty=True), right) for score, right in best_guesses]
    found.show_level = calibration.show_level(guesses)
    return found


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
    replay: OnlineModel,
    prefix: str,
    previous: str | None,
    weights: scoring.Weights,
) -> list[tuple[str, float]]:
    """The query's candidates, best first, and their scores, each a share of the
    ``calibration.TOP`` best (as the predictor reads them)."""
    followers = replay.followers.get(previous) if previous is not None else None
    texts = list(dict.fromkeys(replay.best_matches(prefix, followers)))
    if not texts:
        return []
    features = query_features(replay, previous, texts, repeat=None if prefix else previous)
    clock = replay.clock
    values = scoring.history_scores(
        features, weights, scoring.total_weight(clock, weights.tau_recent)
    )
    top = sum(heapq.nlargest(calibration.TOP, values))
    if top <= 0:
        return []
    scored = [(text, value / top) for text, value in zip(texts, values)]
    # ties go to the first text, as the predictor breaks them
    return sorted(scored, key=lambda item: (-item[1], item[0]))

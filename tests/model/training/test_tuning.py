"""Training tunes the score's weights to the user: different habits, different weights."""

from __future__ import annotations

import math
import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from aprender_shell.evaluate.replay import evaluate, split_history
from aprender_shell.history.formats import HistoryEntry
from aprender_shell.model import scoring
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.model.training import tuning
from aprender_shell.model.training.train import train_model
from aprender_shell.model.training.tuning import _Sample, tune
from benchmarks.sessions import generate_sessions
from tests.model.sessions import WORKDAY, entries


def _user(persona: str, seed: int) -> list[HistoryEntry]:
    return [HistoryEntry(s.command, s.timestamp)
            for s in generate_sessions(2500, seed=seed, persona=persona)]


@pytest.mark.slow
def test_users_get_different_weights_that_beat_the_defaults(tmp_path: Path) -> None:
    tuned: dict[str, scoring.Weights] = {}
    gains: list[float] = []
    for persona, seed in (("ops", 5), ("data", 6), ("developer", 6)):
        train, test = split_history(_user(persona, seed), 0.8)
        path = tmp_path / f"{persona}.apbundle"
        train_model(train, path)
        with Predictor.open(path) as mine, Predictor.open(path) as default:
            assert mine.stats().tuned
            tuned[persona] = mine.weights
            default.weights = scoring.DEFAULT_WEIGHTS
            report = evaluate(train, test, {"tuned": mine, "default": default}, online=True)
        gains.append(report.metrics["tuned"].ksr - report.metrics["default"].ksr)
    # Judged on the held-out tails, which tuning never saw: better on the whole, and never
    # much worse for anyone (weights chosen on one stretch can lose a little on the next).
    assert sum(gains) > 0 and min(gains) > -0.01, gains
    assert tuned["ops"] != tuned["data"]


def test_a_short_history_keeps_the_defaults(tmp_path: Path) -> None:
    # Too short to tune the weights; its repeat rate, its calibration and the names share the
    # calibration's replay chooses are measured all the same.
    path = tmp_path / "model.apbundle"
    train_model(entries(WORKDAY * 3), path)
    with Predictor.open(path) as predictor:
        measured = predictor.weights.repeat_rate
        names = predictor.weights.names
        assert predictor.weights == scoring.DEFAULT_WEIGHTS.replace(
            repeat_rate=measured, names=names
        )
        assert not predictor.stats().tuned
        assert predictor.index.tuning is not None
        assert {name for name in predictor.index.tuning if not name.startswith("p.")} == {
            "repeat_rate", "names"
        }


def test_bad_tuning_in_an_index_falls_back_to_defaults() -> None:
    # The index checks the tuning's types; the score keeps only names and ranges it knows.
    index = SimpleNamespace(tuning={"recency": 1.5, "mu": 7.0, "kappa": 2.0, "nonsense": 1.0})
    assert scoring.weights_from_index(index) == scoring.DEFAULT_WEIGHTS.replace(half_evidence=2.0)
    assert scoring.weights_from_index(SimpleNamespace(tuning=None)) == scoring.DEFAULT_WEIGHTS


def test_tuned_weights_keep_the_names_models_store_them_under() -> None:
    # Renamed in the code (mu, kappa, recycle), the weights keep their stored keys: a model
    # tuned by an older version reads the same weights, and an older version reads ours.
    tuned = scoring.DEFAULT_WEIGHTS.replace(short_share=0.8, half_evidence=4.0, argument_reuse=2.0)
    stored = tuned.to_dict()
    assert stored["mu"] == 0.8 and stored["kappa"] == 4.0 and stored["recycle"] == 2.0
    assert scoring.Weights.from_mapping(stored) == tuned


def _habits(reuses_arguments: bool, seed: int) -> list[str]:
    """A user who works on a new file every few commands, in one of two habits: one opens,
    adds and runs the file just created (the last command's argument is the next one's);
    the other reads a new pod's logs, then goes back to one of the same notes files."""
    rng = random.Random(seed)
    commands: list[str] = []
    while len(commands) < 1500:
        n = rng.randrange(10**6)
        if reuses_arguments:
            name = f"draft_{n}.py"
            commands += [f"touch {name}", f"vim {name}", f"python3 {name}", f"git add {name}"]
        else:
            notes = rng.choice(["todo", "notes", "plan", "ideas", "log", "review"])
            commands += [f"kubectl logs web-{n}", f"vim {notes}.md"]
        commands.append(rng.choice(["git status", "ls", "make test"]))
    return commands


def test_the_argument_reuse_share_follows_the_user_habit() -> None:
    """Reusing the last command's argument is the only way to the next command for one user;
    for the other it mostly proposes a pod's name where a notes file comes."""
    reuser = tune(_habits(True, seed=1), novelty=0.3)
    other = tune(_habits(False, seed=2), novelty=0.3)
    assert reuser is not None and other is not None
    assert reuser.argument_reuse > other.argument_reuse
    # and for the reuser the choice saves keystrokes on a new stretch of the same habit
    sample = _Sample(_habits(True, seed=3), 0.3)
    default_share = reuser.replace(argument_reuse=scoring.DEFAULT_WEIGHTS.argument_reuse)
    assert sample.saving(reuser) >= sample.saving(default_share)
    assert sample.saving(reuser) > sample.saving(scoring.DEFAULT_WEIGHTS)
    assert sample.saving(reuser) > 2 * sample.saving(reuser.replace(argument_reuse=0.0))


def _reference_wins(query: Any, weights: scoring.Weights, clock: int, novelty: float) -> float:
    """How far the command (candidate 0) is ahead of the best other candidate, scored the way
    the predictor scores: ``scoring.history_scores`` over the features the replay built with
    the predictor's ``FeatureBuilder``, ``scoring.combine`` for the reused arguments.
    Negative: it does not win (the candidates before it in text order win ties)."""
    w_recent = scoring.total_weight(clock, weights.tau_recent)
    scores = scoring.history_scores(query.features, weights, w_recent)
    history = {str(i): value for i, value in enumerate(scores)}
    reused: dict[str, float] = {}
    if query.reused:
        decay = [math.exp(-age / weights.argument_reuse_tau) for age in range(64)]
        tau = weights.argument_reuse_tau
        reused = {str(i): share for i, share in query.reused_shares(tau, decay)}
    results = scoring.combine(history, [], reused, novelty, weights)
    top = results.get("0", 0.0)
    if top <= 0:
        return -1.0
    count = len(query.features.age)
    others = [(results.get(str(i), 0.0), i) for i in range(1, count)]
    if not others:
        return 1.0
    return min(top - value if i > query.before else top - value - 1e-300 for value, i in others)


def test_the_tuning_judges_weights_exactly_as_the_predictor_scores() -> None:
    # The replay spells the score out over flat lists for speed: it must rank as scoring does.
    from benchmarks.server import synthetic_commands

    commands = synthetic_commands(2500, seed=3)
    novelty = 0.2
    sample = tuning._Sample(commands, novelty)
    rng = random.Random(9)
    compared = 0
    for _ in range(12):
        weights = scoring.DEFAULT_WEIGHTS.replace(
            **{name: rng.choice(values) for name, values in tuning.GRID.items()}
        )
        setting = tuning._Setting(weights, sample.longest, novelty, sample.ids)
        for _length, clock, queries in sample.commands:
            w_recent = scoring.total_weight(clock, weights.tau_recent)
            c_recent = weights.recency / w_recent if w_recent > 0 else 0.0
            for _n, query in queries:
                if query is tuning._ALWAYS:
                    continue
                margin = _reference_wins(query, weights, clock, novelty)
                if abs(margin) < 1e-9:
                    continue  # a tie to the last bits: rounding may go either way
                assert tuning._wins(query, setting, c_recent) == (margin > 0)
                compared += 1
    assert compared > 1000

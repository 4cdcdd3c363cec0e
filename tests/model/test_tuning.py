"""Training tunes the score's weights to the user: different habits, different weights."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from aprender_shell.bench.sessions import generate_sessions
from aprender_shell.evaluate.replay import evaluate, split_history
from aprender_shell.history.formats import HistoryEntry
from aprender_shell.model import scoring
from aprender_shell.model.predictor import Predictor
from aprender_shell.model.train import train_model
from tests.model.sessions import WORKDAY, entries


def _user(persona: str, seed: int) -> list[HistoryEntry]:
    return [HistoryEntry(s.command, s.timestamp)
            for s in generate_sessions(2500, seed=seed, persona=persona)]


@pytest.mark.slow
def test_two_users_get_different_weights_and_each_beats_the_defaults(tmp_path: Path) -> None:
    tuned: dict[str, scoring.Weights] = {}
    for persona, seed in (("ops", 5), ("data", 6)):
        train, test = split_history(_user(persona, seed), 0.8)
        path = tmp_path / f"{persona}.apbundle"
        train_model(train, path)
        with Predictor.open(path) as mine, Predictor.open(path) as default:
            assert mine.stats().tuned
            tuned[persona] = mine.weights
            default.weights = scoring.DEFAULT_WEIGHTS
            report = evaluate(train, test, {"tuned": mine, "default": default}, online=True)
        # judged on the held-out tail, which tuning never saw
        assert report.metrics["tuned"].ksr > report.metrics["default"].ksr
    assert tuned["ops"] != tuned["data"]


def test_a_short_history_keeps_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "model.apbundle"
    train_model(entries(WORKDAY * 3), path)
    with Predictor.open(path) as predictor:
        assert predictor.weights == scoring.DEFAULT_WEIGHTS
        assert not predictor.stats().tuned
        assert predictor.index.tuning is None


def test_bad_tuning_in_an_index_falls_back_to_defaults() -> None:
    # The index checks the tuning's types; the score keeps only names and ranges it knows.
    index = SimpleNamespace(tuning={"recency": 1.5, "mu": 7.0, "kappa": 2.0, "nonsense": 1.0})
    assert scoring.weights_from_index(index) == scoring.DEFAULT_WEIGHTS.replace(kappa=2.0)
    assert scoring.weights_from_index(SimpleNamespace(tuning=None)) == scoring.DEFAULT_WEIGHTS

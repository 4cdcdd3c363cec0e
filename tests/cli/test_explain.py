"""``suggest --explain``: why each suggestion, by the same code that ranks them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aprender_shell.model.learned.feedback import LineFeedback
from aprender_shell.model.learned.journal import journal_path
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.model.scoring import PARTS
from aprender_shell.model.training.train import train_model
from tests.cli.test_commands import run
from tests.model.sessions import entries


def _habit() -> list[str]:
    commands: list[str] = []
    for number in range(30):
        commands += ["git status", f"vim src/mod{number % 7}.py", "git diff", "git add -A",
                     f'git commit -m "change {number}"', "make test"]
    return commands


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "model.apbundle"
    train_model(entries(_habit()), path)
    return path


def test_explain_prints_p_and_the_named_parts_of_each_suggestion(model: Path) -> None:
    done = run("suggest", "--explain", "git ", "--prev", "git add -A", "--model", str(model))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = lines[0].split()
    assert header == ["p", "score", "sequence", "frequency", "recency", "directory", "shell",
                      "arguments", "feedback", "suggestion"]
    # every message differs: the likely start comes first, then the whole lines
    assert lines[1].split(None, 9)[9].startswith('git commit -m "change  (partial)')
    first = lines[2].split(None, 9)
    assert first[9].startswith('git commit -m "change 29"')
    # after 'git add -A' the commit wins by what followed it, not by how often it is run
    sequence, frequency = float(first[2]), float(first[3])
    assert sequence > 5 * frequency
    plain = run("suggest", "git ", "--prev", "git add -A", "--model", str(model)).stdout
    assert [line.split("\t")[0] for line in plain.splitlines()] == [
        line.split(None, 9)[9].split(" (")[0] for line in lines[1:7]
    ]
    text, p, mark = plain.splitlines()[0].split("\t")
    assert (text, mark) == ('git commit -m "change ', "partial") and 0.5 < float(p) <= 0.99
    assert "partial: the likely start of several suggestions" in done.stdout
    assert "the chance it is the command you run next" in done.stdout


def test_the_parts_add_up_to_the_score_the_predictor_ranks_by(model: Path) -> None:
    with Predictor.open(model) as predictor:
        predictor.record("git add -A", cwd="/src", exit_status=0, prev=["git diff"])
        predictor.record("git add -As", cwd="/src", exit_status=1, prev=["git add -A"])
        for prefix, prev in (("", ["git add -A"]), ("git ", ["git add -A"]), ("vim s", [])):
            explained = predictor.explain(prefix, k=5, prev=prev, cwd="/src", shell="zsh")
            ranked = predictor.suggest(prefix, k=5, prev=prev, cwd="/src", shell="zsh")
            assert [s for s, _ in explained] == ranked
            for suggestion, parts in explained:
                assert set(parts) <= set(PARTS)
                assert sum(parts.values()) == pytest.approx(suggestion.score, abs=1e-9)
        parts = dict(predictor.explain("git add", k=5, prev=["git add -A"], cwd="/src"))
        failed = next(p for s, p in parts.items() if s.text == "git add -As")
        assert failed["exit"] < 0


def test_explain_shows_what_feedback_and_other_hosts_did_to_a_score(model: Path) -> None:
    with Predictor.open(model) as predictor:
        predictor.record("git fetch --all", exit_status=0)
        predictor.save()
    # Runs another device synced (sync/): recorded on another host, they count a little less.
    with journal_path(model).open("a") as journal:
        for _ in range(3):
            journal.write(json.dumps({"c": "git fetch --all", "host": "desktop", "exit": 0}) + "\n")
    with Predictor.open(model) as predictor:
        for _ in range(4):  # 'git status' taken from the ghost, 'git diff' typed over
            predictor.feedback.note(
                LineFeedback(shown=1, accepted="git status", ignored=("git diff",)),
                predictor.knows,
            )
        explained = {s.text: (s, parts) for s, parts in predictor.explain("git ", k=10)}
    taken, skipped = explained["git status"][1], explained["git diff"][1]
    assert taken["feedback"] > 0 > skipped["feedback"]
    assert explained["git fetch --all"][1]["host"] < 0
    for suggestion, parts in explained.values():
        assert sum(parts.values()) == pytest.approx(suggestion.score, abs=1e-9)

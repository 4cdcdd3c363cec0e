"""``forget``: a command taken back leaves the model, its corpus, its n-grams and its journal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aprender_shell.bundle import ModelBundle
from aprender_shell.errors import UsageError
from aprender_shell.history.formats import HistoryEntry
from aprender_shell.model.learned.journal import journal_path
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.model.training.forget import command_matcher, forget
from aprender_shell.model.training.train import train_model
from tests.model.sessions import WORKDAY
from tests.model.training.test_secrets_in_model import every_view

OOPS = "deploy-tool push --target prod-eu-zulu42"


def trained(tmp_path: Path) -> Path:
    model = tmp_path / "model.apbundle"
    commands = [*WORKDAY, OOPS, "git status", OOPS, "git push", "ls"]
    train_model([HistoryEntry(c, 1_700_000_000 + n) for n, c in enumerate(commands)], model,
                history_marks=[{"path": "/nowhere", "size": 1, "inode": 1, "mtime_ns": 1,
                                "offset": 1, "count": 1, "tail": "x", "fmt": "zsh",
                                "salt": "s", "tail_hashes": [], "last_timestamp": None}])
    return model


def suggestions(model: Path, prefix: str, prev: list[str] | None = None) -> list[str]:
    with Predictor.open(model) as predictor:
        return [s.text for s in predictor.suggest(prefix, k=20, prev=prev or [])]


def index_of(model: Path) -> dict[str, object]:
    return json.loads(ModelBundle.load(model).get_model("index"))  # type: ignore[no-any-return]


def test_forget_removes_a_command_everywhere_and_keeps_the_rest(tmp_path: Path) -> None:
    model = trained(tmp_path)
    with Predictor.open(model) as predictor:
        predictor.record(OOPS, prev=["git status"])
        predictor.record("make test", prev=[OOPS])
        predictor.save()
    before = index_of(model)
    assert OOPS in suggestions(model, "deploy")
    assert any(OOPS.encode() in view for view in every_view(model))

    result = forget(model, command_matcher(OOPS))
    assert (result.from_corpus, result.from_journal) == (2, 1)
    assert result.commands == {OOPS: 3}
    assert not any(b"zulu42" in view for view in every_view(model))  # commands, n-grams, corpus
    assert b"zulu42" not in journal_path(model).read_bytes()
    assert not any("zulu42" in s for s in suggestions(model, "deploy-tool push --target prod"))
    assert not any("zulu42" in s for s in suggestions(model, "", prev=["git status"]))
    # Everything else stays: other commands, what the shells recorded, marks and tuning.
    assert "git status" in suggestions(model, "git s")
    assert "make test" in suggestions(model, "make t")
    after = index_of(model)
    for key in ("generation", "ngram", "memory_limit", "history"):
        assert after[key] == before[key], key


def test_a_dry_run_counts_and_changes_nothing(tmp_path: Path) -> None:
    model = trained(tmp_path)
    data = model.read_bytes()
    result = forget(model, command_matcher("prod-eu", "contains"), dry_run=True)
    assert result.removed == 2 and not result.retrained
    assert model.read_bytes() == data


def test_regex_and_contains_modes(tmp_path: Path) -> None:
    model = trained(tmp_path)
    assert forget(model, command_matcher(r"^git (status|push)$", "regex")).from_corpus >= 3
    assert not any(s in ("git status", "git push") for s in suggestions(model, "git "))
    assert "git pull" in suggestions(model, "git p")
    assert forget(model, command_matcher("zulu", "contains")).from_corpus == 2


def test_nothing_matching_leaves_the_model_untouched(tmp_path: Path) -> None:
    model = trained(tmp_path)
    data = model.read_bytes()
    assert forget(model, command_matcher("deploy-tool")).removed == 0  # exact: whole commands
    assert model.read_bytes() == data


@pytest.mark.parametrize(
    ("pattern", "mode", "message"),
    [("(unclosed", "regex", "not a regular expression"), ("", "exact", "empty"),
     ("x", "fuzzy", "match mode")],
)
def test_bad_patterns_say_what_is_wrong(pattern: str, mode: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        command_matcher(pattern, mode)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aprender_shell", *args],
                          capture_output=True, text=True, timeout=120)


def test_the_command_line_lists_forgets_and_reports(tmp_path: Path) -> None:
    model = trained(tmp_path)
    dry = run_cli("forget", "--contains", "zulu42", "--dry-run", "--model", str(model))
    assert dry.returncode == 0, dry.stderr
    assert "Would forget 2 commands (1 distinct)" in dry.stdout and OOPS in dry.stdout
    done = run_cli("forget", OOPS, "--model", str(model))
    assert done.returncode == 0, done.stderr
    assert "Forgot 2 commands (1 distinct)." in done.stdout and "history_filter" in done.stdout
    again = run_cli("forget", OOPS, "--model", str(model))
    assert again.returncode == 0 and "No command matches" in again.stdout
    bad = run_cli("forget", "--regex", "(x", "--model", str(model))
    assert bad.returncode == 1 and "not a regular expression" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_contains_and_regex_together_are_refused_and_nothing_is_forgotten(
    tmp_path: Path,
) -> None:
    model = trained(tmp_path)
    before = model.read_bytes()
    both = run_cli("forget", "--contains", "--regex", "zulu", "--model", str(model))
    assert both.returncode == 2
    assert "--contains and --regex exclude each other" in both.stderr
    assert model.read_bytes() == before

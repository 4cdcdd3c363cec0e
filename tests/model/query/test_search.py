"""Ctrl-R's ranked history, from a real model and journal on disk."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from aprender_shell.history.formats import HistoryEntry
from aprender_shell.model.learned.journal import journal_path
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.model.query.search import (
    SearchFilters,
    past_commands,
    ranked_commands,
    this_host,
)
from aprender_shell.model.training.forget import command_matcher, forget
from aprender_shell.model.training.train import train_model
from tests.model.sessions import WORKDAY, entries


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "model.apbundle"
    train_model(entries(WORKDAY * 3), path)
    return path


def test_every_command_of_the_corpus_once_most_recent_first(model: Path) -> None:
    with Predictor.open(model) as predictor:
        found = past_commands(predictor)
    assert sorted(found) == sorted(set(WORKDAY))
    last_use = {command: at for at, command in enumerate(WORKDAY)}
    assert found == sorted(found, key=lambda command: -last_use[command])


def test_the_models_best_for_this_moment_lead_then_recency(model: Path) -> None:
    with Predictor.open(model) as predictor:
        ranked = ranked_commands(predictor, prev=["git add ."])
        best = [s.text for s in predictor.suggest("", k=3, prev=["git add ."])]
    # After "git add ." the model's first choice is a commit, though "git status" ran later.
    assert best[0].startswith("git commit")
    assert ranked[:3] == best
    with Predictor.open(model) as predictor:
        assert past_commands(predictor)[0] != ranked[0]  # recency alone would say otherwise
    assert sorted(ranked) == sorted(set(WORKDAY))


def test_what_the_shells_recorded_since_comes_first_and_once(model: Path) -> None:
    with Predictor.open(model) as predictor:
        predictor.record("terraform plan", cwd="/infra", exit_status=0)
        predictor.record("git status", cwd="/src", exit_status=0)
        found = past_commands(predictor)
    assert found[:2] == ["git status", "terraform plan"]
    assert found.count("git status") == 1


def test_filters_keep_commands_with_a_run_that_matches_them_all(model: Path) -> None:
    with Predictor.open(model) as predictor:
        predictor.record("make deploy", cwd="/src", exit_status=2)
        predictor.record("make test", cwd="/src", exit_status=0)
        predictor.record("ls -la", cwd="/tmp", exit_status=0)
        predictor.record("make deploy", cwd="/tmp", exit_status=0)
        here = past_commands(predictor, SearchFilters(folder="/src"))
        succeeded_here = past_commands(predictor, SearchFilters("/src", succeeded=True))
        succeeded = past_commands(predictor, SearchFilters(succeeded=True))
        this_one = past_commands(predictor, SearchFilters(host=this_host()))
        elsewhere = past_commands(predictor, SearchFilters(host="another-host"))
    # The history file says nothing of where or how a command ran: filtered, only recorded
    # runs count.
    assert here == ["make test", "make deploy"]
    assert succeeded_here == ["make test"]
    assert succeeded == ["make deploy", "ls -la", "make test"]
    assert this_one == ["make deploy", "ls -la", "make test"]
    assert elsewhere == []


def test_a_journal_from_another_host_is_filtered_by_host(model: Path) -> None:
    with Predictor.open(model) as predictor:
        predictor.record("uptime", cwd="/", exit_status=0)
    path = journal_path(model)
    # The same home on another machine appends its own runs to the same journal.
    line = {"c": "reboot", "cwd": "/", "exit": 0, "host": "another-host", "t": 1}
    path.write_text(path.read_text() + json.dumps(line) + "\n")
    with Predictor.open(model) as predictor:
        assert past_commands(predictor, SearchFilters(host=this_host())) == ["uptime"]
        assert past_commands(predictor, SearchFilters(host="another-host")) == ["reboot"]
        assert past_commands(predictor)[:2] == ["reboot", "uptime"]


def test_forgotten_commands_never_appear(model: Path) -> None:
    with Predictor.open(model) as predictor:
        predictor.record("ssh pi@192.168.1.20", cwd="/", exit_status=0)
    forget(model, command_matcher("git push", "contains"))
    forget(model, command_matcher("ssh pi@192.168.1.20"))
    with Predictor.open(model) as predictor:
        found = ranked_commands(predictor)
    assert not [command for command in found if "git push" in command or "ssh pi" in command]
    assert "git status" in found


def test_secrets_never_appear(model: Path) -> None:
    with Predictor.open(model) as predictor:
        predictor.record("export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        predictor.record(" echo private")
        predictor.record("echo public")
        found = ranked_commands(predictor)
    assert "echo public" in found
    assert not [command for command in found if "SECRET" in command or "private" in command]


def test_a_model_trained_on_the_sample_lists_only_the_users_own(tmp_path: Path) -> None:
    path = tmp_path / "sample.apbundle"
    train_model([HistoryEntry(c, None) for c in WORKDAY], path, source="sample")
    with Predictor.open(path) as predictor:
        assert ranked_commands(predictor) == []
        predictor.record("cargo build", cwd="/src", exit_status=0)
        assert ranked_commands(predictor) == ["cargo build"]


def test_the_journal_names_the_host_of_each_run(model: Path) -> None:
    with Predictor.open(model) as predictor:
        predictor.record("hostname", cwd="/", exit_status=0)
    records = [json.loads(line) for line in journal_path(model).read_text().splitlines()[1:]]
    assert records[0]["host"] == os.uname().nodename == this_host()

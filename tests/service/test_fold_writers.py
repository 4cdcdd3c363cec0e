"""A fold against the server appending at the same moment, stopped at each of its steps:
a record the server acknowledged while a fold swapped the model and its journal is kept,
once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from aprender_shell.model.learned.journal import journal_path
from aprender_shell.model.learned.newest import FOLD_RECORDS
from aprender_shell.model.training.fold import PAUSE_AT_ENV, STEPS
from tests.service.conftest import WAIT, ServerProcess, aprender, texts, wait_for
from tests.service.test_durability import kept
from tests.service.test_fold import record_many, write_journal


def paused_fold(model: Path, at: str, folder: Path) -> subprocess.Popen[str]:
    """The server's fold child, started by hand and stopped at step ``at``."""
    folder.mkdir()
    fold = subprocess.Popen(
        [sys.executable, "-m", "aprender_shell.model.training.fold", str(model)],
        env={**os.environ, PAUSE_AT_ENV: f"{at}:{folder}"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    wait_for(lambda: fold.poll() is not None or (folder / "paused").exists(),
             what=f"the fold to stop at {at}")
    assert fold.poll() is None, fold.communicate()[0]
    return fold


def record_in_background(server: ServerProcess, command: str) -> tuple[threading.Thread,
                                                                       list[Any]]:
    answers: list[Any] = []

    def record() -> None:
        answers.append(server.request({"record": command, "cwd": "/srv", "shell": "zsh",
                                       "prev": ["git status"]}))

    thread = threading.Thread(target=record)
    thread.start()
    return thread, answers


@pytest.mark.parametrize("at", STEPS)
def test_a_record_acknowledged_at_any_step_of_a_fold_is_kept_once(
    model: Path, run_server, tmp_path: Path, at: str
) -> None:
    server = run_server(model)
    before = kept(model)
    commands = [f"ssh host{n} uptime" for n in range(30)]
    record_many(server, commands)
    fold = paused_fold(model, at, tmp_path / "pause")
    during = "make --during-the-fold"
    thread, answers = record_in_background(server, during)
    # A server that appends at once has answered by now; one that waits for the fold's lock
    # answers once the fold goes on.
    thread.join(2)
    (tmp_path / "pause" / "resume").touch()
    thread.join(WAIT)
    output, _ = fold.communicate(timeout=WAIT)
    assert fold.returncode == 0, output
    assert answers == [{"ok": True}]
    after = "make --after-the-fold"
    record_many(server, [after])
    assert Counter(kept(model)) == Counter([*before, *commands, during, after]), at


def test_update_after_a_fold_counts_each_command_once(tmp_path: Path, run_server) -> None:
    history = tmp_path / "zsh_history"
    trained = [f"git log -n {n}" for n in range(100)]
    history.write_text("".join(f"{command}\n" for command in trained))
    model = tmp_path / "model.apbundle"
    result = aprender("train", "--history", str(history), "--model", str(model))
    assert result.returncode == 0, result.stderr
    server = run_server(model)
    live = [f"kubectl rollout status deploy/web{n}" for n in range(700)]
    with server.client() as client:
        for command in live:
            assert client.request({"record": command, "cwd": "/srv", "shell": "zsh"}) \
                == {"ok": True}
    # The shell writes its history too (at exit, or as it goes).
    with history.open("a") as handle:
        handle.write("".join(f"{command}\n" for command in live))
    wait_for(lambda: server.request({"status": True})["status"]["folds"] >= 1,
             what="the server to fold its journal")
    updated = aprender("update", "--model", str(model))
    assert updated.returncode == 0, updated.stderr
    counts = Counter(kept(model))
    assert sum(counts.values()) == 800
    assert {command: counts[command] for command in live} == dict.fromkeys(live, 1)
    # A command run again later is a new run: learned again.
    assert server.request({"record": live[0], "shell": "zsh"}) == {"ok": True}
    with history.open("a") as handle:
        handle.write(f"{live[0]}\n{live[1]}\n")  # the second never went through the server
    assert aprender("update", "--model", str(model)).returncode == 0
    counts = Counter(kept(model))
    assert (counts[live[0]], counts[live[1]]) == (2, 2)


def test_a_forget_removes_a_folded_command_from_what_update_reconciles(model: Path) -> None:
    commands = [f"ssh secret-box{n}" for n in range(20)]
    write_journal(model, commands)
    folded = subprocess.run([sys.executable, "-m", "aprender_shell.model.training.fold",
                             str(model)], capture_output=True, text=True, timeout=WAIT)
    assert folded.stdout.strip() == "folded 20 records", folded.stderr
    assert b"secret-box7" in journal_path(model).read_bytes()  # kept for update to reconcile
    forgot = aprender("forget", "--contains", "secret-box7", "--model", str(model))
    assert forgot.returncode == 0, forgot.stderr
    assert b"secret-box7" not in journal_path(model).read_bytes()
    assert b"secret-box8" in journal_path(model).read_bytes()


def test_an_agents_runs_outlive_a_fold_and_are_suggested_only_when_asked(
    model: Path, run_server
) -> None:
    server = run_server(model)
    agent_ran = [f"terraform apply -auto-approve stack{n}" for n in range(5)]
    with server.client() as client:
        for command in agent_ran:
            assert client.request({"record": command, "cwd": "/infra", "shell": "bash",
                                   "agent": "claude-code"}) == {"ok": True}
    record_many(server, [f"echo people-step{n}" for n in range(FOLD_RECORDS + 20)])
    wait_for(lambda: server.request({"status": True})["status"]["folds"] >= 1,
             what="the server to fold its journal")
    records = journal_path(model).read_text().splitlines()[1:]
    assert not [line for line in records if "stack0" in line]  # folded: out of the journal ...
    assert Counter(kept(model))[agent_ran[0]] == 1  # ... into the model's corpus, once
    # Not suggested by the server, nor by a cold suggest, unless asked for.
    assert not [t for t in texts(server.request({"prefix": "terraform ap", "k": 10}))
                if "stack" in t]
    assert not [t for t in server.request({"search": True})["commands"] if "stack" in t]
    plain = aprender("suggest", "--model", str(model), "terraform ap")
    assert plain.returncode == 0, plain.stderr
    assert "stack" not in plain.stdout
    asked = aprender("suggest", "--agents", "--model", str(model), "terraform apply -auto")
    assert asked.returncode == 0, asked.stderr
    assert "terraform apply -auto-approve stack4" in asked.stdout

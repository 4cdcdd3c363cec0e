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

from aprender_shell.model.training.fold import PAUSE_AT_ENV, STEPS
from tests.service.conftest import WAIT, ServerProcess, wait_for
from tests.service.test_durability import kept
from tests.service.test_fold import record_many


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

"""Forgetting where the commands are: the model files and the running server that serves them
(the library call 'aprender-shell forget' makes)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aprender_shell.model.learned.journal import journal_path
from aprender_shell.service.control import forget_everywhere
from tests.service.conftest import ServerProcess, texts

Start = Callable[..., ServerProcess]


def test_the_serving_server_forgets_what_it_learned_and_the_files_what_they_hold(
    model: Path, run_server: Start
) -> None:
    server = run_server(model)
    assert server.request({"record": "make deploy-secret", "cwd": "/src"}) == {"ok": True}
    assert texts(server.request({"prefix": "make d"})) == ["make deploy-secret"]
    forgotten = forget_everywhere(model, "make", "contains")
    assert forgotten.server_pid == server.pid and forgotten.server_error is None
    # Ten "make test" in the model, the recorded one in the server.
    assert forgotten.removed == 11 and forgotten.commands["make test"] == 10
    assert texts(server.request({"prefix": "make"})) == []
    server.terminate()
    assert b"make" not in journal_path(model).read_bytes()


def test_a_dry_run_asks_no_server_and_changes_nothing(model: Path, run_server: Start) -> None:
    server = run_server(model)
    before = model.read_bytes()
    forgotten = forget_everywhere(model, "git push", dry_run=True)
    assert (forgotten.removed, forgotten.server_pid) == (10, None)
    assert model.read_bytes() == before
    assert texts(server.request({"prefix": "git p"})) == ["git push"]

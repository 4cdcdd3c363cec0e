"""A real server with the user's patterns: a catastrophic one costs nothing, a bad one is named."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from aprender_shell.paths import history_filter_path
from tests.service.conftest import ServerProcess, aprender, texts

Start = Callable[..., ServerProcess]

CATASTROPHIC = "(a+)+$"
HOSTILE = "echo " + "a" * 40 + "b"  # about 2**40 steps for a backtracking engine


def write_filter(text: str) -> Path:
    path = history_filter_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.timeout(180)
def test_a_catastrophic_filter_pattern_does_not_stop_the_server(
    model: Path, run_server: Start
) -> None:
    write_filter(f"{CATASTROPHIC}\n")
    server = run_server(model)
    with server.client() as client:
        assert client.request({"record": HOSTILE, "cwd": "/tmp"}) == {"ok": True}
        assert texts(client.request({"prefix": "echo a"})) == [HOSTILE]
        assert client.request({"record": "echo aaaa"}) == {"ok": True}  # filtered, acknowledged
        assert texts(client.request({"prefix": "git c", "k": 1})) == ["git commit -m fix"]
        assert "echo aaaa" not in texts(client.request({"prefix": "echo a", "k": 5}))


@pytest.mark.timeout(180)
def test_a_forget_request_with_a_catastrophic_regex_is_answered(
    model: Path, run_server: Start
) -> None:
    server = run_server(model)
    with server.client() as client:
        for n in range(50):
            assert client.request({"record": f"{HOSTILE}{n}"}) == {"ok": True}
        client.request({"record": "echo aaaa"})
        assert client.request({"forget": CATASTROPHIC, "match": "regex"}) == {"forgotten": 1}
        refused = client.request({"forget": "(x)\\1", "match": "regex"})
        assert "backreference" in refused["error"]
        assert texts(client.request({"prefix": "git c", "k": 1})) == ["git commit -m fix"]


def test_a_bad_filter_line_is_named_and_learning_goes_on(model: Path, run_server: Start) -> None:
    path = write_filter("^ssh .*prod\n[bad\n")
    server = run_server(model)
    with server.client() as client:
        assert client.request({"record": "ssh admin@db.prod"}) == {"ok": True}
        assert client.request({"record": "kubectl get pods"}) == {"ok": True}
        assert texts(client.request({"prefix": "kub"})) == ["kubectl get pods"]
        assert texts(client.request({"prefix": "ssh"})) == []
        (problem,) = client.request({"status": True})["status"]["filter_problems"]
    assert str(path) in problem and "line 2" in problem and "missing ]" in problem
    assert "line 2" in server.log()  # logged when the server read the file
    status = aprender("server", "status")
    assert status.returncode == 0, status.stderr
    (shown,) = [line for line in status.stdout.splitlines() if "Filter problem" in line]
    assert str(path) in shown and "line 2" in shown and "'[bad'" in shown
    # Fixed while the server runs: the problem goes, the filter still applies.
    path.write_text("^ssh .*prod\n")
    with server.client() as client:
        assert client.request({"status": True})["status"]["filter_problems"] == []
        assert client.request({"record": "ssh root@web.prod"}) == {"ok": True}
        assert texts(client.request({"prefix": "ssh"})) == []

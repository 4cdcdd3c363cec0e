"""``suggest --batch`` and ``server connect`` through the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

from aprender_shell.model.learned.journal import journal_path
from aprender_shell.paths import socket_path
from aprender_shell.service.instance import accepts
from tests.service.conftest import WAIT, ServerProcess, aprender, texts, train

Start = Callable[..., ServerProcess]


def answers(output: str) -> list[Any]:
    return [json.loads(line) for line in output.splitlines()]


def lines(*requests: Any) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in requests)


def test_batch_answers_one_line_per_request_and_goes_on_after_errors(model: Path) -> None:
    done = aprender(
        "suggest", "--batch", "--model", str(model),
        input=lines(
            {"prefix": "git c", "k": 2, "prev": ["git add ."], "cwd": "/src"},
            "{broken",
            {"record": "pnpm run dev", "cwd": "/web", "exit": 0},
            {"prefix": 3},
            {"prefix": "pnpm"},
            {"stats": True},
        ),
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    got = answers(done.stdout)
    assert len(got) == 6
    assert texts(got[0])[0] == "git commit -m fix" and len(got[0]["suggestions"]) <= 2
    assert all(0 < item["score"] <= 1 for item in got[0]["suggestions"])
    assert got[1]["error"].startswith("request is not valid JSON")
    assert got[2] == {"ok": True}
    assert got[3] == {"error": "'prefix' must be a string"}
    assert texts(got[4]) == ["pnpm run dev"]
    assert got[5]["stats"]["learned_commands"] == 1
    # Learned commands are saved when the input ends.
    assert "pnpm run dev" in journal_path(model).read_text()


def test_batch_without_a_model_answers_errors_not_a_crash(tmp_path: Path) -> None:
    missing = tmp_path / "none.apbundle"
    done = aprender("suggest", "--batch", "--model", str(missing),
                    input=lines({"prefix": "git"}, {"record": "ls"}))
    assert done.returncode == 0
    expected = {"error": f"no model at {missing}: run 'aprender-shell train' first"}
    assert answers(done.stdout) == [expected, expected]


def test_batch_answers_as_it_reads(model: Path) -> None:
    """Each answer is flushed before the next request is read (an interactive client)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "aprender_shell", "suggest", "--batch", "--model", str(model)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        for prefix in ("git c", "make", "dock"):
            process.stdin.write(json.dumps({"prefix": prefix}) + "\n")
            process.stdin.flush()
            assert texts(json.loads(process.stdout.readline()))[0].startswith(prefix)
    finally:
        process.stdin.close()
        assert process.wait(timeout=WAIT) == 0


def test_batch_survives_invalid_utf8_and_an_endless_line(model: Path) -> None:
    data = b'{"prefix": "\xff"}\n' + b"x" * 200_000 + b"\n" + b'{"prefix": "make"}\n'
    done = subprocess.run(
        [sys.executable, "-m", "aprender_shell", "suggest", "--batch", "--model", str(model)],
        input=data, capture_output=True, timeout=WAIT,
    )
    got = [json.loads(line) for line in done.stdout.splitlines()]
    assert got[0] == {"error": "request is not valid UTF-8"}
    assert got[1]["error"].startswith("request line longer than")
    assert texts(got[2]) == ["make test"]


def test_connect_relays_to_a_running_server(model: Path, run_server: Start) -> None:
    server = run_server(model)
    done = aprender("server", "connect", "--model", str(model),
                    input=lines({"record": "just deploy"}, {"prefix": "just"}, "oops"))
    assert done.returncode == 0 and done.stderr == ""
    got = answers(done.stdout)
    assert got[0] == {"ok": True} and texts(got[1]) == ["just deploy"]
    assert got[2]["error"].startswith("request is not valid JSON")
    # It was the server that learned it.
    assert texts(server.request({"prefix": "just"})) == ["just deploy"]


def test_connect_starts_the_server_when_none_runs(model: Path) -> None:
    assert not accepts(socket_path())
    done = aprender("server", "connect", "--model", str(model), input=lines({"prefix": "git c"}))
    assert done.returncode == 0 and done.stderr == ""
    assert texts(answers(done.stdout)[0])[0] == "git commit -m fix"
    assert accepts(socket_path())
    assert aprender("server", "status").returncode == 0


def test_connect_answers_in_process_when_no_server_can_be_had(
    model: Path, tmp_path: Path
) -> None:
    done = aprender("server", "connect", "--no-start", "--model", str(model),
                    input=lines({"prefix": "make"}, {"record": "zig build"}))
    assert done.returncode == 0 and done.stderr == ""
    got = answers(done.stdout)
    assert texts(got[0]) == ["make test"] and got[1] == {"ok": True}
    assert not accepts(socket_path())
    assert "zig build" in journal_path(model).read_text()


def test_connect_keeps_answering_when_the_server_dies(model: Path, run_server: Start) -> None:
    server = run_server(model)
    process = subprocess.Popen(
        [sys.executable, "-m", "aprender_shell", "server", "connect", "--model", str(model)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdin is not None and process.stdout is not None

    def ask(request: Any) -> Any:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps(request) + "\n")
        process.stdin.flush()
        return json.loads(process.stdout.readline())

    try:
        assert ask({"status": True})["status"]["pid"] == server.pid
        server.process.kill()
        server.process.wait()
        assert texts(ask({"prefix": "git c"}))[0] == "git commit -m fix"
        # A new server took over (started by the relay).
        assert ask({"status": True})["status"]["pid"] not in (server.pid, os.getpid())
    finally:
        process.stdin.close()
        assert process.wait(timeout=WAIT) == 0
        assert process.stderr is not None and process.stderr.read() == ""


def test_server_command_help_lists_every_subcommand() -> None:
    done = aprender("server", "--help")
    assert done.returncode == 0
    for name in ("start", "run", "stop", "status", "connect"):
        assert f"  {name} " in done.stdout


def test_answers_carry_p_and_the_empty_line_says_whether_to_show(tmp_path: Path) -> None:
    # A 60-of-60 habit shows on the empty line, sure of itself; a history with no pattern
    # answers the empty line all the same, but says not to show it (the line form: "quiet").
    import random

    habit = train(tmp_path / "habit.apbundle", ["git add -A", "git commit -m wip"] * 30)
    rng = random.Random(5)
    noise = train(tmp_path / "noise.apbundle", [
        f"{rng.choice(['ls', 'cat', 'vim', 'grep', 'rm', 'cp'])} f{rng.randrange(300)}"
        for _ in range(900)
    ])
    asked = lines(
        {"prefix": "", "prev": ["git commit -m wip", "git add -A"]},
        {"prefix": "git c", "prev": ["git add -A"]},
        "suggest\t7\t1\tzsh\t/src\t\tgit add -A",
    )
    done = aprender("suggest", "--batch", "--model", str(habit), input=asked)
    assert done.returncode == 0, done.stderr
    empty, typed, line = done.stdout.splitlines()
    empty_answer, typed_answer = json.loads(empty), json.loads(typed)
    assert empty_answer["show"] is True
    assert empty_answer["suggestions"][0]["text"] == "git commit -m wip"
    assert empty_answer["suggestions"][0]["p"] >= 0.8
    assert "show" not in typed_answer  # a typed prefix is always shown
    assert all(0 <= s["p"] <= 1 for s in typed_answer["suggestions"])
    assert line == "suggestions\t7\tgit commit -m wip"

    done = aprender("suggest", "--batch", "--model", str(noise), input=asked)
    empty_answer = json.loads(done.stdout.splitlines()[0])
    assert empty_answer["show"] is False and empty_answer["suggestions"]
    assert done.stdout.splitlines()[2].startswith("quiet\t7\t")

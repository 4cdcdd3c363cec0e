"""``aprender-shell search`` and the server's ``search`` request, with real processes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from tests.service.conftest import ServerProcess, aprender, train

Start = Callable[..., ServerProcess]


def listed(*args: str) -> list[str]:
    done = aprender("search", "--list", *args)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout.splitlines()


def test_the_server_answers_the_ranked_history_and_what_it_learned(
    model: Path, run_server: Start
) -> None:
    server = run_server(model)
    server.request({"record": "terraform plan", "cwd": "/infra", "exit": 0, "shell": "bash"})
    answer = server.request({"search": True, "prev": ["git add ."], "shell": "bash"})
    commands = answer["commands"]
    assert commands[0] == "git commit -m fix"  # what follows "git add ."
    assert sorted(commands) == sorted(
        {"git status", "git add .", "git commit -m fix", "git push", "ls -la", "make test",
         "docker ps", "terraform plan"}
    )
    here = server.request({"search": True, "folder": "/infra", "succeeded": True})
    assert here == {"commands": ["terraform plan"]}
    elsewhere = server.request({"search": True, "host": "not-" + os.uname().nodename})
    assert elsewhere == {"commands": []}


def test_the_command_line_lists_through_the_server_or_without_it(
    model: Path, run_server: Start, private_home: Path
) -> None:
    # The default model, so that the server serves it and a cold search reads it.
    default = private_home.parent / "aprender" / "model.apbundle"
    default.parent.mkdir(mode=0o700, exist_ok=True)
    train(default)
    cold = listed("--prev", "git add .")
    server = run_server(default)
    server.request({"record": "cargo build", "cwd": "/src", "exit": 0})
    warm = listed("--prev", "git add .", "--cwd", "/src")
    assert cold[0] == warm[0] == "git commit -m fix"
    assert "cargo build" in warm and "cargo build" not in cold
    assert listed("--here", "--cwd", "/src", "--succeeded") == ["cargo build"]
    assert listed("--model", str(model), "--here", "--cwd", "/src") == []


def test_a_query_narrows_the_list_keeping_its_order(model: Path) -> None:
    everything = listed("--model", str(model), "--prev", "git add .")
    assert listed("--model", str(model), "--prev", "git add .", "GIT") == []  # capitals: as typed
    found = listed("--model", str(model), "--prev", "git add .", "--", "git")
    assert found == [command for command in everything if "git" in command]
    assert found[0] == "git commit -m fix"


def test_a_multi_line_command_is_one_escaped_line(tmp_path: Path) -> None:
    model = train(tmp_path / "m.apbundle", ["for f in *; do\n  echo $f\ndone", "ls"])
    assert listed("--model", str(model)) == ["ls", "for f in *; do\\n  echo $f\\ndone"]


def test_without_a_model_it_says_what_to_do(tmp_path: Path) -> None:
    done = aprender("search", "--list", "--model", str(tmp_path / "missing.apbundle"))
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1 and "train" in done.stderr


def test_a_bad_option_is_one_line(model: Path) -> None:
    done = aprender("search", "--shell", "tcsh", "--model", str(model))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "Error: Invalid value for '--shell': 'tcsh' is not one of 'zsh', 'bash', 'fish' "
        "(see 'aprender-shell search --help')"
    ]


def fold_now(model: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "aprender_shell.model.training.fold", str(model)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0 and done.stdout.startswith("folded 4 records"), done.stdout


def test_the_filters_find_folded_runs_as_they_found_them_in_the_journal(
    model: Path, run_server: Start
) -> None:
    server = run_server(model)
    host = os.uname().nodename
    for command, cwd, exit_status in (
        ("terraform plan", "/infra", 0),
        ("terraform apply", "/infra", 1),
        ("cargo build", "/src", 0),
        ("cargo test", "/src", 101),
    ):
        server.request({"record": command, "cwd": cwd, "exit": exit_status, "shell": "bash"})
    searches = {
        "here": {"folder": "/infra"},
        "succeeded": {"succeeded": True},
        "here and succeeded": {"folder": "/src", "succeeded": True},
        "this host": {"host": host},
        "another host": {"host": "not-" + host},
    }

    def answers() -> dict[str, list[str]]:
        return {
            name: sorted(server.request({"search": True, **filters})["commands"])
            for name, filters in searches.items()
        }

    before = answers()
    assert before == {
        "here": ["terraform apply", "terraform plan"],
        "succeeded": ["cargo build", "terraform plan"],
        "here and succeeded": ["cargo build"],
        "this host": ["cargo build", "cargo test", "terraform apply", "terraform plan"],
        "another host": [],
    }
    assert server.terminate() == 0
    fold_now(model)
    server = run_server(model)
    assert server.request({"status": True})["status"]["unsaved_records"] == 0
    assert answers() == before

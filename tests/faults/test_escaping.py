"""No output meant for a person carries a byte that drives the terminal.

The history holds ``ESC ] 0 ; title BEL ESC [2J`` (retitle the window, clear the screen), a C1
CSI, a bidirectional override and a NUL. Every human-facing command prints them as visible
escapes; the JSON outputs escape them as JSON does.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from aprender_shell.terminal import escape_field, printable
from tests.service.conftest import ServerProcess

Start = Callable[..., ServerProcess]
NASTY = [
    "echo \x1b]0;pwned\x07\x1b[2J",
    "echo \x9b2J c1-csi",
    "echo \u202egnp.exe",
    "echo nul\x00byte",
    "echo del\x7f",
]
# Any C0 control but newline (and tab, where a format uses it), DEL, C1, a bidi control.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def aprender(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aprender_shell", *args], input=stdin,
                          capture_output=True, text=True, timeout=120,
                          encoding="utf-8", errors="surrogateescape")


def assert_safe(done: subprocess.CompletedProcess[str]) -> None:
    for name, text in (("stdout", done.stdout), ("stderr", done.stderr)):
        found = UNSAFE.search(text)
        assert found is None, (name, text)


@pytest.fixture
def nasty_model(tmp_path: Path) -> Path:
    history = tmp_path / "nasty_history"
    lines = []
    for n in range(40):
        lines += [*NASTY, "git status", f"make target{n % 3}"]
    history.write_bytes("\n".join(lines).encode("utf-8") + b"\n")
    model = tmp_path / "model.apbundle"
    done = aprender("train", "--history", str(history), "--model", str(model))
    assert done.returncode == 0, done.stderr
    return model


def test_suggest_prints_escapes_not_terminal_controls(nasty_model: Path) -> None:
    done = aprender("suggest", "echo", "-k", "10", "--model", str(nasty_model))
    assert done.returncode == 0, done.stderr
    assert_safe(done)
    shown = [line.split("\t")[0] for line in done.stdout.splitlines()]
    assert "echo \\x1b]0;pwned\\x07\\x1b[2J" in shown
    assert "echo \\x9b2J c1-csi" in shown
    assert "echo \\u202egnp.exe" in shown


def test_the_click_path_of_suggest_escapes_too(nasty_model: Path) -> None:
    # --prev given twice with '=' keeps the fast path; a batch-less '--' goes through click.
    done = aprender("suggest", "--model", str(nasty_model), "-k", "10", "--", "echo")
    assert_safe(done)
    assert "echo \\x1b]0;pwned\\x07\\x1b[2J" in done.stdout


def test_stats_shows_top_commands_escaped(nasty_model: Path) -> None:
    done = aprender("stats", "--model", str(nasty_model))
    assert done.returncode == 0, done.stderr
    assert_safe(done)
    assert "echo \\x1b]0;pwned\\x07\\x1b[2J" in done.stdout


def test_evaluate_and_train_name_files_escaped(tmp_path: Path) -> None:
    history = tmp_path / "hist\x1b[2J\x07ory"
    history.write_text("\n".join((NASTY + ["git status", "make", "ls -la"] * 4) * 30) + "\n")
    trained = aprender("train", "--history", str(history), "--model", str(tmp_path / "m.ap"))
    assert trained.returncode == 0, trained.stderr
    assert_safe(trained)
    assert "hist\\x1b[2J\\x07ory" in trained.stdout
    evaluated = aprender("evaluate", "--history", str(history))
    assert evaluated.returncode == 0, evaluated.stderr
    assert_safe(evaluated)


def test_error_messages_quote_input_escaped(tmp_path: Path) -> None:
    missing = tmp_path / "no\x1b]0;pwned\x07such"
    for command in (["train", "--history", str(missing)], ["suggest", "git", "--model",
                    str(missing)], ["stats", "--model", str(missing)]):
        done = aprender(*command)
        assert done.returncode == 1
        assert_safe(done)
        assert "no\\x1b]0;pwned\\x07such" in done.stderr


def test_server_status_escapes_what_it_shows(
    tmp_path: Path, nasty_model: Path, run_server: Start
) -> None:
    folder = tmp_path / "mo\x1b[2Jdel"
    folder.mkdir()
    model = folder / "model.apbundle"
    nasty_model.rename(model)
    run_server(model)
    done = aprender("server", "status")
    assert done.returncode == 0, done.stderr
    assert_safe(done)
    assert "mo\\x1b[2Jdel" in done.stdout


def test_batch_output_is_json_escaped(nasty_model: Path) -> None:
    done = aprender("suggest", "--batch", "--model", str(nasty_model),
                    stdin='{"prefix":"echo","k":10}\n')
    assert_safe(done)
    texts = [item["text"] for item in json.loads(done.stdout)["suggestions"]]
    assert NASTY[0] in texts


def test_undecodable_bytes_and_surrogates_become_visible_escapes() -> None:
    assert printable("a\udcffb") == "a\\xffb"
    assert printable("x\ud800") == "x\\ud800"
    assert printable("tab\there\\") == "tab\\x09here\\"
    assert escape_field("tab\there\\ \n") == "tab\\there\\\\ \\n"
    assert printable("café ✓ 中文") == "café ✓ 中文"

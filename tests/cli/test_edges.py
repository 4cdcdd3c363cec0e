"""The rough edges a new user meets in the first hour, each as that user meets it: real
processes in a private home, real files."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.model.sessions import WORKDAY, write_zsh_history


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aprender_shell", *args],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    return done.stderr.strip()


def zsh_history(path: Path, commands: list[str]) -> Path:
    path.write_text("".join(f": {1700000000 + i}:0;{c}\n" for i, c in enumerate(commands)))
    return path


def test_bare_command_shows_the_help_and_exits_0() -> None:
    done = run()
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout and "Commands:" in done.stdout


@pytest.mark.parametrize("group", [[], ["server"]], ids=["top", "server"])
def test_the_command_list_gives_whole_one_line_descriptions(group: list[str]) -> None:
    listing = run(*group, "--help").stdout.split("Commands:\n", 1)[1]
    rows = [line for line in listing.splitlines() if line.strip()]
    assert rows and all(re.match(r"  [a-z]+ +\S", row) for row in rows), listing
    for row in rows:
        assert not row.rstrip().endswith("..."), row
        assert row.rstrip().endswith("."), row


@pytest.mark.parametrize(
    "command", [["train"], ["suggest"], ["update"], ["forget"], ["stats"], ["server", "start"]]
)
def test_model_option_shows_its_default(command: list[str], tmp_path: Path) -> None:
    # A long path wraps mid-word: compare without the white space.
    shown = "".join(run(*command, "--help").stdout.split())
    default = tmp_path / "aprender" / "model.apbundle"
    assert f"[default:{default}]" in shown, shown


def test_train_makes_missing_folders_private(tmp_path: Path) -> None:
    history = zsh_history(tmp_path / "history", ["git status", "ls -la"])
    model = tmp_path / "new" / "dir" / "m.apbundle"
    done = run("train", "--history", str(history), "--model", str(model))
    assert done.returncode == 0, done.stderr
    for folder in (tmp_path / "new", tmp_path / "new" / "dir"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_train_refuses_an_empty_history(tmp_path: Path) -> None:
    empty = tmp_path / "empty_history"
    empty.write_text("")
    model = tmp_path / "m.apbundle"
    line = one_error_line(run("train", "--history", str(empty), "--model", str(model)))
    assert "no commands" in line and "--history" in line, line
    assert not model.exists()


def test_evaluate_refuses_a_tiny_history_and_says_how_many_it_needs(tmp_path: Path) -> None:
    tiny = zsh_history(tmp_path / "tiny", ["ls", "ls"])
    line = one_error_line(run("evaluate", "--history", str(tiny)))
    assert "holds 2 commands" in line and "at least 50" in line, line


def test_a_broken_model_given_by_path_is_not_sent_to_plain_train(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.apbundle"
    garbage.write_bytes(b"not a model at all\n" * 10)
    for command in (["suggest", "git"], ["stats"]):
        line = one_error_line(run(*command, "--model", str(garbage)))
        assert "retrain with 'aprender-shell train'" not in line, line
        assert f"aprender-shell train --model {garbage}" in line and "remove it" in line, line


def test_server_status_says_what_its_counters_count(tmp_path: Path) -> None:
    history = tmp_path / "history"
    write_zsh_history(history, WORKDAY)
    assert run("train", "--history", str(history)).returncode == 0
    assert run("server", "start").returncode == 0
    try:
        shown = run("server", "status").stdout
    finally:
        run("server", "stop")
    header = shown.splitlines()[0]
    paging = next(line for line in shown.splitlines() if "Paging:" in line)
    # Both counted since the server started, and each says so.
    assert "requests from shells served since it started" in header, shown
    assert "since it started, its own start-up loads included" in paging, shown


@pytest.fixture
def real_layout(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of a user without APRENDER_SHELL_HOME: files under ~/.local/share."""
    monkeypatch.delenv("APRENDER_SHELL_HOME")
    return dict(os.environ)


def test_uninstall_removes_the_empty_folders_train_made(
    private_home: Path, real_layout: dict[str, str]
) -> None:
    keep = private_home / ".local" / "state"  # someone else's, made before
    keep.mkdir(parents=True)
    zsh_history(private_home / ".zsh_history", ["git status", "ls -la"])
    (private_home / ".config").mkdir()
    assert run("train", env=real_layout).returncode == 0
    data = private_home / ".local" / "share" / "aprender-shell"
    assert stat.S_IMODE((private_home / ".local" / "share").stat().st_mode) == 0o700
    assert data.is_dir()
    done = run("uninstall", env=real_layout)
    assert done.returncode == 0, done.stderr
    assert not (private_home / ".local" / "share").exists()
    # Folders that were there before, or hold other files, stay.
    assert keep.is_dir() and (private_home / ".config").is_dir()


def test_install_without_a_model_trains_one_and_says_from_what(private_home: Path) -> None:
    zsh_history(private_home / ".zsh_history", ["git status", "ls -la", "git push"])
    done = run("install", "--shell", "bash")
    assert done.returncode == 0, done.stderr
    assert "No trained model yet: training one on ~/.zsh_history" in done.stdout, done.stdout
    model = Path(os.environ["APRENDER_SHELL_HOME"]) / "model.apbundle"
    assert model.is_file()
    suggested = run("suggest", "git p")
    assert suggested.stdout.startswith("git push\t"), suggested.stdout + suggested.stderr


def test_install_without_a_model_or_history_says_how_to_get_one() -> None:
    done = run("install", "--shell", "bash")
    assert done.returncode == 0, done.stderr
    assert "no shell history to train one on" in done.stdout, done.stdout
    assert "aprender-shell train" in done.stdout


@pytest.mark.parametrize("shell", ["bash", "fish"])
def test_install_names_the_key_that_fills_the_line(shell: str) -> None:
    done = run("install", "--shell", shell, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "Alt-; " in done.stdout and "fills the line" in done.stdout, done.stdout


def test_the_fish_snippet_closes_after_the_code_it_wraps(private_home: Path) -> None:
    assert run("install", "--shell", "fish").returncode == 0
    snippet = (private_home / ".config/fish/conf.d/aprender-shell.fish").read_text()
    lines = snippet.splitlines()
    assert lines[0] == "# >>> aprender-shell >>>" and lines[-1] == "# <<< aprender-shell <<<"
    assert "init fish" in snippet.split("# <<< aprender-shell <<<")[0]
    done = run("uninstall", "--shell", "fish")
    assert done.returncode == 0, done.stderr
    assert not (private_home / ".config").exists()


def test_forget_names_the_shell_history_files_that_still_hold_the_commands(
    private_home: Path, tmp_path: Path
) -> None:
    secret = "ssh pi@192.168.1.20"
    zsh_history(private_home / ".zsh_history", [secret, "ls", secret])
    (private_home / ".bash_history").write_text(f"{secret}\nls\n")
    (private_home / ".local/share/fish").mkdir(parents=True)
    (private_home / ".local/share/fish/fish_history").write_text("- cmd: ls\n  when: 1700000000\n")
    assert run("train").returncode == 0
    done = run("forget", secret)
    assert done.returncode == 0, done.stderr
    assert "~/.zsh_history (2), ~/.bash_history (1)" in done.stdout, done.stdout
    assert "fish_history" not in done.stdout

"""Every error is one line on stderr (what is wrong, where to look), usage errors exit 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import aprender_shell

USAGE_ERRORS = [
    (["init", "tcsh"], "Invalid value for 'SHELL'", "aprender-shell init --help"),
    (["init"], "Missing argument 'SHELL'", "aprender-shell init --help"),
    (["train", "--bogus"], "No such option '--bogus'", "aprender-shell train --help"),
    (["bogus"], "No such command 'bogus'", "aprender-shell --help"),
    (["server", "bogus"], "No such command 'bogus'", "aprender-shell server --help"),
    (["suggest", "x", "-k", "many"], "Invalid value for '-k'", "aprender-shell suggest --help"),
    (["server", "start", "--idle-timeout", "-1"], "--idle-timeout",
     "aprender-shell server start --help"),
    (["install", "--shell", "csh"], "Invalid value for '--shell'", "aprender-shell install --help"),
]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aprender_shell", *args], capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.mark.parametrize(("args", "what", "where"), USAGE_ERRORS, ids=" ".join)
def test_a_usage_error_is_one_line_with_exit_2(args: list[str], what: str, where: str) -> None:
    done = run(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: ") and what in lines[0] and f"'{where}'" in lines[0]


def test_an_error_of_the_library_is_one_line_with_exit_1() -> None:
    done = run("suggest", "git ")  # no model yet
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "aprender-shell train" in done.stderr


def test_no_command_still_shows_the_help() -> None:
    done = run()
    shown = done.stdout + done.stderr
    assert "Usage:" in shown and "aprender-shell install" in shown


def test_help_shows_defaults_and_recommends_install() -> None:
    top = run("--help").stdout
    assert "aprender-shell install" in top and 'eval "$(' not in top
    assert "[default: 16 MB]" in " ".join(run("train", "--help").stdout.split())
    assert "[default: 5;" in " ".join(run("suggest", "--help").stdout.split())


def test_a_missing_command_module_is_an_error_not_a_missing_command(tmp_path: Path) -> None:
    # A copy of the package with one command module gone, as a rename without its import
    # would leave it: the command line must refuse to start, not run without 'evaluate'.
    package = Path(aprender_shell.__file__).parent
    shutil.copytree(package, tmp_path / "aprender_shell",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "aprender_shell" / "cli" / "evaluate.py").unlink()
    done = subprocess.run(
        [sys.executable, "-c", "from aprender_shell.cli import main; main(['--help'])"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode != 0, done.stdout
    assert "aprender_shell.cli.evaluate" in done.stderr


def test_every_module_that_adds_commands_is_registered_by_name() -> None:
    from aprender_shell.cli import COMMAND_MODULES

    folder = Path(aprender_shell.__file__).parent / "cli"
    adding = {path.stem for path in folder.glob("*.py") if "@cli." in path.read_text()}
    assert adding == set(COMMAND_MODULES)

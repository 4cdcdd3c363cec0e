"""The installed ``aprender-shell`` command: it runs our code first, and answers as
``python -m aprender_shell`` does (a cold ``suggest`` starts it on every keystroke)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.model.sessions import WORKDAY, write_zsh_history

CHECKOUT = Path(__file__).resolve().parents[2]
COMMAND = Path(sysconfig.get_path("scripts")) / "aprender-shell"


@pytest.fixture
def model(tmp_path: Path) -> Path:
    history = tmp_path / "zsh_history"
    write_zsh_history(history, WORKDAY)
    path = tmp_path / "model.apbundle"
    subprocess.run([sys.executable, "-m", "aprender_shell", "train", "--history", str(history),
                    "--model", str(path)], check=True, capture_output=True, timeout=120)
    return path


def _imports(*argv: str, top: bool = False) -> list[str]:
    """The modules ``python -S -X importtime argv`` imports, in the order they finished (no
    site: an editable install's finder imports re and pathlib before any command runs);
    ``top``: only those the program itself imported, not their own imports."""
    environment = {**os.environ, "PYTHONPATH": str(CHECKOUT)}
    done = subprocess.run([sys.executable, "-S", "-X", "importtime", *argv], env=environment,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    names = [line.rsplit("|", 1)[-1] for line in done.stderr.splitlines()
             if line.startswith("import time:")]
    # importtime indents each name by two spaces a level, after one of its own
    return [name.strip() for name in names if not top or not name.startswith("  ")][1:]


def test_the_installed_command_imports_nothing_before_our_code(model: Path) -> None:
    # pip's generated console script imports re (to strip a Windows suffix off argv[0])
    # before our code: about half of Python's start-up again on every cold keystroke.
    assert COMMAND.is_file(), f"{COMMAND} is not installed"
    modules = _imports(str(COMMAND), "suggest", "--model", str(model), "git ", top=True)
    bare = _imports("-c", "pass", top=True)
    assert [name for name in modules if name not in bare][0] == "aprender_shell.__main__"


@pytest.mark.parametrize("args", [["--version"], ["bogus"], ["suggest", "--model"],
                                  ["suggest", "--model", "/nonexistent/model", "git "]])
def test_the_installed_command_answers_as_the_module_does(args: list[str]) -> None:
    command = subprocess.run([str(COMMAND), *args], capture_output=True, text=True, timeout=120)
    module = subprocess.run([sys.executable, "-m", "aprender_shell", *args],
                            capture_output=True, text=True, timeout=120)
    assert (command.returncode, command.stdout, command.stderr) == (
        module.returncode, module.stdout, module.stderr)


def test_the_tokenizer_and_templates_import_no_re() -> None:
    # A cold suggest tokenizes its prefix and reads templates: importing re costs it about
    # 3 ms, more than half of Python's own start-up.
    modules = _imports("-c", "import aprender_shell.history.tokens, aprender_shell.model.templates")
    assert "aprender_shell.model.templates" in modules
    assert "re" not in modules

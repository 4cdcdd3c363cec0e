"""The installed ``aprender-shell`` command: it runs our code first, and answers as
``python -m aprender_shell`` does (a cold ``suggest`` starts it on every keystroke)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from aprender_shell.bundle import ModelBundle
from aprender_shell.model.learned.journal import journal_path
from aprender_shell.paths import HOME_ENV
from tests.model.sessions import WORKDAY, write_zsh_history

CHECKOUT = Path(__file__).resolve().parents[2]
COMMAND = Path(sysconfig.get_path("scripts")) / "aprender-shell"


@pytest.fixture
def model(tmp_path: Path) -> Path:
    history = tmp_path / "zsh_history"
    write_zsh_history(history, WORKDAY)
    path = tmp_path / "model.apbundle"  # the name of the data folder's model (paths.py)
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


# Standard modules a cold suggest must not import (CPU time against python -c pass, measured
# alone): pathlib imports re, fnmatch, urllib.parse and ipaddress, together about half of
# Python's own start-up, so paths on the query path are plain strings (paths.model_file); enum
# (0.18x, with functools and types) gives way to bundle/values.Choice; contextlib (0.12x) is
# imported when a writer first runs (fileio.lazy_contextmanager); threading (0.14x) to _thread.
NOT_WHEN_COLD = ["pathlib", "re", "fnmatch", "urllib.parse", "ipaddress", "enum", "functools",
                 "types", "contextlib", "threading"]


def _with_journal(model: Path, records: int) -> None:
    index = ModelBundle.load(model).get_model("index")
    header = {"journal": 1, "generation": json.loads(index)["generation"]}
    lines = [json.dumps(header)] + [
        json.dumps({"c": f"git checkout -b topic{n}", "prev": "git status", "cwd": f"/src/p{n % 7}",
                    "exit": n % 3, "sh": "zsh", "t": 1_700_000_000 + n}) for n in range(records)]
    journal_path(model).write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("given", ["--model", "data folder"])
def test_a_cold_suggest_imports_no_pathlib_nor_re(model: Path, given: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _with_journal(model, 50)  # the replay's reading and learning are on the cold path too
    argv = ["--model", str(model)] if given == "--model" else []
    monkeypatch.setenv(HOME_ENV, str(model.parent))  # the data folder holds model.apbundle
    shown = subprocess.run([str(COMMAND), "suggest", *argv, "git ch"], capture_output=True,
                           text=True, timeout=120)
    assert "git checkout -b topic49" in shown.stdout, shown.stderr
    modules = _imports(str(COMMAND), "suggest", *argv, "git ch")
    assert "aprender_shell.model.query.predictor" in modules
    bare = _imports("-c", "pass")
    assert [name for name in NOT_WHEN_COLD if name in modules and name not in bare] == []


def test_a_server_start_imports_no_typing(model: Path, tmp_path: Path) -> None:
    # typing imports re and more: about a third of Python's start-up (CPU) before a server's
    # first answer. Its names are the annotations' only (TYPE_CHECKING), as on the query path.
    from aprender_shell.errors import AprenderError
    from aprender_shell.service.client import Client

    data = tmp_path / "data"
    environment = {**os.environ, "PYTHONPATH": str(CHECKOUT), HOME_ENV: str(data)}
    server = subprocess.Popen(
        [sys.executable, "-S", "-X", "importtime", str(COMMAND), "server", "run", "--model",
         str(model)], env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    try:
        socket = data / "run" / "server.sock"
        for _ in range(6000):  # until it listens (it binds first), or ends
            try:
                client = Client(socket, timeout=60).connect()
                break
            except (AprenderError, OSError):
                assert server.poll() is None, "the server ended before listening"
                time.sleep(0.01)
        with client:
            answer = client.request({"prefix": "git ", "prev": []})
        assert answer["suggestions"], answer
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=60)
    modules = [line.rsplit("|", 1)[-1].strip() for line in errors.splitlines()
               if line.startswith("import time:")]
    assert "aprender_shell.service.server" in modules
    assert "typing" not in modules

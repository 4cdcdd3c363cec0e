"""FIFOs, devices, folders and sockets where a regular file belongs: one clear line, no hang.

Opening a FIFO for reading blocks until someone writes to it, and /dev/zero never ends; every
file aprender-shell reads is opened without blocking and refused unless it is a regular file.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Callable

import pytest

from aprender_shell.model.learned.journal import journal_path
from aprender_shell.paths import default_model_path
from aprender_shell.service.client import Client
from tests.service.conftest import WAIT, ServerProcess, train

Start = Callable[..., ServerProcess]
# Generous on a shared machine; a hang is what these tests catch, and it never ends.
LIMIT = 60.0


def aprender(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aprender_shell", *args], input=stdin,
                          capture_output=True, text=True, timeout=LIMIT)


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    return lines[0]


@pytest.fixture
def fifo_model() -> Path:
    path = default_model_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


@pytest.fixture
def socket_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "socket.file"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))
        yield path


@pytest.mark.parametrize("command", [["suggest", "git"], ["suggest", "git", "-k", "3"],
                                     ["stats"], ["update"]])
def test_a_fifo_in_place_of_the_model_is_refused_at_once(
    fifo_model: Path, command: list[str]
) -> None:
    line = one_error_line(aprender(*command))
    assert "named pipe" in line and str(fifo_model) in line


def test_suggest_batch_with_a_fifo_model_answers_errors(fifo_model: Path) -> None:
    done = aprender("suggest", "--batch", stdin='{"prefix":"g"}\n')
    assert done.returncode == 0
    assert "named pipe" in done.stdout and done.stdout.count("\n") == 1


def test_the_server_serves_errors_for_a_fifo_model_and_stops(
    fifo_model: Path, run_server: Start
) -> None:
    server = run_server(fifo_model)
    with Client(timeout=WAIT) as client:
        assert "named pipe" in client.request({"prefix": "git"})["error"]
        status = client.request({"status": True})["status"]
        assert "named pipe" in status["model_error"]
    stopped = aprender("server", "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert server.process.wait(timeout=WAIT) == 0


def test_a_fifo_journal_does_not_hang_queries(tmp_path: Path) -> None:
    model = train(default_model_path())
    os.mkfifo(journal_path(model))
    line = one_error_line(aprender("suggest", "git"))
    assert "named pipe" in line and "journal" in line


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "folder", "socket"])
def test_train_refuses_a_history_that_is_not_a_regular_file(
    tmp_path: Path, socket_file: Path, kind: str
) -> None:
    if kind == "dev-zero":
        history, what = Path("/dev/zero"), "character device"
    elif kind == "fifo":
        history, what = tmp_path / "fifo_history", "named pipe"
        os.mkfifo(history)
    elif kind == "folder":
        history, what = tmp_path / "folder", "directory"
        history.mkdir()
    else:
        history, what = socket_file, "socket"
    line = one_error_line(aprender("train", "--history", str(history)))
    assert what in line and str(history) in line
    assert not default_model_path().exists()


def test_a_history_too_large_to_be_one_says_how_to_proceed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aprender_shell.errors import HistoryError
    from aprender_shell.history import files

    history = tmp_path / ".zsh_history"
    history.write_bytes(b"ls\n" * 1000)
    monkeypatch.setattr(files, "MAX_HISTORY_BYTES", 1024)
    with pytest.raises(HistoryError) as caught:
        files.read_history(history)
    message = str(caught.value)
    assert "more than the 1 KB" in message and "tail -c" in message


def test_a_sparse_history_of_a_gigabyte_is_refused_by_train(tmp_path: Path) -> None:
    history = tmp_path / ".zsh_history"
    with open(history, "wb") as handle:
        handle.truncate(1024**3)  # holes: no disk, but reading it whole would take 1 GiB
    line = one_error_line(aprender("train", "--history", str(history)))
    assert "holds 1 GB, more than the 256 MB" in line and "tail -c" in line


@pytest.mark.parametrize("shell", ["zsh", "bash"])
def test_install_refuses_an_rc_file_that_is_a_fifo(private_home: Path, shell: str) -> None:
    rc = private_home / f".{shell}rc"
    os.mkfifo(rc)
    line = one_error_line(aprender("install", "--shell", shell))
    assert "named pipe" in line and str(rc) in line
    line = one_error_line(aprender("uninstall", "--shell", shell))
    assert "named pipe" in line

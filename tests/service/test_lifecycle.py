"""How a server's life begins and ends: a stop at any moment is clean, an orphan exits."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from aprender_shell.service.server import accepts, pid_path, read_pid, socket_path
from tests.service.conftest import WAIT, ServerProcess, wait_for

Start = Callable[..., ServerProcess]


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_a_stop_as_soon_as_the_socket_accepts_is_a_clean_exit(model: Path, tmp_path: Path) -> None:
    """The flaky case of a loaded machine, made certain: strace holds the server just after
    its listen() for 5 s, the time a busy machine may take to get it to its next line. Whoever
    can connect by then (here 'server stop') must find SIGTERM handled: the server saves and
    exits 0, never dies of the signal (-15) with what it learned unsaved."""
    output = tmp_path / "server.out"
    with open(output, "wb") as sink:
        traced = subprocess.Popen(
            ["strace", "-qq", "-o", "/dev/null", "-e", "trace=listen",
             "-e", "inject=listen:delay_exit=5000000",
             sys.executable, "-m", "aprender_shell", "server", "run", "--model", str(model)],
            stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: traced.poll() is not None or accepts(socket_path()),
                 what="the server's socket")
        pid = read_pid(pid_path())
        assert pid is not None and pid != traced.pid, output.read_text()
        os.kill(pid, signal.SIGTERM)
        assert traced.wait(timeout=WAIT) == 0, output.read_text()
    finally:
        if traced.poll() is None:
            traced.kill()
            traced.wait()
    assert "exiting: signal SIGTERM" in output.read_text()

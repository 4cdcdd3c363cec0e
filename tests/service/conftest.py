"""Fixtures for the service tests: small real models and real server processes.

Every server here runs under the test's private ``APRENDER_SHELL_HOME`` (set by the top-level
conftest and inherited by subprocesses), and is stopped when the test ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Callable

import pytest

from aprender_shell.history.formats import HistoryEntry
from aprender_shell.model.training.train import train_model
from aprender_shell.paths import pid_path, socket_path
from aprender_shell.service.client import Client
from aprender_shell.service.instance import accepts

# Generous: the machine is shared; these bound waits, they do not measure anything.
WAIT = 60.0

COMMANDS = [
    "git status",
    "git add .",
    "git commit -m fix",
    "git push",
    "ls -la",
    "make test",
    "docker ps",
] * 10


def train(path: Path, commands: Sequence[str] = COMMANDS) -> Path:
    train_model([HistoryEntry(command) for command in commands], path)
    return path


def wait_for(condition: Callable[[], Any], timeout: float = WAIT, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


def aprender(
    *args: str, input: str | None = None, timeout: float = WAIT
) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a subprocess (inheriting the test's private home)."""
    return subprocess.run(
        [sys.executable, "-m", "aprender_shell", *args],
        input=input, capture_output=True, text=True, timeout=timeout,
    )


def texts(answer: dict[str, Any]) -> list[str]:
    return [item["text"] for item in answer["suggestions"]]


class ServerProcess:
    """A ``server run`` subprocess and what a test needs to talk to it."""

    def __init__(self, process: subprocess.Popen[bytes], model: Path, output: Path) -> None:
        self.process = process
        self.model = model
        self.output = output

    @property
    def pid(self) -> int:
        return self.process.pid

    def client(self) -> Client:
        return Client(timeout=WAIT).connect()

    def request(self, request: dict[str, Any]) -> dict[str, Any]:
        with self.client() as client:
            return client.request(request)

    def log(self) -> str:
        return self.output.read_text(errors="replace")

    def terminate(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=WAIT)


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return train(tmp_path / "model.apbundle")


@pytest.fixture
def run_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start ``aprender-shell server run`` subprocesses; all are stopped at the end."""
    started: list[ServerProcess] = []

    def start(model: Path, *options: str, wait: bool = True,
              nofile: int | None = None) -> ServerProcess:
        """``nofile``: the server's descriptor limit, as ``ulimit -n`` would set it."""
        output = tmp_path / f"server-{len(started)}.out"
        with open(output, "wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "aprender_shell", "server", "run", "--model", str(model),
                 *options],
                stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                preexec_fn=None if nofile is None else lambda: limit_descriptors(nofile),
            )
        server = ServerProcess(process, model, output)
        started.append(server)
        if wait:
            wait_for(lambda: process.poll() is not None or accepts(socket_path()),
                     what="the server's socket")
            assert process.poll() is None, server.log()
        return server

    yield start
    for server in started:
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.terminate()
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


@pytest.fixture(autouse=True)
def no_daemon_left_behind() -> Iterator[None]:
    """Stop any server a test started in the background (``server start``/``connect``)."""
    yield
    pid = None
    with contextlib.suppress(Exception), Client(timeout=5).connect() as client:
        pid = client.request({"status": True})["status"]["pid"]
    if pid is None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pid_path().read_text().splitlines()[0])
    if pid is None or pid == os.getpid():
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + WAIT
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def limit_descriptors(count: int) -> None:
    """Lower this process's descriptor limit (``ulimit -n``), in a child before it runs."""
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (count, hard))


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time ``pid`` has used so far, from /proc."""
    with open(f"/proc/{pid}/stat", "rb") as handle:
        fields = handle.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, exited but not yet collected, does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True

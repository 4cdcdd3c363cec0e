"""A pid is signalled only when it still names the server that wrote the pid file.

The lock is held and the pid file names one of the user's own processes that is not that
server (a pid reused after a crash, a file edited by hand): ``status`` must not report it and
``stop`` must not signal it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aprender_shell.paths import ensure_private_dir, lock_path, pid_path, runtime_dir
from aprender_shell.service.pidfile import is_our_server, process_identity, read_record
from tests.service.conftest import ServerProcess, aprender

Start = Callable[..., ServerProcess]

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")

HOLD_LOCK = (
    "import fcntl, os, sys\n"
    "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)\n"
    "fcntl.flock(fd, fcntl.LOCK_EX)\n"
    "print('ready', flush=True)\n"
    "sys.stdin.read()\n"
)


@pytest.fixture
def lock_held() -> Iterator[None]:
    ensure_private_dir(runtime_dir())
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock_path())],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"ready\n"
        yield
    finally:
        holder.kill()
        holder.wait()


def forged(pid: int, start_offset: int) -> str:
    """A full pid record for ``pid`` as if written by a server started at another time."""
    now = process_identity(pid)
    assert now is not None
    return f"{pid}\nstart {now.start + start_offset}\ncmdline {now.cmdline.hex()}\n"


@pytest.mark.parametrize("content", ["bare", "other start time"])
def test_stop_never_signals_a_pid_that_is_not_the_server_that_wrote_it(
    victim: subprocess.Popen[bytes], lock_held: None, content: str
) -> None:
    pid_path().write_text(f"{victim.pid}\n" if content == "bare" else forged(victim.pid, 1))
    shown = aprender("server", "status")
    assert str(victim.pid) not in shown.stdout + shown.stderr
    assert (shown.returncode, shown.stdout) == (3, "aprender-shell server is not running.\n")
    stopped = aprender("server", "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout == "aprender-shell server is not running.\n"
    assert victim.poll() is None  # a SIGTERM would have ended the sleep


def test_a_server_records_who_it_is_and_is_recognised(
    model: Path, run_server: Start
) -> None:
    server = run_server(model)
    record = read_record(pid_path())
    assert record is not None and record.pid == server.pid
    assert record.start is not None and record.cmdline is not None
    assert is_our_server(server.pid, record)
    # The same pid with another start time is a different process: not ours to signal.
    assert not is_our_server(server.pid, record._replace(start=record.start + 1))


def test_stop_signals_the_process_that_answers_whatever_the_pid_file_says(
    model: Path, run_server: Start, victim: subprocess.Popen[bytes]
) -> None:
    server = run_server(model)
    pid_path().write_text(f"{victim.pid}\n")  # edited by hand, or left by another server
    stopped = aprender("server", "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout == f"aprender-shell server stopped (pid {server.pid}).\n"
    assert server.process.wait(timeout=60) == 0
    assert victim.poll() is None


LISTEN = (
    "import json, os, socket, sys\n"
    "listener = socket.socket(socket.AF_UNIX)\n"
    "listener.bind(sys.argv[1]); listener.listen(4)\n"
    "print('ready', flush=True)\n"
    "while True:\n"
    "    conn, _ = listener.accept()\n"
    "    for line in conn.makefile('rb'):\n"
    "        conn.sendall(json.dumps({'status': {'model_path': '/x'}}).encode() + b'\\n')\n"
    "    conn.close()\n"
)


def test_stop_does_not_signal_a_process_of_ours_that_merely_answers_on_the_socket() -> None:
    # The kernel names the peer of our socket truthfully, but any process of ours could be
    # listening there (a tool, a test's stand-in): only an aprender-shell server is signalled.
    folder = runtime_dir()
    ensure_private_dir(folder)
    listener = subprocess.Popen(
        [sys.executable, "-c", LISTEN, str(folder / "server.sock")], stdout=subprocess.PIPE
    )
    try:
        assert listener.stdout is not None and listener.stdout.readline() == b"ready\n"
        result = aprender("server", "stop")
        assert listener.poll() is None, "server stop signalled a process that is not our server"
        assert result.returncode == 1
        assert "not an aprender-shell server" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    finally:
        listener.kill()
        listener.wait()


@pytest.mark.skipif(shutil.which("strace") is None, reason="counts the server's fsyncs")
def test_a_server_waits_for_no_fsync_before_it_listens(model: Path, tmp_path: Path) -> None:
    # The shells' first keystroke after a start waits for the listen. A pid file is
    # meaningless after a power loss (its pid is gone), so fsyncing it (file and folder,
    # 0.2 to 9 ms each here, more on a busy disk) only delayed the first answer.
    ensure_private_dir(runtime_dir())  # made before, as by any earlier start
    trace = tmp_path / "trace"
    result = subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=fsync,fdatasync,listen", "-o", str(trace),
         sys.executable, "-m", "aprender_shell", "server", "run", "--model", str(model),
         "--idle-timeout", "0.3"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    calls = [line.split(None, 1)[1].split("(")[0] for line in trace.read_text().splitlines()
             if "(" in line and " " in line]
    assert "listen" in calls, calls
    assert pid_path().exists() is False  # gone again after a clean stop
    assert calls[: calls.index("listen")] == [], calls

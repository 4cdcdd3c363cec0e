"""Idle, slow and greedy clients of the resident server: the owner is always served."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import pytest

from aprender_shell.paths import socket_path
from aprender_shell.service.client import Client
from aprender_shell.service.instance import accepts
from aprender_shell.service.server import MAX_CLIENTS, OUTPUT_HIGH_WATER
from tests.service.conftest import (
    WAIT,
    ServerProcess,
    cpu_seconds,
    texts,
    train,
    wait_for,
)

Start = Callable[..., ServerProcess]


def _open_idle(count: int) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(WAIT)
        # A full listen backlog answers EAGAIN to a connect with a timeout: wait for room.
        wait_for(lambda sock=sock: _connected(sock), what="room in the listen backlog")
        sockets.append(sock)
    return sockets


def _connected(sock: socket.socket) -> bool:
    try:
        sock.connect(str(socket_path()))
    except BlockingIOError:
        return False
    return True


def _resident_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _hung_up(sock: socket.socket) -> bool:
    sock.settimeout(0.05)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def test_600_idle_connections_do_not_lock_the_owner_out(model: Path, run_server: Start) -> None:
    server = run_server(model)
    idle = _open_idle(MAX_CLIENTS + 88)
    try:
        # A new client is served at once (its connect and answer are bounded by WAIT only
        # because the machine is shared; a locked-out client never gets an answer at all).
        with Client(timeout=WAIT) as client:
            assert texts(client.request({"prefix": "git c"}))[0] == "git commit -m fix"
            status = client.request({"status": True})["status"]
        assert status["connections"] <= MAX_CLIENTS
        # The ones evicted were the longest idle: the first opened, not the last.
        wait_for(lambda: _hung_up(idle[0]), what="the oldest idle connection to be closed")
        newest = idle[-1]
        newest.settimeout(WAIT)
        newest.sendall(b'{"prefix":"make"}\n')
        assert texts(json.loads(newest.makefile("rb").readline())) == ["make test"]
    finally:
        for sock in idle:
            sock.close()
    assert server.process.poll() is None, server.log()


def test_idle_connections_time_out(model: Path, run_server: Start) -> None:
    server = run_server(model, "--connection-timeout", "1")
    idle = _open_idle(3)
    try:
        for sock in idle:
            wait_for(lambda sock=sock: _hung_up(sock), what="an idle connection to be closed")
        with Client(timeout=WAIT) as client:
            assert texts(client.request({"prefix": "make"})) == ["make test"]
    finally:
        for sock in idle:
            sock.close()
    assert server.process.poll() is None, server.log()


def test_a_client_that_never_reads_is_bounded_and_blocks_nobody(
    tmp_path: Path, run_server: Start
) -> None:
    # 300 long distinct commands: each '{"prefix":"kubectl ","k":100}' (30 bytes) is answered
    # with about 4 KB, so answering all that one 64 KB read brings in would hold 8 MB.
    wide = train(tmp_path / "wide.apbundle",
                 [f"kubectl --namespace team-{n:03d} get pods --selector app=service-{n}"
                  for n in range(300)] * 2 + ["docker ps"] * 3)
    server = run_server(wide)
    before = _resident_kib(server.pid)
    greedy = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    greedy.connect(str(socket_path()))
    greedy.settimeout(2.0)
    sent = 0
    request = b'{"prefix":"kubectl ","k":100}\n' * 4000

    def flood() -> None:
        nonlocal sent
        while sent < 64 * 1024 * 1024:
            try:
                sent += greedy.send(request)
            except OSError:  # blocked for 2 s: the server stopped reading from it
                return

    flooder = threading.Thread(target=flood)
    flooder.start()
    try:
        # While it floods and never reads, others are answered.
        for _ in range(20):
            with Client(timeout=WAIT) as client:
                assert texts(client.request({"prefix": "docker"})) == ["docker ps"]
    finally:
        flooder.join()
    assert sent < 64 * 1024 * 1024, "the server kept reading from a client that never reads"
    # It holds at most its high-water mark of answers plus one read of requests.
    grown = (_resident_kib(server.pid) - before) * 1024
    assert grown < 4 * OUTPUT_HIGH_WATER + 3 * 1024 * 1024, (grown, sent)
    with Client(timeout=WAIT) as client:
        assert texts(client.request({"prefix": "docker"})) == ["docker ps"]
    greedy.close()
    assert server.process.poll() is None, server.log()


def test_server_connect_reconnects_after_its_connection_timed_out(
    model: Path, run_server: Start
) -> None:
    """bash's relay keeps its connection open between prompts: once the server closed it for
    being idle, the next request goes through a fresh connection to the same server."""
    import subprocess
    import sys

    server = run_server(model, "--connection-timeout", "0.5")
    relay = subprocess.Popen(
        [sys.executable, "-m", "aprender_shell", "server", "connect", "--no-start",
         "--model", str(model)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert relay.stdin is not None and relay.stdout is not None
    try:
        for _ in range(3):
            relay.stdin.write(b"suggest\t1\t1\tbash\t\tmak\n")
            relay.stdin.flush()
            assert relay.stdout.readline() == b"suggestions\t1\tmake test\n"
            # Wait until the server has closed the relay's connection for being idle.
            wait_for(lambda: "connections" in str(_status())
                     and _status()["connections"] == 0, what="the idle connection to close")
        with Client(timeout=WAIT) as client:
            assert client.request({"status": True})["status"]["requests"] == 3
    finally:
        relay.stdin.close()
        assert relay.wait(timeout=WAIT) == 0
        assert relay.stderr is not None and relay.stderr.read() == b""
    assert server.process.poll() is None, server.log()


def test_the_relay_sends_what_bash_wrote_before_it_exited(
    tmp_path: Path, model: Path, run_server: Start
) -> None:
    """bash writes the last command and what became of its suggestions to its relay, then may
    exit at once (a typed `exit`): the relay finds nobody to read its first answer, and the
    lines after it must reach the server all the same."""
    from aprender_shell.integration.base import relay_command
    from aprender_shell.model.learned.feedback import Feedback

    server = run_server(model)
    marker = tmp_path / "installed"
    marker.write_text("")
    written = (b"record\tbash\t/src\t0\tgit push\n"
               b"feedback\tbash\t1\t0\t0\t\tgit status\n")
    answers_read, answers_written = os.pipe()
    os.close(answers_read)  # the shell is gone: nobody reads what the relay answers
    try:
        relay = subprocess.Popen([*relay_command(), str(socket_path()), str(marker)],
                                 stdin=subprocess.PIPE, stdout=answers_written,
                                 stderr=subprocess.PIPE)
    finally:
        os.close(answers_written)
    _, error = relay.communicate(written, timeout=WAIT)
    assert relay.returncode == 0 and error == b""
    assert server.terminate() == 0, server.log()
    assert Feedback.load(model).commands.get("git status") == [0, 1]


def _status() -> dict[str, object]:
    # Quick enough to finish before a 0.5 s connection timeout would close it.
    with Client(timeout=WAIT) as client:
        status = client.request({"status": True})["status"]
    assert isinstance(status, dict)
    return {**status, "connections": int(status["connections"]) - 1}


def test_an_internal_error_in_one_connection_drops_it_and_the_server_goes_on(
    model: Path, tmp_path: Path
) -> None:
    """In-process, with a session that fails on one request in a way no real request can
    (``handle_bytes`` itself never raises): the server must still outlive it."""
    from aprender_shell.model.query.predictor import Predictor
    from aprender_shell.service.server import Server
    from aprender_shell.service.session import Session

    class Exploding(Session):
        def handle_bytes(self, line: bytes) -> bytes:
            if b"explode" in line:
                raise MemoryError("a stand-in for anything unforeseen")
            return super().handle_bytes(line)

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    address = tmp_path / "s.sock"
    listener.bind(str(address))
    listener.listen()
    logged: list[str] = []
    session = Exploding(lambda: Predictor.open(model), model_path=model)
    server = Server(session, listener, idle_timeout=WAIT, log=logged.append)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(WAIT)
            sock.connect(str(address))
            sock.sendall(b'{"prefix":"explode"}\n')
            assert sock.recv(100) == b""  # dropped, not answered with half a line
        with Client(address, timeout=WAIT) as client:
            assert texts(client.request({"prefix": "make"})) == ["make test"]
        assert any("MemoryError" in line for line in logged), logged
    finally:
        server.stop("test over")
        thread.join(WAIT)
        session.close()
        listener.close()
    assert not thread.is_alive()


# Out of file descriptors ----------------------------------------------------------------------

# A server whose other files (model, journal, a reload under way) hold more descriptors than
# usual: 100 of its 256 taken before it starts, so accept itself fails (EMFILE) at about 140
# clients, below the client cap the server derives from its limit.
STARVED_SERVER = """
import os, resource, sys
from pathlib import Path
from aprender_shell.service.server import run_server
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
held = [os.open(os.devnull, os.O_RDONLY) for _ in range(100)]
run_server(Path(sys.argv[1]))
"""


def _starved_server(model: Path, tmp_path: Path) -> ServerProcess:
    output = tmp_path / "starved.out"
    with open(output, "wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", STARVED_SERVER, str(model)],
            stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
        )
    server = ServerProcess(process, model, output)
    wait_for(lambda: process.poll() is not None or accepts(socket_path()),
             what="the server's socket")
    return server


@pytest.mark.parametrize("starved", [False, True], ids=["ulimit-256", "descriptors-taken"])
def test_out_of_descriptors_the_server_lets_the_owner_in_without_spinning(
    model: Path, tmp_path: Path, run_server: Start, starved: bool
) -> None:
    """The review's case: ``ulimit -n 256`` and 300 idle connections. Before, every pass of the
    loop failed to accept, logged it and went round again (a core at 100%, 357 MB of log in
    37 s) and a new client was never answered."""
    server = _starved_server(model, tmp_path) if starved else run_server(model, nofile=256)
    try:
        idle = _open_idle(300)
        try:
            cpu, wall = cpu_seconds(server.pid), time.monotonic()
            with Client(timeout=WAIT) as client:
                assert texts(client.request({"prefix": "git c"}))[0] == "git commit -m fix"
            # A window in which a spinning loop would burn a core and write megabytes.
            time.sleep(2.0)
            busy = (cpu_seconds(server.pid) - cpu) / (time.monotonic() - wall)
            log = server.log()
        finally:
            for sock in idle:
                sock.close()
        assert busy < 0.25, (busy, log[-2000:])
        assert len(log) < 16 * 1024, log[-2000:]
        assert "closed the longest idle" in log
        assert server.process.poll() is None, log
    finally:
        server.terminate()


def test_a_record_under_ulimit_32_succeeds_beside_idle_connections(
    model: Path, run_server: Start
) -> None:
    """Before: 'internal error: OSError: [Errno 24]', or no answer at all."""
    server = run_server(model, nofile=32)
    idle = _open_idle(40)
    try:
        with Client(timeout=WAIT) as client:
            assert client.request({"record": "kubectl get pods", "cwd": "/", "exit": 0}) == {
                "ok": True}
            assert texts(client.request({"prefix": "kub"})) == ["kubectl get pods"]
    finally:
        for sock in idle:
            sock.close()
    assert server.process.poll() is None, server.log()


def test_a_request_that_fails_for_lack_of_descriptors_says_so_and_what_to_do(
    model: Path,
) -> None:
    """Every descriptor of the process taken while a session answers a record (a real process
    under its own limit): the answer names the cause and the fix, not an internal error."""
    script = """
import json, os, resource, sys
from aprender_shell.service.session import Session
from aprender_shell.model.query.predictor import Predictor
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
session = Session(lambda: Predictor.open(sys.argv[1]), model_path=sys.argv[1])
session.handle_line('{"prefix": "git"}')
held = []
try:
    while True:
        held.append(os.open(os.devnull, os.O_RDONLY))
except OSError:
    pass
answer = session.handle_line('{"record": "make test"}')
for fd in held:
    os.close(fd)
print(answer)
"""
    done = subprocess.run([sys.executable, "-c", script, str(model)],
                          capture_output=True, text=True, timeout=WAIT)
    assert done.returncode == 0, done.stderr
    error = json.loads(done.stdout)["error"]
    assert error == (
        "out of file descriptors (ulimit -n is 64): raise 'ulimit -n', then restart the server "
        "under it ('aprender-shell server stop'; the shells start it again)"
    )

"""Hostile lines against real processes: the resident server, ``suggest --batch`` and
``server connect``. After every batch a good request still gets a right answer."""

from __future__ import annotations

import random
import socket
import subprocess
import sys
from pathlib import Path
from typing import Callable

from aprender_shell.paths import socket_path
from tests.faults.hostile import assert_serves, check_answer, hostile_lines
from tests.service.conftest import WAIT, ServerProcess, alive

Start = Callable[..., ServerProcess]
BATCH = 100


def _connect() -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(WAIT)
    sock.connect(str(socket_path()))
    return sock


def _read_lines(sock: socket.socket, count: int) -> list[bytes]:
    data = b""
    while data.count(b"\n") < count:
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n")[:count]


def _ask(line: bytes) -> bytes:
    with _connect() as sock:
        sock.sendall(line + b"\n")
        return _read_lines(sock, 1)[0]


def test_the_server_survives_the_lone_surrogate_id(model: Path, run_server: Start) -> None:
    server = run_server(model)
    answer = _ask(b'{"prefix":"g","id":"\\ud800"}')
    assert check_answer(b"{", answer) == {
        "error": "'id' holds an invalid character (lone surrogate)"}
    assert server.process.poll() is None, server.log()
    assert_serves(_ask)


def test_a_thousand_hostile_lines_in_batches_over_the_socket(
    model: Path, run_server: Start
) -> None:
    server = run_server(model)
    lines = hostile_lines(1200, seed=88)
    rng = random.Random(88)
    for start in range(0, len(lines), BATCH):
        batch = lines[start : start + BATCH]
        payload = b"".join(line + b"\n" for line in batch)
        with _connect() as sock:
            # Cut the stream at random places: a request may arrive in many pieces.
            position = 0
            while position < len(payload):
                step = rng.choice((1, 7, 100, 4096, 65536, len(payload)))
                sock.sendall(payload[position : position + step])
                position += step
            answers = _read_lines(sock, len(batch))
        assert len(answers) == len(batch)
        for line, answer in zip(batch, answers):
            check_answer(line, answer)
        assert server.process.poll() is None, server.log()
        assert_serves(_ask)
    assert "Traceback" not in server.log()


def test_clients_that_hang_up_mid_answer_or_mid_line(model: Path, run_server: Start) -> None:
    server = run_server(model)
    for _ in range(20):
        with _connect() as sock:
            sock.sendall(b'{"prefix":"","k":100}\n' * 200)  # answers it never reads
        with _connect() as sock:
            sock.sendall(b'{"prefix":"git ","k":3,"id":')  # half a request, then gone
        with _connect() as sock:
            sock.sendall(b'{"prefix":"git ","k":3}\n')
            sock.recv(5)  # a few bytes of the answer, then gone
    assert server.process.poll() is None, server.log()
    assert_serves(_ask)


def _run(args: list[str], payload: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "aprender_shell", *args], input=payload,
                          capture_output=True, timeout=WAIT * 2)


def _check_transcript(lines: list[bytes], done: subprocess.CompletedProcess[bytes]) -> None:
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr == b""
    answers = done.stdout.split(b"\n")
    assert answers[-1] == b""
    assert len(answers) - 1 == len(lines)
    for line, answer in zip(lines, answers):
        check_answer(line, answer)


def test_suggest_batch_answers_every_hostile_line(model: Path) -> None:
    lines = hostile_lines(1000, seed=89)
    good = [b'{"prefix":"git ","k":3,"id":"after"}', b"suggest\tafter\t2\tzsh\t\tgit "]
    done = _run(["suggest", "--batch", "--model", str(model)],
                b"".join(line + b"\n" for line in lines + good))
    _check_transcript(lines + good, done)
    remaining = iter(done.stdout.split(b"\n")[-3:-1])
    assert_serves(lambda line: next(remaining))


def test_server_connect_relays_every_hostile_line(model: Path, run_server: Start) -> None:
    server = run_server(model)
    lines = hostile_lines(1000, seed=90)
    done = _run(["server", "connect", "--no-start", "--model", str(model)],
                b"".join(line + b"\n" for line in lines))
    _check_transcript(lines, done)
    assert alive(server.pid), server.log()
    assert_serves(_ask)
    assert "Traceback" not in server.log()


def test_server_connect_in_process_answers_every_hostile_line(model: Path) -> None:
    lines = hostile_lines(300, seed=91)
    done = _run(["server", "connect", "--no-start", "--model", str(model)],
                b"".join(line + b"\n" for line in lines))
    _check_transcript(lines, done)


def test_the_client_sends_text_holding_a_lone_surrogate_and_gets_an_error(
    model: Path, run_server: Start
) -> None:
    from aprender_shell.service.client import Client

    run_server(model)
    with Client(timeout=WAIT) as client:
        answer = client.request({"prefix": "git \udcff", "id": 5})
        assert answer == {"error": "'prefix' holds an invalid character (lone surrogate)",
                          "id": 5}
        assert client.request({"prefix": "make"})["suggestions"][0]["text"] == "make test"

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

from aprender_shell.paths import pid_path, runtime_dir, socket_path
from aprender_shell.service.client import Client
from aprender_shell.service.instance import accepts, read_pid
from aprender_shell.service.orphan import CHECK_INTERVAL
from tests.service.conftest import WAIT, ServerProcess, texts, train, wait_for

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


def _ended(server: ServerProcess) -> bool:
    return server.process.poll() is not None


def test_a_server_whose_data_folder_is_deleted_exits(tmp_path: Path, run_server: Start) -> None:
    """'uninstall', or a test's temporary home removed: before, it served on for its idle hour."""
    folder = tmp_path / "data"
    folder.mkdir()
    server = run_server(train(folder / "model.apbundle"))
    with server.client() as client:
        assert texts(client.request({"prefix": "git c"}))[0] == "git commit -m fix"
    shutil.rmtree(folder)
    # Within a few of its checks; the generous bound is for a loaded machine only.
    wait_for(lambda: _ended(server), timeout=max(WAIT, 30 * CHECK_INTERVAL),
             what="the orphaned server to exit")
    assert server.process.returncode == 0
    assert f"exiting: orphaned: the model's folder {folder} was removed" in server.log()
    assert not socket_path().exists() and not pid_path().exists()


def test_a_server_whose_data_folder_is_replaced_exits_and_the_next_serves_the_new_model(
    tmp_path: Path, run_server: Start
) -> None:
    """A new folder with its own model in the old one's place (a new setup at the same path):
    the old server exits rather than serve it, so the next start serves it from scratch."""
    folder = tmp_path / "data"
    folder.mkdir()
    model = train(folder / "model.apbundle")
    old = run_server(model)
    shutil.rmtree(folder)
    folder.mkdir()
    train(model, ["cargo build --release"] * 5)
    wait_for(lambda: _ended(old), timeout=max(WAIT, 30 * CHECK_INTERVAL),
             what="the orphaned server to exit")
    assert old.process.returncode == 0
    # 'removed' when a check fell between the two steps of the replacement, else 'replaced'.
    assert f"exiting: orphaned: the model's folder {folder} was re" in old.log(), old.log()
    new = run_server(model)
    with new.client() as client:
        assert texts(client.request({"prefix": "car"})) == ["cargo build --release"]


def test_a_retrained_model_is_reloaded_not_taken_for_an_orphan(
    model: Path, run_server: Start
) -> None:
    server = run_server(model)
    train(model, ["cargo test"] * 5)
    with Client(timeout=WAIT) as client:
        assert texts(client.request({"prefix": "car"})) == ["cargo test"]
        # Several checks later it still serves, through the same connection.
        wait_for(lambda: client.request({"status": True})["status"]["uptime"]
                 > 3 * CHECK_INTERVAL, what="three orphan checks")
        assert texts(client.request({"prefix": "car"})) == ["cargo test"]
    assert server.process.poll() is None, server.log()


def test_a_server_whose_socket_is_taken_over_exits(model: Path, run_server: Start) -> None:
    """Its socket file removed and another server started beside it (a second server with the
    lock file gone): the first one exits instead of serving on unseen."""
    first = run_server(model)
    (runtime_dir() / "server.lock").unlink()
    socket_path().unlink()
    second = run_server(model)
    wait_for(lambda: _ended(first), timeout=max(WAIT, 30 * CHECK_INTERVAL),
             what="the first server to exit")
    assert "exiting: orphaned: its socket" in first.log(), first.log()
    assert read_pid(pid_path()) == second.pid
    assert second.request({"status": True})["status"]["pid"] == second.pid


def test_a_clean_journal_is_not_rewritten_at_each_start(model: Path, run_server: Start) -> None:
    # A server compacts the journal once it answered (or as it stops, Opening.compact): a
    # journal with nothing to drop or upgrade keeps its file, with no rewrite and no fsync.
    server = run_server(model)
    assert server.request({"record": "make deploy", "cwd": "/srv", "exit": 0}) == {"ok": True}
    assert server.terminate() == 0
    journal = model.with_name(model.name + ".journal")
    before = os.stat(journal)
    server = run_server(model)
    assert "make deploy" in texts(server.request({"prefix": "make d"}))
    assert server.terminate() == 0
    after = os.stat(journal)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    # A torn last line (a crash mid-append) is still compacted away at the next start.
    with open(journal, "ab") as handle:
        handle.write(b'{"c":"torn')
    server = run_server(model)
    assert "make deploy" in texts(server.request({"prefix": "make d"}))
    assert server.terminate() == 0
    assert journal.read_bytes().endswith(b"\n") and b"torn" not in journal.read_bytes()

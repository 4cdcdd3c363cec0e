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

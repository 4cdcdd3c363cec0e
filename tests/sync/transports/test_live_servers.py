"""Running servers over a real Syncthing pair, with nobody typing 'sync now'.

A command a shell records on one machine is suggested by the other machine's server once the two
servers and Syncthing have done their parts by themselves; a forget on the first machine takes
it out of the other's running server the same way. Each wait polls what a user would see (the
other server's suggestions) up to a deadline; none is a speed target.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import pytest

from aprender_shell.service.client import Client
from tests.integration.shells import Home
from tests.sync.transports.syncthing import WAIT, Pair
from tests.sync.transports.test_over_transports import (
    Transport,
    folder_bytes,
    ok,
    two_machines,
)

RECORDED = "kubectl rollout restart deploy/ledger_secret_service"
SECRET_CWD = "/home/me/clients/acme_secret_merger"


def ask(home: Home, request: dict[str, object]) -> dict[str, object]:
    client = Client(home.data / "run" / "server.sock", timeout=WAIT)
    try:
        return client.connect().request(request)
    finally:
        client.close()


def suggested(home: Home, prefix: str) -> list[str]:
    answer = ask(home, {"prefix": prefix, "k": 10})
    found = answer.get("suggestions")
    assert isinstance(found, list), answer
    return [str(item["text"]) for item in found]


def eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {WAIT:.0f}s")
        time.sleep(0.2)


@contextmanager
def servers(*homes: Home) -> Iterator[None]:
    try:
        for home in homes:
            home.start_server()
        yield
    finally:
        for home in homes:
            home.stop_server()


@pytest.mark.slow  # two Syncthing processes and two servers
def test_a_recorded_command_and_its_forget_travel_between_running_servers(
    tmp_path: Path, syncthing: Pair
) -> None:
    transport = Transport((syncthing[0].folder, syncthing[1].folder), syncthing.settle,
                          folder_bytes)
    laptop, desktop = two_machines(tmp_path, transport)
    with servers(laptop, desktop):
        prefix = RECORDED[:15]
        assert RECORDED not in suggested(desktop, prefix)
        answer = ask(laptop, {"record": RECORDED, "cwd": SECRET_CWD, "exit": 0,
                              "shell": "zsh", "prev": ["git status"]})
        assert "error" not in answer, answer
        eventually(lambda: RECORDED in suggested(desktop, prefix),
                   "the desktop's server suggests what the laptop's shell recorded")
        for folder in transport.folders:
            seen = folder_bytes(folder)
            assert RECORDED.encode() not in seen and b"acme_secret_merger" not in seen
        ok(laptop, "forget", RECORDED)
        eventually(lambda: RECORDED not in suggested(desktop, prefix),
                   "the desktop's server forgets what was forgotten on the laptop")

"""Real shells whose connection the server closed for being idle keep getting suggestions
from the same server: they reconnect on their next request, quietly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from aprender_shell.service.client import Client
from tests.integration.shells import BashSession, Home, Session, ZshSession, session

pytestmark = pytest.mark.slow


def _connections(home: Home) -> int:
    with Client(home.data / "run" / "server.sock", timeout=30) as client:
        status = client.request({"status": True})["status"]
    return int(status["connections"]) - 1  # not counting this one


@pytest.mark.parametrize("kind", [ZshSession, BashSession], ids=["zsh", "bash"])
def test_a_shell_reconnects_after_its_idle_connection_was_closed(
    tmp_path: Path, kind: type[Session]
) -> None:
    home = Home(tmp_path)
    home.env["APRENDER_SHELL_CONNECTION_IDLE"] = "1"
    home.train()
    home.start_server()
    pid = home.server_pid()
    with session(kind, home) as shell:
        shell.show_suggestion("git c", "ommit -m fix")
        shell.send("\x15")
        deadline = time.monotonic() + 60
        while _connections(home) > 0:  # the server closed the shell's idle connection
            assert time.monotonic() < deadline, "the idle connection was never closed"
            time.sleep(0.2)
        # A new line after the close: its request finds the socket closed and reconnects.
        shell.show_suggestion("mak", "e test")
        shell.send("\x15")
        shell.show_suggestion("git p", "ush")
        shell.send("\x15")
        assert "still-fine" in shell.run("echo still-fine")
        assert home.server_pid() == pid  # the same server answered throughout
        shell.close()
        shell.assert_quiet()

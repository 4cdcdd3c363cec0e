"""fish's one-shot relay waits for the server it starts as long as APRENDER_SHELL_FISH_TIMEOUT
says (bash's wait is its own ``read -t``, APRENDER_SHELL_BASH_TIMEOUT)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

from aprender_shell import paths
from aprender_shell.service import relay as relay_module
from tests.service.conftest import WAIT, train, wait_for

RELAY = Path(relay_module.__file__)
# Loaded by every Python the relay starts (PYTHONPATH reaches the server it spawns, not the
# relay itself, which runs -I): says it began, then holds until the test opens the gate, so
# the server starts exactly as late as the test wants, whatever the machine's load.
HOLD = """\
import os, time
gate = os.environ.get("TEST_SERVER_GATE")
if gate and not os.path.exists(gate):
    open(gate + ".started", "w").close()
    while not os.path.exists(gate):
        time.sleep(0.02)
"""


def test_fish_relay_waits_for_a_slow_server_start_as_long_as_the_setting_says(
    tmp_path: Path,
) -> None:
    train(paths.default_model_path())
    hold = tmp_path / "hold"
    hold.mkdir()
    (hold / "sitecustomize.py").write_text(HOLD)
    gate = tmp_path / "gate"
    marker = tmp_path / "installed"
    marker.write_text("")
    env = {
        **os.environ, "PYTHONPATH": str(hold), "TEST_SERVER_GATE": str(gate),
        "APRENDER_SHELL_FISH_TIMEOUT": str(WAIT),
    }
    relay = subprocess.Popen(
        [sys.executable, "-I", "-S", str(RELAY), "--once", str(paths.socket_path()), str(marker)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
    )
    try:
        assert relay.stdin is not None
        relay.stdin.write(b"suggest\t1\t1\tfish\t\tgit c\n")
        relay.stdin.close()
        wait_for(Path(str(gate) + ".started").exists, what="the relay to start a server")
        # The server is held past the relay's default wait: a relay that gave up then (as
        # fish's first key under load did) has answered "no server" and exited by now.
        with contextlib.suppress(subprocess.TimeoutExpired):
            relay.wait(timeout=relay_module.ONCE_START_WAIT + 1)
        gate.write_text("")
        assert relay.stdout is not None
        answer = relay.stdout.read()
        relay.wait(timeout=WAIT)
    finally:
        gate.write_text("")
        if relay.poll() is None:
            relay.kill()
            relay.wait()
    assert b"ommit -m fix" in answer, answer


def test_a_fish_timeout_that_is_not_a_number_is_refused_in_one_line(tmp_path: Path) -> None:
    marker = tmp_path / "installed"
    marker.write_text("")
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(RELAY), "--once", str(paths.socket_path()), str(marker)],
        input=b"suggest\t1\t1\tfish\t\tgit c\n", capture_output=True, timeout=WAIT,
        env={**os.environ, "APRENDER_SHELL_FISH_TIMEOUT": "soon"},
    )
    assert done.returncode == 2
    assert done.stderr.decode().splitlines() == [
        "APRENDER_SHELL_FISH_TIMEOUT is 'soon': set it to a number of seconds above 0,"
        " or unset it for the default of 2"
    ]
    assert not paths.socket_path().exists()  # nothing started

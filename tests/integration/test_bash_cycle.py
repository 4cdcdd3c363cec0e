"""bash's fill cycle ends with its line: a line run, cancelled or edited away takes the cycle
with it, so the fill key on a later line never brings back an old line's suggestions or text.

The fake server answers "git commit -m fix" for "git c" and "git status" for an empty line, so
the command Enter finally runs tells which request the last key press was answered from.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.shells import (
    BashSession,
    BashViSession,
    FakeServer,
    Home,
    Session,
    session,
)

pytestmark = pytest.mark.slow

RIGHT = "\x1b[C"
ANSWERS = {"git c": (0.0, "git commit -m fix"), "": (0.0, "git status")}


def ran(output: str) -> list[str]:
    return re.findall(r"^MARKER (git.*?)\s*$", output, re.M)


def clear_line(shell: Session) -> str:
    # Ctrl-E Ctrl-U in emacs mode; vi's insert mode has no Ctrl-E, and the cursor is at the end.
    return "\x15" if isinstance(shell, BashViSession) else "\x05\x15"


# Each way a line ends: the keys that end it, and how many prompts that draws.
ENDINGS: dict[str, tuple[Callable[[Session], str], int]] = {
    "run": (lambda shell: clear_line(shell) + "true\r", 1),
    "cancelled": (lambda shell: "\x03", 1),
    "run empty": (lambda shell: clear_line(shell) + "\r", 1),
    "edited away": (clear_line, 0),
}


def type_keys(shell: Session, keys: list[str], pace: float) -> None:
    """Send ``keys`` one by one ``pace`` seconds apart, or all in one write (a burst)."""
    if pace == 0:
        shell.send("".join(keys))
        return
    for key in keys:
        shell.send(key)
        time.sleep(pace)


@pytest.mark.parametrize("kind", [BashSession, BashViSession], ids=["emacs", "vi"])
@pytest.mark.parametrize("pace", [0.04, 0.0], ids=["human", "burst"])
@pytest.mark.parametrize("ending", sorted(ENDINGS))
def test_the_fill_key_after_a_line_ends_asks_afresh_for_the_new_line(
    tmp_path: Path, kind: type[Session], pace: float, ending: str
) -> None:
    home = Home(tmp_path)
    home.train()
    end, prompts = ENDINGS[ending]
    with FakeServer(home, ANSWERS) as server, session(kind, home) as shell:
        # Fill (the one suggestion), press again (cycles back to what was typed), end the line.
        keys = [*"git c", BashSession.key, BashSession.key]
        if ending == "cancelled":
            # The terminal throws away keys not yet read when Ctrl-C comes (as when a person
            # presses it too soon): wait until the line shows the cycle back at what was typed.
            type_keys(shell, keys, pace)
            shell.expect("commit -m fix")
            shell.expect("PROMPT> git c")
            keys = []
        type_keys(shell, [*keys, *end(shell)], pace)
        for _ in range(prompts):
            shell.expect_prompt()
        # Right on the new, empty line: the fresh suggestion for an empty line, then Enter.
        type_keys(shell, [RIGHT, "\r"], pace)
        output = shell.expect_prompt()
        shell.close()
        shell.assert_quiet()
    assert ran(output) == ["git status"], output
    asked = [request.get("prefix") for request in server.requests if "prefix" in request]
    assert asked == ["git c", ""]

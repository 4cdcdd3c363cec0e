"""Feedback from zsh-autosuggestions' mode, in real zsh sessions with it loaded: our strategy's
suggestions taken (whole, a word, or taken and run), typed over and cancelled are told as our
own widgets tell them, and a suggestion of another strategy never is.

Its async worker (the default) runs our strategy in a fork of the shell; its synchronous mode
runs it in the shell itself. Both are tried."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from aprender_shell.model.learned.feedback import Feedback
from tests.integration.shells import Home, ZshAutosuggestFirstSession, ZshSession, session
from tests.integration.test_zsh import (
    GHOST,
    TYPED,
    ZshAutosuggestSyncSession,
    probe_until,
    ran,
    wait_for_ghost,
)

pytestmark = pytest.mark.slow

MODES = [ZshAutosuggestFirstSession, ZshAutosuggestSyncSession]


def feedback(home: Home) -> Feedback:
    """The feedback the server saved (read once it stopped)."""
    return Feedback.load(home.model)


def today(home: Home) -> dict[str, int]:
    (sums,) = feedback(home).days.values()
    return sums


def trained(tmp_path: Path) -> Home:
    home = Home(tmp_path)
    home.train()  # tests/integration/shells.HISTORY: 'git c' shows 'git commit -m fix'
    home.env["APRENDER_SHELL_EMPTY_LINE"] = "0"  # only the typed line's suggestions count
    return home


@pytest.mark.parametrize("key", ["\x1b[C", "\x1b[F", "\x1bf"], ids=["right", "end", "alt-f"])
@pytest.mark.parametrize("pace", [0.15, 0.0], ids=["human-speed", "burst"])
@pytest.mark.parametrize("kind", MODES, ids=["async", "sync"])
def test_what_was_taken_is_told(
    tmp_path: Path, key: str, pace: float, kind: type[ZshSession]
) -> None:
    home = trained(tmp_path)
    with session(kind, home) as shell:
        assert isinstance(shell, ZshSession)
        shell.type_slowly(TYPED, pace)
        wait_for_ghost(shell, GHOST)
        shell.send(key)
        taken = "git commit -m fix" if key != "\x1bf" else "git commit "
        probe_until(shell, lambda probe: probe.buffer == taken, f"the line {taken!r}")
        shell.type_slowly("-m fix"[: 0 if key != "\x1bf" else 6], pace)
        assert ran(shell.enter()) == ["git commit -m fix"]
        shell.close()
        shell.assert_quiet()
    assert feedback(home).commands["git commit -m fix"] == [1, 0]
    sums = today(home)
    assert sums["shown"] == 1 and sums["accepted"] == 1 and sums["right"] == 1
    assert sums["saved"] == len(GHOST if key != "\x1bf" else "ommit ")


@pytest.mark.parametrize("pace", [0.15, 0.0], ids=["human-speed", "burst"])
def test_taken_and_run_with_the_execute_key_is_told(tmp_path: Path, pace: float) -> None:
    home = trained(tmp_path)
    with session(ZshAutosuggestFirstSession, home) as shell:
        assert isinstance(shell, ZshSession)
        shell.type_slowly(TYPED, pace)
        wait_for_ghost(shell, GHOST)
        shell.send("\x18e")  # aprender-shell-execute, which zsh-autosuggestions wraps
        assert ran(shell.expect_prompt()) == ["git commit -m fix"]
        shell.close()
        shell.assert_quiet()
    assert feedback(home).commands["git commit -m fix"] == [1, 0]
    sums = today(home)
    assert sums["accepted"] == 1 and sums["right"] == 1 and sums["saved"] == len(GHOST)


@pytest.mark.parametrize("pace", [0.15, 0.0], ids=["human-speed", "burst"])
def test_what_was_typed_over_is_told(tmp_path: Path, pace: float) -> None:
    home = trained(tmp_path)
    with session(ZshAutosuggestFirstSession, home) as shell:
        assert isinstance(shell, ZshSession)
        shell.type_slowly(TYPED, pace)
        wait_for_ghost(shell, GHOST)
        shell.type_slowly("heckout main", pace)
        assert ran(shell.enter()) == ["git checkout main"]
        shell.close()
        shell.assert_quiet()
    assert feedback(home).commands["git commit -m fix"] == [0, 1]
    sums = today(home)
    assert sums["accepted"] == 0 and sums["saved"] == 0 and sums["shown"] >= 1


def test_a_line_cancelled_with_ctrl_c_tells_what_it_showed(tmp_path: Path) -> None:
    home = trained(tmp_path)
    with session(ZshAutosuggestFirstSession, home) as shell:
        assert isinstance(shell, ZshSession)
        shell.type_slowly(TYPED)
        wait_for_ghost(shell, GHOST)
        shell.send("\x03")  # zle ends the line without its line-finish hook
        shell.expect_prompt()
        shell.run("true")  # the next line comes: what the cancelled one showed is told
        deadline = time.monotonic() + 30
        while feedback(home).commands.get("git commit -m fix") != [0, 1]:
            assert time.monotonic() < deadline, feedback(home).commands
            time.sleep(0.05)  # how often to look, not how long something takes
        shell.close()
        shell.assert_quiet()
    sums = today(home)
    assert sums["shown"] == 1 and sums["accepted"] == 0 and sums["right"] == 0


@pytest.mark.parametrize("kind", MODES, ids=["async", "sync"])
def test_another_strategy_s_suggestion_is_not_told_as_ours(
    tmp_path: Path, kind: type[ZshSession]
) -> None:
    home = trained(tmp_path)
    with session(kind, home) as shell:
        assert isinstance(shell, ZshSession)
        assert shell.probe().strategies == ["aprender", "history"]
        # A command only zsh's history holds: run while we were told to stay out.
        shell.run("APRENDER_SHELL_DISABLE=1")
        shell.run("echo only-zsh-knows")
        shell.run("unset APRENDER_SHELL_DISABLE")
        shell.type_slowly("echo on")
        wait_for_ghost(shell, "ly-zsh-knows")  # from zsh-autosuggestions' history strategy
        shell.send("\x1b[C")
        probe_until(shell, lambda probe: probe.buffer == "echo only-zsh-knows", "the line")
        shell.enter()
        shell.close()
        shell.assert_quiet()
    sums = today(home)
    assert sums.get("shown", 0) == 0 and sums.get("accepted", 0) == 0, sums

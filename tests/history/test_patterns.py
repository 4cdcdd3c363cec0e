"""User patterns run in a linear-time engine; one RE2 cannot compile is named, the rest apply."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aprender_shell.errors import UsageError
from aprender_shell.history.formats import HistoryEntry
from aprender_shell.history.privacy import USER_FILTER, LearningGate, default_gate
from aprender_shell.model.training.forget import command_matcher
from aprender_shell.model.training.train import clean_commands, train_model
from aprender_shell.paths import history_filter_path

# Backtracking engines take about 2**30 steps for (a+)+$ against this; RE2 takes 32.
CATASTROPHIC = "(a+)+$"
HOSTILE = "echo " + "a" * 30 + "b"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aprender_shell", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.timeout(60)
def test_a_catastrophic_filter_pattern_judges_a_hostile_command(tmp_path: Path) -> None:
    path = tmp_path / "history_filter"
    path.write_text(f"{CATASTROPHIC}\n")
    gate = LearningGate(path)
    assert gate.allows(HOSTILE)
    assert gate.reason("echo aaaa") == USER_FILTER


@pytest.mark.parametrize(
    ("line", "why"),
    [("(unclosed", "missing )"), ("(a)\\1", "backreference"), ("foo(?=bar)", "look-around"),
     ("(?<!x)y", "look-around"), ("[bad", "missing ]")],
)
def test_a_bad_line_is_named_and_the_good_ones_still_filter(
    tmp_path: Path, line: str, why: str
) -> None:
    path = tmp_path / "history_filter"
    path.write_text(f"# ok\n^ssh .*prod\n{line}\ninternal\\.corp\n")
    gate = LearningGate(path)
    (problem,) = gate.check()
    assert str(path) in problem and "line 3" in problem and why in problem
    assert "\n" not in problem
    assert gate.reason("ssh admin@db1.prod") == USER_FILTER
    assert gate.reason("curl https://wiki.internal.corp/") == USER_FILTER
    assert gate.allows("ls -la")  # learning goes on


def test_each_bad_line_is_reported_when_the_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "history_filter"
    path.write_text("[bad\n")
    gate = LearningGate(path)
    reported: list[str] = []
    gate.report = reported.append
    assert gate.allows("ls")
    assert len(reported) == 1 and "line 1" in reported[0]
    assert gate.allows("ls")
    assert len(reported) == 1  # unchanged file, not reported again
    path.write_text("fine\n(x)\\1\n")
    assert not gate.allows("make fine")
    assert len(reported) == 2 and "line 2" in reported[1]


def test_a_command_with_undecodable_bytes_is_still_judged(tmp_path: Path) -> None:
    path = tmp_path / "history_filter"
    path.write_text("secret.*host\n")
    gate = LearningGate(path)
    assert gate.reason("ssh secret-\udcff-host") == USER_FILTER
    assert gate.allows("ls \udcff")


def test_training_keeps_learning_past_a_bad_line_and_names_it(tmp_path: Path) -> None:
    filter_file = history_filter_path()
    filter_file.parent.mkdir(parents=True, exist_ok=True)
    filter_file.write_text("deploy-prod\n[bad\n")
    kept, _ = clean_commands([HistoryEntry("make deploy-prod"), HistoryEntry("git status")])
    assert [entry.command for entry in kept] == ["git status"]
    history = tmp_path / "history"
    history.write_text("git status\nmake deploy-prod\ngit push\n" * 3)
    model = tmp_path / "model.apbundle"
    done = run_cli("train", "--history", str(history), "--model", str(model))
    assert done.returncode == 0, done.stderr
    warning = [line for line in done.stderr.splitlines() if "line 2" in line]
    assert len(warning) == 1 and str(filter_file) in warning[0] and "'[bad'" in warning[0]
    assert "Unique commands: 2" in done.stdout
    suggested = run_cli("suggest", "make", "--model", str(model))
    assert "deploy-prod" not in suggested.stdout


def test_an_unreadable_filter_file_still_keeps_everything_out(tmp_path: Path) -> None:
    path = tmp_path / "history_filter"
    path.write_bytes(b"x" * (2 << 20))
    gate = LearningGate(path)
    with pytest.raises(UsageError, match="over"):
        gate.allows("ls")
    (problem,) = gate.current_problems()
    assert "nothing is learned" in problem


def test_forget_refuses_a_pattern_re2_cannot_match_in_one_line() -> None:
    with pytest.raises(UsageError) as caught:
        command_matcher("(a)\\1", "regex")
    assert "backreference" in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.timeout(120)
def test_forget_regex_over_hostile_lines_finishes(tmp_path: Path) -> None:
    commands = [f"echo {'a' * (24 + n % 10)}b{n}" for n in range(300)] + ["echo aaaa"] * 3
    model = tmp_path / "model.apbundle"
    train_model([HistoryEntry(command) for command in commands], model)
    matches = command_matcher(CATASTROPHIC, "regex")
    assert not matches(HOSTILE) and matches("echo aaaa")
    dry = run_cli("forget", "--regex", CATASTROPHIC, "--dry-run", "--model", str(model))
    assert dry.returncode == 0, dry.stderr
    assert "Would forget 3 commands (1 distinct)" in dry.stdout


def test_the_default_gate_follows_the_user_filter_file() -> None:
    filter_file = history_filter_path()
    filter_file.parent.mkdir(parents=True, exist_ok=True)
    filter_file.write_text("(?=x)\n")
    assert default_gate().allows("x")
    assert "look-around" in default_gate().current_problems()[0]


def test_update_names_a_bad_line_and_still_learns(tmp_path: Path) -> None:
    history = tmp_path / "history"
    history.write_text("git status\ngit push\n" * 3)
    model = tmp_path / "model.apbundle"
    assert run_cli("train", "--history", str(history), "--model", str(model)).returncode == 0
    filter_file = history_filter_path()
    filter_file.parent.mkdir(parents=True, exist_ok=True)
    filter_file.write_text("secret-host\n(?<=x)y\n")
    with open(history, "a") as handle:
        handle.write("kubectl get pods\nssh secret-host\n")
    done = run_cli("update", "--history", str(history), "--model", str(model))
    assert done.returncode == 0, done.stderr
    (warning,) = done.stderr.strip().splitlines()
    assert "line 2" in warning and "look-around" in warning
    assert "kubectl get pods" in run_cli("suggest", "kub", "--model", str(model)).stdout
    assert "secret-host" not in run_cli("suggest", "ssh", "--model", str(model)).stdout

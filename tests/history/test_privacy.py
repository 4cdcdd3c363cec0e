"""The learning gate (leading space, secrets, history_filter) and marks that keep no command."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from aprender_shell.history.files import read_history
from aprender_shell.history.marks import HistoryMark, mark_history, new_entries_since
from aprender_shell.history.privacy import (
    LEADING_SPACE,
    SECRET,
    USER_FILTER,
    LearningGate,
    default_gate,
)
from aprender_shell.paths import history_filter_path
from tests.model.sessions import WORKDAY, write_zsh_history

PASSWORD = "Zebra-Quartz-7781"


def test_a_leading_space_keeps_a_command_out(tmp_path: Path) -> None:
    gate = LearningGate(tmp_path / "none")
    assert gate.reason(" ls -la") == LEADING_SPACE
    assert gate.reason("  git push") == LEADING_SPACE
    assert gate.allows("ls -la") and gate.allows("ls  -la ")


@pytest.mark.parametrize("value", ["1", "on", "yes", "true", " YES "])
def test_the_leading_space_rule_can_be_turned_off(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APRENDER_SHELL_RECORD_SPACE", value)
    gate = LearningGate(tmp_path / "none")
    assert gate.allows(" ls -la")
    assert gate.reason(f" mysql -uroot -p{PASSWORD}") == SECRET  # secrets stay out regardless


def test_the_history_filter_file_keeps_matching_commands_out() -> None:
    path = history_filter_path()
    path.parent.mkdir(parents=True)
    path.write_text("# never learn these\n\n^ssh .*prod\n  internal\\.corp  \n")
    gate = default_gate()
    assert gate.reason("ssh admin@db1.prod") == USER_FILTER
    assert gate.reason("curl https://wiki.internal.corp/page") == USER_FILTER
    assert gate.allows("ssh admin@staging")
    assert gate.allows("# never learn these")  # comments are not patterns


def test_the_filter_is_reread_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "history_filter"
    gate = LearningGate(path)
    assert gate.allows("make deploy")
    path.write_text("deploy\n")
    assert not gate.allows("make deploy")
    path.write_text("# nothing\n")
    os.utime(path, ns=(1, 1))  # a new time even on coarse clocks
    assert gate.allows("make deploy")
    path.unlink()
    assert gate.allows("make deploy")


def mark_text(mark: HistoryMark) -> str:
    return json.dumps(mark.to_dict())


def test_a_mark_keeps_no_history_line(tmp_path: Path) -> None:
    """The mark of a history ending in a password holds neither the password nor any line."""
    history = tmp_path / "zsh_history"
    last = f"python manage.py createsuperuser --password {PASSWORD}"
    write_zsh_history(history, [*WORKDAY[:6], " echo private-marker", last])
    mark = mark_history(history, read_history(history))
    text = mark_text(mark)
    assert PASSWORD not in text and "createsuperuser" not in text
    assert "private-marker" not in text
    assert not any(command in text for command in WORKDAY[:6])
    assert "tail_commands" not in text
    assert mark.tail_hashes[-2:] == ["", ""]  # kept-out commands are not even hashed


def test_a_rewritten_file_is_still_found_by_hashes(tmp_path: Path) -> None:
    history = tmp_path / "zsh_history"
    old = [f"echo step {n}" for n in range(10)]
    write_zsh_history(history, old)
    stored = mark_text(mark_history(history, read_history(history)))
    mark = HistoryMark.from_dict(json.loads(stored))
    # The shell trims the file to its last lines and appends two: only those two are new.
    os.unlink(history)
    write_zsh_history(history, [*old[-4:], "echo new 1", "echo new 2"], start=1_700_000_100)
    new, _, rewritten = new_entries_since(history, mark)
    assert rewritten
    assert [e.command for e in new] == ["echo new 1", "echo new 2"]


def test_kept_out_commands_in_the_tail_match_kept_out_commands(tmp_path: Path) -> None:
    history = tmp_path / "zsh_history"
    old = [f"echo step {n}" for n in range(6)] + [" echo hidden", "echo step 6"]
    write_zsh_history(history, old)
    mark = mark_history(history, read_history(history))
    os.unlink(history)
    write_zsh_history(history, [*old[-5:], "echo new"], start=1_700_000_100)
    new, _, rewritten = new_entries_since(history, mark)
    assert rewritten and [e.command for e in new] == ["echo new"]


def test_an_older_mark_with_plain_commands_is_converted(tmp_path: Path) -> None:
    history = tmp_path / "zsh_history"
    commands = [f"echo step {n}" for n in range(5)] + [f"mysql -uroot -p{PASSWORD}"]
    write_zsh_history(history, commands)
    old = mark_history(history, read_history(history)).to_dict()
    del old["tail_hashes"], old["salt"]
    old["tail_commands"] = commands[-5:]
    mark = HistoryMark.from_dict(old)
    assert mark.legacy
    text = mark_text(mark)
    assert PASSWORD not in text and "echo step" not in text and "tail_commands" not in text
    assert mark.tail_hashes[-1] == ""
    # The converted mark still finds the old end in a rewritten file.
    os.unlink(history)
    write_zsh_history(history, [*commands[-4:], "echo later"], start=1_700_000_100)
    new, _, _ = new_entries_since(history, mark)
    assert [e.command for e in new] == ["echo later"]

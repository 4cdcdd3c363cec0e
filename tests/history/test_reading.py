"""Which history a command learns from, found and read by the library (no command line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aprender_shell.history.files import read_histories, sample_history_path


def test_histories_of_two_shells_are_merged_in_the_order_the_commands_ran(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zsh = tmp_path / ".zsh_history"
    zsh.write_text(": 1700000001:0;git status\n: 1700000003:0;make test\n")
    bash = tmp_path / ".bash_history"
    bash.write_text("#1700000002\ngit add .\n#1700000004\ngit push\n")
    read = read_histories([zsh, bash])
    assert [entry.command for entry in read.entries] == [
        "git status", "git add .", "make test", "git push"]
    assert read.files == [zsh, bash] and not read.sample
    assert [mark["path"] for mark in read.marks] == [str(zsh), str(bash)]
    assert capsys.readouterr() == ("", "")  # the library tells nobody anything


def test_with_no_history_the_packaged_sample_is_read_and_says_so(
    private_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    read = read_histories([])
    assert read.sample and read.files == [sample_history_path()] and read.marks == []
    assert len(read.entries) > 100
    assert capsys.readouterr() == ("", "")

"""In a real zsh at human speed: a suggestion naming a path that is gone is never ghosted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.shells import Home, ZshSession, session
from tests.integration.test_zsh import wait_for_ghost

pytestmark = pytest.mark.slow


def test_a_suggestion_whose_second_path_is_gone_is_not_ghosted(tmp_path: Path) -> None:
    home = Home(tmp_path)
    home.train(["vim notes.txt todo.txt", "make test"] * 8 + ["vim notes.txt", "git status"] * 3)
    (home.home / "notes.txt").write_text("notes\n")  # the shell's folder; todo.txt is gone
    with session(ZshSession, home) as shell:
        assert isinstance(shell, ZshSession)
        shell.type_slowly("vim n")
        wait_for_ghost(shell, "otes.txt")  # the habit with both files is not offered
        shell.send("\x15")
        # The positive probe: with todo.txt back, the same keys bring the habit back.
        (home.home / "todo.txt").write_text("todo\n")
        shell.type_slowly("vim n")
        wait_for_ghost(shell, "otes.txt todo.txt")
        shell.send("\x15")
        shell.close()
        shell.assert_quiet()

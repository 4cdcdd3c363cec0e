"""The shell benchmark: the keystrokes it types, and one small run end to end."""

from __future__ import annotations

import shutil

import pytest

from benchmarks.shell import ZSH_AUTOSUGGESTIONS, keystrokes, run
from tests.integration.shells import require


def test_keystrokes_type_each_command_one_character_at_a_time() -> None:
    keys = keystrokes(["ls", "git st", "make"], 100)
    assert keys == [
        ("g", "ls"), ("gi", "ls"), ("git", "ls"), ("git ", "ls"), ("git s", "ls"),
        ("git st", "ls"), ("m", "git st"), ("ma", "git st"), ("mak", "git st"),
        ("make", "git st"),
    ]
    assert len(keystrokes(["ls", "git st", "make"], 4)) == 4


def suggested(row: str) -> int:
    """The share of keystrokes that got a suggestion, in percent, from a row of the table."""
    return int(next(cell for cell in row.split() if cell.endswith("%")).rstrip("%"))


@pytest.mark.slow
def test_a_small_run_prints_both_sides_and_the_start_up_table() -> None:
    require("zsh")
    lines: list[str] = []
    run(commands=2_000, count=60, starts=2, out=lines.append, presses=3)
    text = "\n".join(lines)
    assert "aprender-shell (own widgets)" in text
    if ZSH_AUTOSUGGESTIONS.exists():
        assert "zsh-autosuggestions (history)" in text
        # Our strategy inside zsh-autosuggestions answered too.
        strategy = next(line for line in lines if "zsh-autosuggestions + aprender" in line)
        assert suggested(strategy) > 0
    for setup in ("without the integration", "installed block (cached script)"):
        assert setup in text
    row = next(line for line in lines if "aprender-shell (own widgets)" in line)
    # The trained model answered some of the keystrokes with a suggestion.
    assert suggested(row) > 0
    # bash and fish, which fill the line on a key instead, are measured in the same run.
    assert "fill key" in text
    bash_row = next(line for line in lines if line.strip().startswith("bash"))
    assert "p50" in bash_row and "beside the shell" in bash_row
    if shutil.which("fish"):
        assert any(line.strip().startswith("fish") and "p50" in line for line in lines)

"""The shell benchmark: the keystrokes it types, and one small run end to end."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks.shell import ZSH_AUTOSUGGESTIONS, keystrokes, run
from benchmarks.shell import against as shell_against
from benchmarks.shell.against import project_folder
from tests.integration.shells import require

CHECKOUT = Path(__file__).resolve().parents[2]


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


def test_the_project_folder_holds_the_paths_the_commands_name(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    made = project_folder(work, [
        "vim src/account.c", "cd docs", "git commit -m 'fix: x.y'", "ls -la", "cat ~/notes.txt",
        "vim src/account.c",
    ])
    assert made == 2
    assert (work / "src" / "account.c").is_file() and (work / "docs").is_dir()
    assert sorted(path.name for path in work.iterdir()) == ["docs", "src"]


@pytest.mark.slow
def test_a_side_by_side_run_alternates_rounds_and_reports_each_modes_ratio(
    tmp_path: Path,
) -> None:
    require("zsh")
    lines: list[str] = []
    # Against this same checkout: both sides run the same code, each its own model and server.
    ratios = shell_against.run(CHECKOUT, commands=1_500, count=40, rounds=2, folder=tmp_path,
                               out=lines.append)
    modes = ["own widgets"]
    if ZSH_AUTOSUGGESTIONS.exists():
        modes += ["zsh-autosuggestions, ours alone", "zsh-autosuggestions, ours+history"]
    modes.append("Predictor.suggest, in process")
    assert list(ratios) == modes
    for middle, low, high, least, most in ratios.values():
        assert 0 < least <= low <= middle <= high <= most
    rows = [next(line for line in lines if line.strip().startswith(mode)) for mode in modes]
    # Both sides answered the same keystrokes: the same code on the same history.
    for row in rows:
        this, other = next(cell for cell in row.split() if "%/" in cell).split("/")
        assert this == other and this != "0%"
    assert not any(path.name.startswith("server") for path in tmp_path.rglob("*.sock"))

"""``install --shell zsh`` says which mode the script will pick, judged from the rc file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from aprender_shell.cli import cli

LOADERS = [
    "source /usr/share/zsh-autosuggestions/zsh-autosuggestions.zsh",
    "plugins=(git zsh-autosuggestions)",
    "zinit light zsh-users/zsh-autosuggestions",
    "antigen bundle zsh-users/zsh-autosuggestions",
]


def install(*args: str) -> str:
    result = CliRunner().invoke(cli, ["install", "--shell", "zsh", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("line", LOADERS)
def test_an_rc_loading_zsh_autosuggestions_gets_the_strategy_mode(
    private_home: Path, line: str
) -> None:
    (private_home / ".zshrc").write_text(f"{line}\n")
    output = install("--dry-run")
    assert "zsh-autosuggestions is loaded there" in output
    assert "ZSH_AUTOSUGGEST_STRATEGY=(aprender history)" in output


def test_antidotes_plugin_list_counts_too(private_home: Path) -> None:
    (private_home / ".zsh_plugins.txt").write_text("zsh-users/zsh-autosuggestions\n")
    assert "zsh-autosuggestions is loaded there" in install("--dry-run")


@pytest.mark.parametrize("text", ["", "# zsh-autosuggestions was here once\nalias l=ls\n"])
def test_otherwise_our_own_widgets(private_home: Path, text: str) -> None:
    (private_home / ".zshrc").write_text(text)
    output = install()
    assert "is not loaded there" in output and "Right or End" in output
    # Our own block does not count as loading it, on a second run either.
    assert "is not loaded there" in install()

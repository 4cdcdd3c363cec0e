"""The README stays true: every command is documented there and has its own help."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from aprender_shell.cli import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def all_commands(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        path = (*prefix, name)
        found.append(path)
        if isinstance(command, click.Group):
            found += all_commands(command, path)
    return found


COMMANDS = all_commands()


def test_the_cli_has_the_commands_the_issues_ask_for() -> None:
    names = {" ".join(path) for path in COMMANDS}
    assert {"train", "suggest", "stats", "update", "evaluate", "init", "install", "uninstall",
            "server start", "server stop", "server status"} <= names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path))
def test_every_command_has_help_and_is_in_the_readme(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    assert len(result.output.splitlines()) > 3
    if len(path) == 1:
        assert f"aprender-shell {path[0]}" in README, f"README does not mention {path[0]}"
    else:  # subcommands may be listed together: `server start|run|stop|status|connect`
        listed = re.search(rf"aprender-shell {path[0]} [a-z|]*\b{path[1]}\b", README)
        assert listed or f"aprender-shell {' '.join(path)}" in README


@pytest.mark.parametrize(
    "path", [p for p in COMMANDS if len(p) == 1 and p[0] not in ("server",)],
    ids=lambda path: " ".join(path),
)
def test_every_option_in_help_is_in_the_readme(path: tuple[str, ...]) -> None:
    command = cli.commands[path[0]]
    for parameter in command.params:
        if isinstance(parameter, click.Option) and not parameter.hidden:
            long_names = [o for o in parameter.opts if o.startswith("--") and o != "--help"]
            for option in long_names:
                assert option in README, f"{path[0]} {option} is not in the README"


def test_quick_start_is_two_commands_that_install_train_suggest_and_test() -> None:
    block = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    lines = [line for line in block.strip().splitlines() if line.strip()]
    assert len(lines) == 2
    steps = lines[0].split(" && ")
    # The virtual environment is part of the command: Debian's own Python refuses pip (PEP 668).
    assert steps[0] == "python3 -m venv .venv"
    assert steps[1].startswith(".venv/bin/pip install -e ")
    assert any(step.startswith(".venv/bin/aprender-shell train") for step in steps)
    assert any(step.startswith(".venv/bin/aprender-shell suggest") for step in steps)
    assert lines[1].strip() == ".venv/bin/python -m pytest"
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 -m pytest" in ci  # CI runs the same suite with its own Python

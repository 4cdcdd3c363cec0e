"""``aprender-shell search``: your past commands ranked for this moment; what Ctrl-R runs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from aprender_shell.cli import cli, reports_errors
from aprender_shell.cli.options import model_option


@cli.command()
@click.argument("query", required=False, default="")
@click.option(
    "--prev", multiple=True, help="A command run before this one (repeatable, most recent last)."
)
@click.option("--cwd", help="The folder the command will run in (ranking, and --here).")
@click.option("--shell", type=click.Choice(["zsh", "bash", "fish"]), help="The shell asking.")
@click.option("--here", is_flag=True, help="Only commands run in this folder (Alt-D toggles).")
@click.option("--succeeded", is_flag=True, help="Only commands that exited 0 (Alt-S toggles).")
@click.option("--this-host", is_flag=True, help="Only commands run on this host (Alt-H toggles).")
@click.option(
    "--list", "list_only", is_flag=True,
    help="Print the ranked list (the commands holding every word of QUERY) instead of picking.",
)
@model_option("The model to read (default: ask the running server, else read yours).")
@reports_errors
def search(
    query: str,
    prev: tuple[str, ...],
    cwd: str | None,
    shell: str | None,
    here: bool,
    succeeded: bool,
    this_host: bool,
    list_only: bool,
    model: Path | None,
) -> None:
    """Pick a past command, ranked for this moment (what Ctrl-R runs).

    The list is ranked by the model for this context (the previous commands, the folder, the
    shell), then by how recently each command ran; typing narrows it. It is picked in fzf when
    installed (APRENDER_SHELL_FZF=0: never), else in a built-in list. Enter prints the command
    (exit 0); Esc prints nothing (exit 130). Alt-D, Alt-S and Alt-H toggle the filters: this
    folder, succeeded only, this host (known for commands the shells recorded, not for those
    read from a history file). Forgotten and secret commands are never listed.
    """
    from aprender_shell.ctrl_r import SearchOptions, run_search

    options = SearchOptions(
        query, list(prev), cwd, shell, here, succeeded, this_host, list_only,
        str(model) if model is not None else None,
    )
    code = run_search(options)
    if code:
        sys.exit(code)

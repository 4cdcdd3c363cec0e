"""``aprender-shell suggest``: the best commands for what was typed, once or as JSON lines."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from aprender_shell.cli import cli, reports_errors
from aprender_shell.cli.options import (
    check_config_folder,
    memory_option,
    model_option,
    model_path,
)
from aprender_shell.limits import DEFAULT_K, MAX_K
from aprender_shell.terminal import suggestion_line

if TYPE_CHECKING:
    from aprender_shell.model.memory import MemoryLimit


@cli.command(short_help="Suggest commands for what was typed.")
@click.argument("prefix", required=False, default="")
@click.option(
    "-k",
    "k",
    default=DEFAULT_K,
    show_default=True,
    type=click.IntRange(1, MAX_K),
    help="How many suggestions.",
)
@click.option(
    "--prev", multiple=True, help="A command run before this one (repeatable, most recent last)."
)
@click.option("--cwd", help="The working directory the command will run in.")
@click.option("--batch", is_flag=True, help="Answer JSON-lines requests on stdin (see README).")
@model_option("The model to use.")
@memory_option()
@reports_errors
def suggest(
    prefix: str,
    k: int,
    prev: tuple[str, ...],
    cwd: str | None,
    batch: bool,
    model: Path | None,
    memory_limit: MemoryLimit | None,
) -> None:
    """Suggest commands starting with PREFIX, one 'suggestion<TAB>p' line each: p is the chance
    it is the command you run next, as measured on your own history.

    Newlines, tabs and backslashes inside a suggestion are written as \\n, \\t and \\\\, other
    control characters as \\xHH: nothing printed can drive your terminal.
    """
    from aprender_shell.model.query.predictor import Predictor

    path = model_path(model)
    if batch:
        from aprender_shell.service.session import Session, serve_stream

        check_config_folder()

        session = Session(lambda: Predictor.open(path, memory_limit), model_path=path)
        serve_stream(session, sys.stdin, sys.stdout)
        if session.unsaved or session.save_error:
            raise click.ClickException(
                f"{session.unsaved} recorded command{'' if session.unsaved == 1 else 's'} "
                f"could not be saved: {session.save_error}"
            )
        return
    with Predictor.open(path, memory_limit) as predictor:
        for suggestion in predictor.suggest(prefix, k=k, prev=list(prev), cwd=cwd):
            click.echo(suggestion_line(suggestion.text, suggestion.p))



"""``aprender-shell suggest``: the best commands for what was typed, once or as JSON lines."""

from __future__ import annotations

import os
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
from aprender_shell.model.scoring import PARTS
from aprender_shell.terminal import escape_field, suggestion_line

if TYPE_CHECKING:
    from aprender_shell.model.memory import MemoryLimit
    from aprender_shell.model.query.predictor import Suggestion


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
@click.option(
    "--explain", is_flag=True, help="Show each suggestion's p and what its score is made of."
)
@click.option("--batch", is_flag=True, help="Answer JSON-lines requests on stdin (see README).")
@click.option(
    "--agents",
    is_flag=True,
    help="Suggest commands coding agents and scripts ran too (as APRENDER_SHELL_AGENTS=1).",
)
@model_option("The model to use.")
@memory_option()
@reports_errors
def suggest(
    prefix: str,
    k: int,
    prev: tuple[str, ...],
    cwd: str | None,
    explain: bool,
    batch: bool,
    agents: bool,
    model: Path | None,
    memory_limit: MemoryLimit | None,
) -> None:
    """Suggest commands starting with PREFIX, one 'suggestion<TAB>p' line each: p is the chance
    it is the command you run next, as measured on your own history. A first line ending in
    '<TAB>partial' is the likely start of several commands (git commit -m "), and its p the
    chance the command starts with it.

    Newlines, tabs and backslashes inside a suggestion are written as \\n, \\t and \\\\, other
    control characters as \\xHH: nothing printed can drive your terminal.
    """
    from aprender_shell.model.query.predictor import Predictor

    if agents:
        from aprender_shell.model.learned.records import AGENTS_SETTING

        os.environ[AGENTS_SETTING] = "1"  # read wherever records are learned (people_only)
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
        if explain:
            click.echo(explained_table(predictor.explain(prefix, k=k, prev=list(prev), cwd=cwd)))
            return
        for suggestion in predictor.suggest(prefix, k=k, prev=list(prev), cwd=cwd):
            click.echo(suggestion_line(suggestion.text, suggestion.p, suggestion.partial))


# The parts every row shows, in this order; the others only where they count.
SHOWN_PARTS = ("sequence", "frequency", "recency", "directory", "shell", "arguments", "feedback")


def explained_table(rows: list[tuple[Suggestion, dict[str, float]]]) -> str:
    """``suggest --explain``'s table: one row per suggestion, its p, its score and the
    score's parts (shares of the answer, which add up to the score)."""
    if not rows:
        return "no suggestion starts with that"
    header = ["p", "score", *SHOWN_PARTS, "suggestion"]
    table = [header]
    for suggestion, parts in rows:
        others = [
            f"({name} {parts[name]:+.3f})"
            for name in PARTS
            if name not in SHOWN_PARTS and abs(parts.get(name, 0.0)) >= 0.0005
        ]
        if suggestion.partial:  # a start, not a line: its parts are its lines' summed
            others = ["(partial)", *others]
        table.append([
            f"{suggestion.p:.2f}",
            f"{suggestion.score:.3f}",
            *(_part(parts.get(name, 0.0)) for name in SHOWN_PARTS),
            " ".join([escape_field(suggestion.text), *others]),
        ])
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    lines = [
        "  ".join([*(cell.rjust(width) for cell, width in zip(row, widths)), row[-1]])
        for row in table
    ]
    return "\n".join([
        *lines,
        "",
        "p: the chance it is the command you run next. The parts are shares of the score:",
        "sequence - what followed your last commands; frequency - how often you run it;",
        "recency - how lately; directory - how often in this folder; shell - fit to this shell;",
        "arguments - words reused from your last commands; feedback - accepted or typed over.",
        *([] if not any(s.partial for s, _ in rows) else [
            "partial: the likely start of several suggestions, offered when it is worth more",
            "keystrokes than the best whole one; its p is the chance yours starts with it, its",
            "parts those of the suggestions it starts, summed.",
        ]),
    ])


def _part(value: float) -> str:
    return "." if abs(value) < 0.0005 else f"{value:.3f}"



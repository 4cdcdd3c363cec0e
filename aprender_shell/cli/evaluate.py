"""``aprender-shell evaluate``: replay your history as typed, beside zsh-autosuggestions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from aprender_shell.cli import cli, reports_errors
from aprender_shell.cli.options import (
    history_option,
    load_history,
    memory_option,
    ngram_option,
    progress_bar,
)

if TYPE_CHECKING:
    from aprender_shell.model.memory import MemoryLimit

# Fewer commands than this on either side of the split make a table of noise.
MIN_PART = 10


def commands_needed(split: float) -> int:
    """The fewest commands that leave ``MIN_PART`` on each side of ``split``."""
    import math

    return math.ceil(round(MIN_PART / min(split, 1 - split), 6))


@cli.command(short_help="Replay your history and score the suggestions.")
@history_option("History file to replay (default: as for train).")
@click.option(
    "--split",
    default=0.8,
    show_default=True,
    type=click.FloatRange(0.05, 0.95),
    help="Share of the history to train on; the rest is replayed.",
)
@click.option(
    "--online",
    is_flag=True,
    help="Learn each replayed command after it runs, as the shell hook does.",
)
@ngram_option
@memory_option(trains=True)
@reports_errors
def evaluate(
    histories: tuple[Path, ...],
    split: float,
    online: bool,
    ngram: int,
    memory_limit: MemoryLimit | None,
) -> None:
    """Replay your history as typed and compare with zsh-autosuggestions' strategies."""
    from aprender_shell.evaluate.replay import format_report
    from aprender_shell.evaluate.run import evaluate_history

    entries, _, sources, _ = load_history(histories)
    needed = commands_needed(split)
    if len(entries) < needed:
        raise click.ClickException(
            f"{', '.join(sources)} holds {len(entries)} command{'' if len(entries) == 1 else 's'}"
            f"; evaluate needs at least {needed} (at least {MIN_PART} to train on and "
            f"{MIN_PART} to replay at --split {split:g}): give a longer history with --history"
        )
    click.echo(
        f"History: {', '.join(sources)} ({len(entries)} commands); "
        f"training on {split:.0%}, replaying the rest{' online' if online else ''}."
    )
    with progress_bar("Evaluating") as progress:
        report = evaluate_history(
            entries,
            split=split,
            online=online,
            ngram=ngram,
            memory_limit=memory_limit,
            progress=lambda done, total: progress("replay", done, total),
        )
    click.echo(format_report(report))

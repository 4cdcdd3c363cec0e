"""Commands that train and query the predictor: train, update, suggest, stats, evaluate."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, TypeVar

import click

from aprender_shell.cli import cli, reports_errors
from aprender_shell.fastpath import escape_suggestion

F = TypeVar("F", bound=Callable[..., Any])

MEMORY_HELP = "Memory the model may hold while answering, in MB (MiB; fractions allowed)."


def _history_option(help: str) -> Callable[[F], F]:
    return click.option(
        "--history", "histories", multiple=True, type=click.Path(path_type=Path), help=help
    )


def _model_option(help: str) -> Callable[[F], F]:
    return click.option("--model", type=click.Path(dir_okay=False, path_type=Path), help=help)


def _memory_option(help: str = MEMORY_HELP) -> Callable[[F], F]:
    return click.option("--memory-limit", type=float, help=help)


_ngram_option = click.option(
    "--ngram", default=3, show_default=True, type=click.IntRange(2, 5), help="N-gram size, 2 to 5."
)


def _memory_bytes(megabytes: float | None) -> int | None:
    if megabytes is None:
        return None
    from aprender_shell.errors import UsageError
    from aprender_shell.model.layout import check_memory_limit

    if not megabytes * 1024 * 1024 < 2**53:  # infinity or NaN
        raise click.BadParameter("must be a number of MB", param_hint="--memory-limit")
    try:
        return check_memory_limit(int(megabytes * 1024 * 1024))
    except UsageError as error:
        raise click.BadParameter(str(error), param_hint="--memory-limit") from error


def _model_path(model: Path | None) -> Path:
    from aprender_shell.paths import default_model_path

    return model if model is not None else default_model_path()


def _human_bytes(size: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def _megabytes(size: int) -> str:
    """MiB with one decimal, or as many as a limit below 1 MB needs (0.25, not 0.2)."""
    value = size / 2**20
    return f"{value:.1f}" if value >= 1 else f"{value:.3g}"


def _display(path: Path) -> str:
    home = Path.home()
    try:
        return "~/" + str(path.relative_to(home))
    except ValueError:
        return str(path)


@contextmanager
def _progress(label: str) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar on a terminal (stderr), silence otherwise."""
    if not sys.stderr.isatty():
        yield lambda stage, done, total: None
        return
    state: dict[str, Any] = {"bar": None, "stage": None, "done": 0}

    def update(stage: str, done: int, total: int) -> None:
        if stage != state["stage"]:
            if state["bar"] is not None:
                state["bar"].render_finish()
            state["bar"] = click.progressbar(
                length=max(total, 1), label=f"{label}: {stage}", file=sys.stderr
            )
            state["stage"], state["done"] = stage, 0
        state["bar"].update(done - state["done"])
        state["done"] = done

    try:
        yield update
    finally:
        if state["bar"] is not None:
            state["bar"].render_finish()


def _load_history(paths: Sequence[Path]) -> tuple[list[Any], list[dict[str, Any]], list[str]]:
    """Entries from the given or discovered history files, their marks, and what was read."""
    from aprender_shell.model.history import (
        find_history_files,
        mark_history,
        read_history,
        sample_history_path,
    )

    files = find_history_files(list(paths))
    if not files:
        sample = sample_history_path()
        click.echo(f"No shell history found; training on the packaged sample history ({sample}).")
        return read_history(sample), [], [f"{sample} (sample)"]
    entries: list[Any] = []
    marks = []
    for path in files:
        found = read_history(path)
        entries.extend(found)
        marks.append(mark_history(path, found).to_dict())
    if len(files) > 1 and all(e.timestamp is not None for e in entries):
        entries.sort(key=lambda e: e.timestamp)  # merge several shells' histories in time order
    return entries, marks, [_display(path) for path in files]


@cli.command()
@_history_option(
    "History file to learn from (repeatable). Default: $HISTFILE, then ~/.zsh_history, "
    "~/.bash_history, fish's history; the packaged sample if none."
)
@_model_option("Where to write the model.")
@_ngram_option
@_memory_option(MEMORY_HELP + " Segments are sized to fit it.")
@reports_errors
def train(
    histories: tuple[Path, ...], model: Path | None, ngram: int, memory_limit: float | None
) -> None:
    """Train the model on your shell history."""
    from aprender_shell.model.train import train_model

    limit = _memory_bytes(memory_limit)
    entries, marks, sources = _load_history(histories)
    path = _model_path(model)
    with _progress("Training") as progress:
        report = train_model(
            entries,
            path,
            ngram=ngram,
            memory_limit=limit,
            history_marks=marks,
            progress=progress,
        )
    from aprender_shell.model.journal import journal_path

    journal_path(path).unlink(missing_ok=True)
    _print_training(report, sources)


def _print_training(report: Any, sources: Sequence[str]) -> None:
    from aprender_shell.model.layout import segment_budget

    click.echo(f"📚 History:         {', '.join(sources)}")
    dropped = f" ({report.secrets_dropped} with secrets dropped)" if report.secrets_dropped else ""
    click.echo(f"   Commands loaded: {report.commands}{dropped}")
    click.echo(f"   Unique commands: {report.unique_commands}")
    click.echo(f"   N-gram size:     {report.ngram}")
    budget = _human_bytes(segment_budget(report.memory_limit))
    click.echo(
        f"   Segments:        {report.segments} across {report.families} command families "
        f"(each at most {budget}, for a {_megabytes(report.memory_limit)} MB memory limit)"
    )
    click.echo(
        f"🧠 Model:           {_display(report.model_path)} ({_human_bytes(report.model_bytes)})"
    )


@cli.command()
@_history_option("History file to read new commands from (default: those used at training).")
@_model_option("The model to update.")
@_memory_option()
@reports_errors
def update(histories: tuple[Path, ...], model: Path | None, memory_limit: float | None) -> None:
    """Learn what was added to the history since the last training."""
    from aprender_shell.model.update import update_model

    path = _model_path(model)
    with _progress("Updating") as progress:
        result = update_model(
            path, list(histories), memory_limit=_memory_bytes(memory_limit), progress=progress
        )
    for line in result.notes:
        click.echo(line)
    if result.report is None:
        click.echo("No new commands since the last training; the model is unchanged.")
        return
    plural = "" if result.new_commands == 1 else "s"
    click.echo(
        f"Learned {result.new_commands} new command{plural}; the model now has "
        f"{result.report.commands} commands ({_human_bytes(result.report.model_bytes)})."
    )


@cli.command()
@click.argument("prefix", required=False, default="")
@click.option(
    "-k",
    "k",
    default=5,
    show_default=True,
    type=click.IntRange(1, 100),
    help="How many suggestions.",
)
@click.option(
    "--prev", multiple=True, help="A command run before this one (repeatable, most recent last)."
)
@click.option("--cwd", help="The working directory the command will run in.")
@click.option("--batch", is_flag=True, help="Answer JSON-lines requests on stdin (see README).")
@_model_option("The model to use.")
@_memory_option()
@reports_errors
def suggest(
    prefix: str,
    k: int,
    prev: tuple[str, ...],
    cwd: str | None,
    batch: bool,
    model: Path | None,
    memory_limit: float | None,
) -> None:
    """Suggest commands starting with PREFIX, one 'suggestion<TAB>score' line each.

    Newlines, tabs and backslashes inside a suggestion are written as \\n, \\t and \\\\.
    """
    from aprender_shell.model.predictor import Predictor

    path = _model_path(model)
    limit = _memory_bytes(memory_limit)
    if batch:
        from aprender_shell.service.protocol import Session, serve_stream

        session = Session(lambda: Predictor.open(path, limit), model_path=path)
        serve_stream(session, sys.stdin, sys.stdout)
        return
    with Predictor.open(path, limit) as predictor:
        for suggestion in predictor.suggest(prefix, k=k, prev=list(prev), cwd=cwd):
            click.echo(f"{escape_suggestion(suggestion.text)}\t{suggestion.score:.4f}")


@cli.command()
@_model_option("The model to describe.")
@_memory_option()
@reports_errors
def stats(model: Path | None, memory_limit: float | None) -> None:
    """Show the model and its paging figures.

    The paging figures come from the running server (your shells' real queries) when it
    serves this model; otherwise from replaying your 200 most recent commands as typed
    queries in this process, just now.
    """
    from aprender_shell.model.activity import paging_activity

    path = _model_path(model)
    figures, source = paging_activity(path, _memory_bytes(memory_limit))
    click.echo("📊 Paged Model Statistics:")
    click.echo(f"   N-gram size:     {figures.ngram}")
    click.echo(f"   Total commands:  {figures.total_commands}")
    click.echo(f"   Vocabulary size: {figures.vocabulary}")
    click.echo(f"   Total segments:  {figures.segments}")
    click.echo(f"   Loaded segments: {figures.loaded_segments}")
    click.echo(f"   Memory limit:    {_megabytes(figures.memory_limit)} MB")
    click.echo(f"   Loaded bytes:    {_human_bytes(figures.loaded_bytes)}")
    click.echo("")
    click.echo("📈 Paging Statistics:")
    click.echo(f"   Page hits:       {figures.hits}")
    click.echo(f"   Page misses:     {figures.misses}")
    click.echo(f"   Evictions:       {figures.evictions}")
    click.echo(f"   Hit rate:        {figures.hit_rate * 100:.1f}%")
    click.echo(f"   Source:          {source}")
    if figures.top_commands:
        click.echo("")
        click.echo("🔝 Most used commands:")
        for text, count in figures.top_commands:
            click.echo(f"   {count:>7}  {escape_suggestion(text)}")


@cli.command()
@_history_option("History file to replay (default: as for train).")
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
@_ngram_option
@_memory_option()
@reports_errors
def evaluate(
    histories: tuple[Path, ...], split: float, online: bool, ngram: int, memory_limit: float | None
) -> None:
    """Replay your history as typed and compare with zsh-autosuggestions' strategies."""
    from aprender_shell.model.evaluate import format_report
    from aprender_shell.model.replay import evaluate_history

    limit = _memory_bytes(memory_limit)
    entries, _, sources = _load_history(histories)
    click.echo(
        f"History: {', '.join(sources)} ({len(entries)} commands); "
        f"training on {split:.0%}, replaying the rest{' online' if online else ''}."
    )
    with _progress("Evaluating") as progress:
        report = evaluate_history(
            entries,
            split=split,
            online=online,
            ngram=ngram,
            memory_limit=limit,
            progress=lambda done, total: progress("replay", done, total),
        )
    click.echo(format_report(report))

"""Commands that build and describe the model: train, update, forget, stats."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aprender_shell import paths
from aprender_shell.cli import cli, reports_errors
from aprender_shell.cli.options import (
    MEMORY_HELP,
    check_config_folder,
    display_path,
    history_option,
    load_database,
    load_history,
    megabytes,
    memory_option,
    model_option,
    model_path,
    ngram_option,
    progress_bar,
)
from aprender_shell.terminal import escape_field, human_bytes, printable

if TYPE_CHECKING:
    from aprender_shell.model.memory import MemoryLimit


@cli.command(short_help="Train the model on your shell history.")
@history_option(
    "History file to learn from (repeatable). Default: $HISTFILE, then ~/.zsh_history, "
    "~/.bash_history, fish's history; the packaged sample if none. With --from, the "
    "tool's database."
)
@click.option(
    "--from", "source", type=click.Choice(["atuin", "mcfly"]),
    help="Learn from atuin's or mcfly's history database instead (read-only; default: where "
    "the tool keeps it, ~/.local/share/atuin/history.db or mcfly's).",
)
@model_option("Where to write the model.")
@ngram_option
@memory_option(MEMORY_HELP + " Segments are sized to fit it.", trains=True)
@reports_errors
def train(
    histories: tuple[Path, ...],
    source: str | None,
    model: Path | None,
    ngram: int,
    memory_limit: MemoryLimit | None,
) -> None:
    """Train the model on your shell history."""
    from aprender_shell.model.training.train import train_model
    from aprender_shell.model.training.update.retraining import retrain

    path = model_path(model)
    if model is None:
        from aprender_shell.paths import check_private_dir

        check_private_dir(path.parent)  # before reading the history: nothing lands in theirs
    warn_filter_problems()
    if source is not None:
        entries, marks, sources, sample = load_database(source, histories)
    else:
        entries, marks, sources, sample = load_history(histories)
    if not entries:
        raise click.ClickException(
            f"{', '.join(sources)} holds no commands, so there is nothing to learn: run some "
            "commands in your shell first, or pass a history file with --history FILE"
        )
    paths.make_private_folders(path.parent, record=model is None)
    read = [Path(str(mark["path"])) for mark in marks]
    from aprender_shell.model.training.entries import Entries

    # As columns, each distinct command once (a history's lines as objects took about half of
    # train's memory), handed to training to clean in place.
    held = Entries(entries)
    del entries
    held.consumable = True
    with progress_bar("Training") as progress:
        report = retrain(
            path,
            read,
            lambda target: train_model(
                held,
                target,
                ngram=ngram,
                memory_limit=memory_limit,
                history_marks=marks,
                progress=progress,
                source="sample" if sample else "history",
            ),
            trained_marks=marks,
            trained=held,
        )
    _print_training(report, sources)
    from aprender_shell.cli.sync import sync_after

    sync_after(path, retrained=True)


def warn_filter_problems() -> None:
    """Name each bad ``history_filter`` line (left out, the others apply) on stderr; an
    unreadable file is the command's error."""
    from aprender_shell.history.privacy import default_gate

    for problem in default_gate().check():
        click.echo(f"warning: {printable(problem)}", err=True)


def _print_training(report: Any, sources: Sequence[str]) -> None:
    click.echo(f"📚 History:         {', '.join(sources)}")
    dropped = f" ({report.secrets_dropped} with secrets dropped)" if report.secrets_dropped else ""
    click.echo(f"   Commands loaded: {report.commands}{dropped}")
    click.echo(f"   Unique commands: {report.unique_commands}")
    click.echo(f"   N-gram size:     {report.ngram}")
    segment = human_bytes(report.memory_limit.segment_bytes)
    click.echo(
        f"   Segments:        {report.segments} across {report.families} command families "
        f"(each at most {segment}, for a {report.memory_limit} memory limit)"
    )
    click.echo(
        f"🧠 Model:           {display_path(report.model_path)} ({human_bytes(report.model_bytes)})"
    )


@cli.command(short_help="Learn what your history gained since training.")
@history_option("History file to read new commands from (default: those used at training).")
@model_option("The model to update.")
@memory_option(MEMORY_HELP + " Segments are sized to fit it.")
@reports_errors
def update(
    histories: tuple[Path, ...], model: Path | None, memory_limit: MemoryLimit | None
) -> None:
    """Learn what was added to the history since the last training."""
    from aprender_shell.model.training.update import update_model

    path = model_path(model)
    check_config_folder()
    warn_filter_problems()
    with progress_bar("Updating") as progress:
        result = update_model(
            path, list(histories), memory_limit=memory_limit, progress=progress
        )
    for line in result.notes:
        click.echo(printable(line))
    from aprender_shell.cli.sync import sync_after

    if not result.changed:
        click.echo("No new commands since the last training; the model is unchanged.")
        sync_after(path)
        return
    size = human_bytes(result.model_bytes)
    if result.learned:
        plural = "" if result.learned == 1 else "s"
        click.echo(f"Learned {result.learned} new command{plural} from your history; the model "
                   f"now has {result.total_commands} commands ({size}).")
    else:
        click.echo(f"No new commands to learn; the model has {result.total_commands} commands "
                   f"({size}).")
    if result.already_recorded:
        count = result.already_recorded
        were = "was" if count == 1 else "were"
        click.echo(f"{count} command{'' if count == 1 else 's'} your history gained {were} "
                   "already learned as your shells recorded them (counted once).")
    if result.left_out:
        count = result.left_out
        were = "was" if count == 1 else "were"
        click.echo(f"{count} line{'' if count == 1 else 's'} {were} left out (a secret, a "
                   "leading space, a history_filter match or a blank line).")
    if result.compacted is not None:
        click.echo("Retrained the model on everything learned since training (compacted).")
    sync_after(path)


@cli.command(short_help="Remove commands from the model for good.")
@click.argument("pattern")
@click.option("--contains", is_flag=True, help="Forget every command holding PATTERN.")
@click.option(
    "--regex", is_flag=True, help="PATTERN is a regular expression, found anywhere in the command."
)
@click.option("--dry-run", is_flag=True, help="List what would be forgotten; change nothing.")
@click.option(
    "--history-file", "history_file", is_flag=True,
    help="Take them out of your shell history files too (zsh, bash, fish), each backed up first.",
)
@model_option("The model to forget commands from.")
@reports_errors
def forget(
    pattern: str, contains: bool, regex: bool, dry_run: bool, history_file: bool,
    model: Path | None,
) -> None:
    """Forget commands: remove them from the model, its stored history and its journal.

    PATTERN is a whole command (exact text) unless --contains or --regex says otherwise. A
    running server forgets them too. Your shell's history files keep them unless
    --history-file takes them out there too (the lines that hold them, as 'train' reads
    them; a private backup of each file first, in the data folder). A line in the
    history_filter file keeps 'train' from learning them again.
    """
    if contains and regex:
        # Which one was meant decides what is removed for good: ask rather than guess.
        raise click.UsageError("--contains and --regex exclude each other: give one of them")
    mode = "contains" if contains else "regex" if regex else None
    from aprender_shell.paths import history_filter_path
    from aprender_shell.service.control import forget_everywhere

    forgotten = forget_everywhere(
        model_path(model), pattern, mode or "exact", dry_run, history_files=history_file
    )
    removed = forgotten.removed
    from aprender_shell.sync.engine import publish_forget

    # Published even when nothing here matches: another device may hold them.
    published = not dry_run and publish_forget(pattern, mode or "exact")
    server_note = ""
    if forgotten.server_error is not None:
        server_note = (
            f"The running server (pid {forgotten.server_pid}) could not be told "
            f"({forgotten.server_error}): run 'aprender-shell server stop' so that it drops "
            "them from memory."
        )
    elif forgotten.server_pid is not None:
        server_note = f"The running server (pid {forgotten.server_pid}) forgot them too."
    histories = forgotten.rewritten
    if not removed and not any(done.removed for done in histories):
        hint = "" if mode else " (whole commands only: try --contains)"
        click.echo(f"No command matches{hint}; nothing was changed"
                   + (" here; your other devices forget them at their next sync."
                      if published else "."))
        return
    distinct = len(forgotten.commands)
    plural = "" if removed == 1 else "s"
    if dry_run:
        if removed:
            click.echo(f"Would forget {removed} command{plural} ({distinct} distinct):")
            for text, count in forgotten.commands.most_common():
                click.echo(f"   {count:>7}  {escape_field(text)}")
        if history_file:
            _report_history_files(histories, dry_run)
        return
    if removed:
        click.echo(f"Forgot {removed} command{plural} ({distinct} distinct).")
    if published:
        click.echo("Your other devices forget them too, at their next sync.")
    if server_note:
        click.echo(server_note)
    if history_file:
        _report_history_files(histories, dry_run)
        return
    holding = [f"{display_path(file)} ({count})" for file, count in forgotten.in_histories]
    keep_out = (f"add a line to {display_path(history_filter_path())} to keep 'train' from "
                "learning them again")
    if holding:
        click.echo(f"Your shell history still holds them, in {', '.join(holding)}: "
                   "'--history-file' takes them out there too (your shell may suggest them "
                   f"from it), and {keep_out}.")
    else:
        click.echo(f"No shell history file of yours holds them; {keep_out}.")


def _report_history_files(histories: Sequence[Any], dry_run: bool) -> None:
    if not histories:
        click.echo("No shell history file of yours was found; nothing to take out there.")
    for done in histories:
        shown = display_path(done.path)
        plural = "" if done.removed == 1 else "s"
        if done.error:
            click.echo(f"Could not take them out of {shown}: {printable(done.error)}")
        elif not done.removed:
            click.echo(f"{shown} does not hold them.")
        elif dry_run:
            click.echo(f"Would take {done.removed} command{plural} out of {shown}.")
        else:
            click.echo(f"Took {done.removed} command{plural} out of {shown} (as it was before: "
                       f"{display_path(done.backup)}).")
    if not dry_run and any(done.removed for done in histories):
        click.echo("Shells open now still hold them in memory and may write them back when "
                   "they exit: close them.")


@cli.command(short_help="Show the model and its paging figures.")
@model_option("The model to describe.")
@memory_option()
@reports_errors
def stats(model: Path | None, memory_limit: MemoryLimit | None) -> None:
    """Show the model and its paging figures.

    The paging figures come from the running server (your shells' real queries) when it
    serves this model; otherwise from replaying your 200 most recent commands as typed
    queries in this process, just now.
    """
    from aprender_shell.model.learned.newest import FOLD_RECORDS
    from aprender_shell.model.query.activity import replayed_activity
    from aprender_shell.service.control import served_stats

    path = model_path(model)
    figures = served_stats(path)
    if figures is not None:
        source = "the running server (your shells' queries since it started)"
    else:
        figures, source = replayed_activity(path, memory_limit)
    from aprender_shell.model.learned.feedback import Feedback
    from aprender_shell.model.query.gains import gains_lines

    unicode = (sys.stdout.encoding or "").lower().replace("-", "") == "utf8"
    for line in gains_lines(Feedback.beside(path), figures.trained_on == "sample", unicode):
        click.echo(line)
    click.echo("")
    click.echo("📊 Paged Model Statistics:")
    if figures.trained_on == "sample":
        click.echo(
            "   Trained on:      the packaged sample history, not yours; your own commands "
            "replace it as you run them ('aprender-shell train' once you have a history)"
        )
    click.echo(f"   N-gram size:     {figures.ngram}")
    click.echo(f"   Total commands:  {figures.total_commands}")
    click.echo(f"   Journal read:    the newest {figures.replayed_records} records (at most "
               f"{FOLD_RECORDS}: past them the server folds the journal into the model)")
    click.echo(f"   Vocabulary size: {figures.vocabulary}")
    click.echo(f"   Total segments:  {figures.segments}")
    click.echo(f"   Loaded segments: {figures.loaded_segments}")
    click.echo(f"   Memory limit:    {megabytes(figures.memory_limit)} MB")
    click.echo(f"   Loaded bytes:    {human_bytes(figures.loaded_bytes)}")
    click.echo("")
    click.echo("📈 Paging Statistics:")
    click.echo(f"   Page hits:       {figures.hits}")
    click.echo(f"   Page misses:     {figures.misses}")
    click.echo(f"   Evictions:       {figures.evictions}")
    click.echo(f"   Hit rate:        {figures.hit_rate * 100:.1f}%")
    click.echo(f"   Source:          {source}")
    if figures.weights:
        from aprender_shell.cli.weights import weights_in_words

        click.echo("")
        sample = figures.trained_on == "sample"
        for line in weights_in_words(figures.weights, figures.tuned, sample):
            click.echo(line)
    if figures.top_commands:
        click.echo("")
        click.echo("🔝 Most used commands:")
        for text, count in figures.top_commands:
            click.echo(f"   {count:>7}  {escape_field(text)}")
    from aprender_shell.cli.sync import print_devices

    print_devices()



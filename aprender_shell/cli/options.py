"""What the commands share: options, the memory limit's parsing, figures as text, history loading.

The memory limit is one value with one parser: ``--memory-limit`` is given in MB (MiB,
fractions allowed, or with a unit) and becomes a ``model.memory.MemoryLimit`` as click parses it
(``MemoryLimitType``, over ``MemoryLimit.parse``, which the click-free fast path uses too), so
a size out of range is refused there, exit 2; every layer below takes that value.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, TypeVar

import click

if TYPE_CHECKING:
    from aprender_shell.model.memory import MemoryLimit

F = TypeVar("F", bound=Callable[..., Any])

MEMORY_HELP = (
    "Memory the model may hold while answering, in MB (MiB; fractions allowed) or with a unit "
    "(512K, 1G)."
)


# ParamType is generic in click 8.5's annotations only; older versions (all that Python 3.9
# gets) are not, so the ignore must also tolerate being unused.
class MemoryLimitType(click.ParamType):  # type: ignore[type-arg,unused-ignore]
    """``--memory-limit``: MB or a size with a unit, parsed once into a ``MemoryLimit``."""

    name = "MB"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> MemoryLimit:
        from aprender_shell.errors import UsageError
        from aprender_shell.model.memory import MemoryLimit

        if isinstance(value, MemoryLimit):
            return value  # already parsed (from Python)
        try:
            return MemoryLimit.parse(str(value))
        except UsageError as error:
            self.fail(str(error), param, ctx)


MEMORY_LIMIT = MemoryLimitType()


def history_option(help: str) -> Callable[[F], F]:
    return click.option(
        "--history", "histories", multiple=True, type=click.Path(path_type=Path), help=help
    )


def default_model_shown() -> str:
    """The default model's path as ``--help`` shows it (under ``~/`` when it is)."""
    from aprender_shell.paths import default_model_path

    return display_path(default_model_path())


def model_option(help: str) -> Callable[[F], F]:
    return click.option(
        "--model", type=click.Path(dir_okay=False, path_type=Path),
        help=f"{help}  [default: {default_model_shown()}]",
    )


def memory_option(help: str = MEMORY_HELP, trains: bool = False) -> Callable[[F], F]:
    """``--memory-limit`` as a ``MemoryLimit`` (None when not given). ``--help`` shows the
    default ``MemoryLimit.choose`` applies: the tool's for a command that ``trains`` a new
    model, else the model's own."""
    default = "the model's own"
    if trains:
        from aprender_shell.model.memory import MemoryLimit

        default = str(MemoryLimit.default())
    return click.option("--memory-limit", type=MEMORY_LIMIT, help=f"{help}  [default: {default}]")


def ngram_option(function: F) -> F:
    from aprender_shell.model.store.layout import (
        DEFAULT_NGRAM_ORDER,
        MAX_NGRAM_ORDER,
        MIN_NGRAM_ORDER,
    )

    return click.option(
        "--ngram", default=DEFAULT_NGRAM_ORDER, show_default=True,
        type=click.IntRange(MIN_NGRAM_ORDER, MAX_NGRAM_ORDER),
        help=f"N-gram size, {MIN_NGRAM_ORDER} to {MAX_NGRAM_ORDER}.",
    )(function)


def model_path(model: Path | None) -> Path:
    """``--model``, else the default model once its folder is found to be the user's own
    (``UnsafeFolderError`` before anything in it is read, when another account controls it)."""
    from aprender_shell.paths import check_private_dir, default_model_path

    if model is not None:
        return model
    path = default_model_path()
    check_private_dir(path.parent)
    return path


def check_config_folder() -> None:
    """``UnsafeFolderError`` when another account controls the config folder, whose
    ``history_filter`` judges every command learned: checked before anything is learned."""
    from aprender_shell.paths import check_private_dir, config_dir

    check_private_dir(config_dir())


def megabytes(size: int) -> str:
    """MiB with one decimal, or as many as a limit below 1 MB needs (0.25, not 0.2)."""
    value = size / 2**20
    return f"{value:.1f}" if value >= 1 else f"{value:.3g}"


def display_path(path: Path) -> str:
    """``path`` for a person to read: under ``~/`` when it is, control characters escaped."""
    from aprender_shell.terminal import printable

    home = Path.home()
    try:
        return printable("~/" + str(path.relative_to(home)))
    except ValueError:
        return printable(str(path))


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[str, int, int], None]]:
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


class LoadedHistory(NamedTuple):
    """What ``load_history`` read: entries oldest first, file marks, and where they came from."""

    entries: list[Any]
    marks: list[dict[str, Any]]
    sources: list[str]  # as shown to the user
    sample: bool  # True when the user has no history and the packaged sample was read


def load_history(paths: Sequence[Path]) -> LoadedHistory:
    """Entries from the given or discovered history files, their marks, and what was read,
    saying so when the packaged sample stands in for a history the user does not have."""
    from aprender_shell.history.files import read_histories

    check_config_folder()
    read = read_histories(paths)
    shown = [display_path(path) for path in read.files]
    if read.sample:
        click.echo(f"No shell history found; training on the packaged sample history ({shown[0]}).")
        shown = [f"{shown[0]} (sample)"]
    if read.skipped:
        from aprender_shell.history.formats import MAX_LINE_BYTES

        plural = "line" if read.skipped == 1 else "lines"
        click.echo(f"Skipped {read.skipped} history {plural} over {MAX_LINE_BYTES // 1024} KB "
                   "(longer than any command the model learns).")
    return LoadedHistory(read.entries, read.marks, shown, read.sample)


def load_database(tool: str, paths: Sequence[Path]) -> LoadedHistory:
    """Entries from ``tool``'s history database (atuin's, mcfly's): the one given, else the
    one where the tool keeps it."""
    from aprender_shell.history.databases import default_database, read_database
    from aprender_shell.history.formats import MAX_LINE_BYTES

    check_config_folder()
    if len(paths) > 1:
        raise click.UsageError(f"--from {tool} reads one database: give --history PATH once")
    path = paths[0] if paths else default_database(tool)
    read = read_database(tool, path)
    if read.skipped:
        plural = "row" if read.skipped == 1 else "rows"
        click.echo(f"Skipped {read.skipped} {tool} {plural} whose command is empty, not text, "
                   f"or over {MAX_LINE_BYTES // 1024} KB.")
    return LoadedHistory(read.entries, [], [f"{display_path(path)} ({tool})"], False)

"""The ``aprender-shell`` command line: a thin click layer over the library.

Every command turns an ``AprenderError`` into one line on stderr and a non-zero exit; the
library below never imports click. Commands live in modules by topic and register here.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from aprender_shell import __version__
from aprender_shell.errors import AprenderError, error_message

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(func: F) -> F:
    """Turn an ``AprenderError`` (or a plain OS error) into one clear line and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BrokenPipeError:
            raise  # the reader went away (`| head`): click exits quietly
        except (AprenderError, OSError) as error:
            # Messages quote paths and input: nothing in them may drive the terminal.
            raise click.ClickException(error_message(error, kwargs.get("model"))) from error

    return wrapper  # type: ignore[return-value]


class OneLineUsageError(click.UsageError):
    """A usage error shown as one line, like every other error: what is wrong, where to look."""

    def show(self, file: Any = None) -> None:
        # click lists choices one per line; one line is the promise.
        message = " ".join(self.format_message().split()).replace(": ,", ":").rstrip(".")
        hint = f" (see '{self.ctx.command_path} --help')" if self.ctx is not None else ""
        click.echo(f"Error: {message}{hint}", file=file, err=file is None)


def _one_line(error: click.UsageError) -> click.UsageError:
    # "No arguments: show the help" is a usage error in recent click; it must stay the help.
    no_args_is_help = getattr(click.exceptions, "NoArgsIsHelpError", ())
    if isinstance(error, (OneLineUsageError, no_args_is_help)):
        return error
    return OneLineUsageError(error.format_message(), error.ctx)


class CommandLine(click.Group):
    """The command group: click's usage errors (a bad option, a missing argument) come out as
    one line with exit status 2, instead of click's four-line block."""

    group_class = type  # subgroups (``server``) are CommandLines too

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as error:
            raise _one_line(error) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            raise _one_line(error) from None


@click.group(
    cls=CommandLine,
    context_settings={"help_option_names": ["-h", "--help"], "show_default": True},
    invoke_without_command=True,
)
@click.version_option(__version__, prog_name="aprender-shell")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Shell autosuggestions learned from your own history.

    Train a model on your history, try it, then set up your shell (zsh, bash or fish):

    \b
        aprender-shell train
        aprender-shell suggest "git "
        aprender-shell install       # shows the change to your rc file, then makes it
    """
    if ctx.invoked_subcommand is None:
        # Bare 'aprender-shell' is a request for the help, not a mistake: exit 0.
        click.echo(ctx.get_help())


# Every module that adds commands, in the order their commands were written.
COMMAND_MODULES = ("model", "suggest", "search", "evaluate", "server", "integration", "doctor",
                   "sync")


def _register() -> None:
    # Imported here so each topic module can import ``cli`` and ``reports_errors`` from us.
    # Named one by one: a command module renamed or missing is an ImportError at start, never
    # a command line that silently lacks its commands.
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(f"aprender_shell.cli.{name}")


_register()


def main(argv: list[str] | None = None) -> None:
    """Run the click command line (``argv`` defaults to ``sys.argv[1:]``)."""
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="aprender-shell")

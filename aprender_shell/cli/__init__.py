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
from aprender_shell.errors import AprenderError
from aprender_shell.terminal import printable

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(func: F) -> F:
    """Turn an ``AprenderError`` (or a plain OS error) into one clear line and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AprenderError as error:
            # Messages quote paths and input: nothing in them may drive the terminal.
            raise click.ClickException(printable(str(error))) from error
        except BrokenPipeError:
            raise  # the reader went away (`| head`): click exits quietly
        except OSError as error:
            where = f" ({error.filename})" if getattr(error, "filename", None) else ""
            raise click.ClickException(printable(f"{error.strerror or error}{where}")) from error

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aprender-shell")
def cli() -> None:
    """Shell autosuggestions learned from your own history.

    Train a model on your history, then get suggestions as you type in zsh or bash:

    \b
        aprender-shell train
        aprender-shell suggest "git "
        eval "$(aprender-shell init zsh)"    # in ~/.zshrc
    """


def _register() -> None:
    # Imported here so each topic module can import ``cli`` and ``reports_errors`` from us.
    import importlib

    for name in ("model", "suggest", "evaluate", "server", "integration"):
        try:
            importlib.import_module(f"aprender_shell.cli.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"aprender_shell.cli.{name}":
                raise


_register()


def main(argv: list[str] | None = None) -> None:
    """Run the click command line (``argv`` defaults to ``sys.argv[1:]``)."""
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="aprender-shell")

"""The error hierarchy: every failure a user can cause is an ``AprenderError``.

The CLI catches ``AprenderError`` at its edge and prints ``str(error)`` as one line, so each
message says what went wrong and, where there is one, what to do about it.
"""

from __future__ import annotations


class AprenderError(Exception):
    """Base class of every error aprender-shell reports to a user."""


class BundleError(AprenderError):
    """A bundle file is unreadable, corrupt, truncated or of an unsupported version."""


class ChecksumError(BundleError):
    """An entry's bytes do not match the checksum recorded in the manifest."""

    def __init__(self, name: str, message: str | None = None) -> None:
        self.name = name
        default = f"checksum mismatch in bundle entry {name!r}: the file is corrupt"
        super().__init__(message or default)


class EntryTooLargeError(BundleError):
    """An entry can never fit in the paging memory limit."""


class ModelNotFoundError(AprenderError):
    """No trained model exists at the expected path."""


class HistoryError(AprenderError):
    """A history file cannot be read or parsed."""


class UsageError(AprenderError):
    """A request or argument is malformed."""


RETRAIN = "retrain with 'aprender-shell train'"


def for_the_model_given(message: str, model: object) -> str:
    """``message`` with its advice to retrain naming the model ``--model`` gave, if one was:
    plain 'train' writes the default model, not the broken one."""
    if model is None or RETRAIN not in message:
        return message
    import shlex

    fix = f"retrain it with 'aprender-shell train --model {shlex.quote(str(model))}', or remove it"
    return message.replace(RETRAIN, fix)


def error_message(error: BaseException, model: object = None) -> str:
    """The one line a user is shown for ``error`` (after ``Error: ``), by the command line and
    its click-free fast path alike: an ``AprenderError``'s message (its advice to retrain naming
    the ``--model`` given, if one was), an OS error's reason and file, nothing in it able to
    drive the terminal."""
    from aprender_shell.terminal import printable

    if isinstance(error, OSError) and not isinstance(error, AprenderError):
        where = f" ({error.filename})" if getattr(error, "filename", None) else ""
        return printable(f"{error.strerror or error}{where}")
    return printable(for_the_model_given(str(error), model))

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


def error_message(error: BaseException) -> str:
    """The one line a user is shown for ``error`` (after ``Error: ``), by the command line and
    its click-free fast path alike: an ``AprenderError``'s message, an OS error's reason and
    file, nothing in it able to drive the terminal."""
    from aprender_shell.terminal import printable

    if isinstance(error, OSError) and not isinstance(error, AprenderError):
        where = f" ({error.filename})" if getattr(error, "filename", None) else ""
        return printable(f"{error.strerror or error}{where}")
    return printable(str(error))

"""What may be learned: the one gate every command passes at train, update and record.

A command is kept out when it

- starts with a space (zsh ``HIST_IGNORE_SPACE``, bash ``HISTCONTROL=ignorespace`` and atuin
  all read that as "keep this out"), unless ``APRENDER_SHELL_RECORD_SPACE=1`` (the setting
  the zsh integration reads too);
- holds a secret (``secrets.contains_secret``);
- matches a regular expression of the user's ``history_filter`` file (one a line, ``#``
  comments, like atuin's ``history_filter``), which is reread whenever it changes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from aprender_shell import limits
from aprender_shell.errors import UsageError
from aprender_shell.fileio import FileVersion, version

RECORD_SPACE_ENV = "APRENDER_SHELL_RECORD_SPACE"
_ON = {"1", "yes", "on", "true"}
# A filter file is a handful of lines; a huge one is a mistake, not a setting.
MAX_FILTER_BYTES = 1 << 20

# The model never learns a longer command (limits.MAX_COMMAND_CHARS); not checking one bounds
# what a hostile history line can cost the rules.
MAX_COMMAND_CHARS = limits.MAX_COMMAND_CHARS

OVERSIZED = "oversized"
LEADING_SPACE = "leading-space"
SECRET = "secret"
USER_FILTER = "history_filter"


def ignore_space() -> bool:
    """Whether a leading space keeps a command out (the default; ``..._RECORD_SPACE=1`` not)."""
    return os.environ.get(RECORD_SPACE_ENV, "").strip().lower() not in _ON


def read_filter(path: Path) -> re.Pattern[str] | None:
    """The file's expressions as one pattern (None when it has none or does not exist).

    A bad expression raises ``UsageError`` naming the file and line.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILTER_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
    if len(data) > MAX_FILTER_BYTES:
        raise UsageError(
            f"{path} is over {MAX_FILTER_BYTES // 1024} KB: keep one expression a line"
        )
    text = data.decode("utf-8", errors="replace")
    parts = []
    for number, line in enumerate(text.splitlines(), 1):
        expression = line.strip()
        if not expression or expression.startswith("#"):
            continue
        try:
            re.compile(expression)
        except (re.error, RecursionError, OverflowError) as error:
            raise UsageError(
                f"{path}, line {number}: {expression[:60]!r} is not a regular expression "
                f"({error}): fix or remove that line"
            ) from None
        parts.append(f"(?:{expression})")
    return re.compile("|".join(parts)) if parts else None


class LearningGate:
    """Decides, for each command, whether it may be learned or must be kept out.

    The ``history_filter`` file is reread when its size, time or inode change, so a running
    server follows the user's edits; a broken file keeps every command out (fail closed) and
    each check raises the error that says which line is wrong.
    """

    def __init__(self, filter_path: Path | None = None) -> None:
        if filter_path is None:
            from aprender_shell.paths import history_filter_path

            filter_path = history_filter_path()
        self.filter_path = Path(filter_path)
        self._identity: FileVersion | None = None
        self._pattern: re.Pattern[str] | None = None
        self._error: UsageError | None = None
        self._loaded = False

    def _user_pattern(self) -> re.Pattern[str] | None:
        identity = version(self.filter_path)
        if not self._loaded or identity != self._identity:
            self._identity, self._loaded = identity, True
            try:
                self._pattern, self._error = read_filter(self.filter_path), None
            except UsageError as error:
                self._pattern, self._error = None, error
        if self._error is not None:
            raise self._error
        return self._pattern

    def check(self) -> None:
        """Raise ``UsageError`` now if the ``history_filter`` file is broken."""
        self._user_pattern()

    def reason(self, command: str, reread: bool = True) -> str | None:
        """Why ``command`` is kept out (``LEADING_SPACE``, ``SECRET``, ``USER_FILTER``,
        ``OVERSIZED``), or None. ``reread=False`` uses the filter as the last ``check`` or
        ``reason`` read it (a batch of commands judged at one moment needs one look)."""
        if len(command) > MAX_COMMAND_CHARS:
            return OVERSIZED
        if command.startswith(" ") and ignore_space():
            return LEADING_SPACE
        from aprender_shell.history.secrets import contains_secret

        if contains_secret(command):
            return SECRET
        pattern = self._user_pattern() if reread or not self._loaded else self._pattern
        if pattern is not None and pattern.search(command):
            return USER_FILTER
        return None

    def allows(self, command: str) -> bool:
        """Whether ``command`` may be learned."""
        return self.reason(command) is None


_DEFAULT: LearningGate | None = None


def default_gate() -> LearningGate:
    """The gate for the user's own ``history_filter`` file (rebuilt if the path moved)."""
    global _DEFAULT
    from aprender_shell.paths import history_filter_path

    path = history_filter_path()
    if _DEFAULT is None or _DEFAULT.filter_path != path:
        _DEFAULT = LearningGate(path)
    return _DEFAULT

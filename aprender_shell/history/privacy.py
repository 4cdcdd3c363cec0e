"""What may be learned: the one gate every command passes at train, update and record.

A command is kept out when it

- starts with a space (zsh ``HIST_IGNORE_SPACE``, bash ``HISTCONTROL=ignorespace`` and atuin
  all read that as "keep this out"), unless ``APRENDER_SHELL_RECORD_SPACE=1`` (the setting
  the zsh integration reads too);
- holds a secret (``secrets.contains_secret``);
- matches a regular expression of the user's ``history_filter`` file (one a line, ``#``
  comments, like atuin's ``history_filter``), which is reread whenever it changes. The
  expressions run in RE2 (``patterns``), in time linear in the command; a line RE2 cannot
  compile is named and left out, and the others still apply.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from aprender_shell import limits
from aprender_shell.bundle.values import Value
from aprender_shell.errors import UsageError
from aprender_shell.fileio import FileVersion, version
from aprender_shell.history.patterns import PatternError, UserPattern, compile_any, compile_pattern

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


class UserFilter(Value):  # not a dataclass (inspect) nor a NamedTuple (typing): server start
    """A ``history_filter`` file as read: its good lines as one pattern, and one line saying
    what is wrong with each bad one (those are left out; the others still apply)."""

    __slots__ = ("pattern", "problems")

    def __init__(self, pattern: UserPattern | None = None, problems: tuple[str, ...] = ()) -> None:
        self.pattern = pattern
        self.problems = problems


def read_filter(path: Path) -> UserFilter:
    """The file's expressions, compiled for linear-time matching (no pattern when it has none
    or does not exist). A line the engine cannot compile is left out and named in
    ``problems`` with the file, the line number and why.

    An unreadable or oversized file raises ``UsageError``.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILTER_BYTES + 1)
    except FileNotFoundError:
        return UserFilter()
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
    if len(data) > MAX_FILTER_BYTES:
        raise UsageError(
            f"{path} is over {MAX_FILTER_BYTES // 1024} KB: keep one expression a line"
        )
    text = data.decode("utf-8", errors="replace")
    good: list[str] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        expression = line.strip()
        if not expression or expression.startswith("#"):
            continue
        try:
            compile_pattern(expression)
        except PatternError as error:
            problems.append(
                f"{path}, line {number}: {expression[:60]!r} is not a regular expression RE2 "
                f"can match ({error}); that line is ignored, the others apply: fix or remove it"
            )
            continue
        good.append(expression)
    try:
        pattern = compile_any(good)
    except PatternError as error:  # each fits, all together do not (RE2's program size)
        raise UsageError(
            f"{path}: its {len(good)} expressions together are too large to match ({error}): "
            "keep fewer lines"
        ) from None
    return UserFilter(pattern, tuple(problems))


class LearningGate:
    """Decides, for each command, whether it may be learned or must be kept out.

    The ``history_filter`` file is reread when its size, time or inode change, so a running
    server follows the user's edits. A bad line is left out (the others still apply) and
    listed by ``problems``; a file that cannot be read at all keeps every command out (fail
    closed) and each check raises the error that says why. ``report``, when set, is called with
    each problem line whenever the file is (re)read.
    """

    def __init__(self, filter_path: Path | None = None) -> None:
        if filter_path is None:
            from aprender_shell.paths import history_filter_path

            filter_path = history_filter_path()
        self.filter_path = Path(filter_path)
        self.report: Callable[[str], None] | None = None
        self._identity: FileVersion | None = None
        self._filter = UserFilter()
        self._error: UsageError | None = None
        self._loaded = False

    def _read(self) -> UserFilter:
        identity = version(self.filter_path)
        if not self._loaded or identity != self._identity:
            self._identity, self._loaded = identity, True
            try:
                self._filter, self._error = read_filter(self.filter_path), None
            except UsageError as error:
                self._filter, self._error = UserFilter(), error
            if self.report is not None:
                for problem in self.problems():
                    self.report(problem)
        if self._error is not None:
            raise self._error
        return self._filter

    def problems(self) -> tuple[str, ...]:
        """What is wrong with the filter file as last read: one line per bad line, or the one
        error that keeps everything out."""
        if self._error is not None:
            return (f"{self._error}; nothing is learned until it is fixed",)
        return self._filter.problems

    def current_problems(self) -> tuple[str, ...]:
        """``problems`` after rereading the file if it changed."""
        with contextlib.suppress(UsageError):  # the error itself is the one problem named
            self._read()
        return self.problems()

    def check(self) -> tuple[str, ...]:
        """Read the ``history_filter`` file now; raise ``UsageError`` if it cannot be read at
        all, else return one line per bad line (left out, the others apply)."""
        return self._read().problems

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
        pattern = (self._read() if reread or not self._loaded else self._filter).pattern
        if pattern is not None and pattern.found_in(command):
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


def report_filter_problems(report: Callable[[str], None]) -> None:
    """Read the user's ``history_filter`` now and pass each problem line to ``report``, now and
    whenever the file is read again after an edit (a server's log)."""
    gate = default_gate()
    gate.report = report
    gate.current_problems()

"""History files: find the user's, read one safely, and the packaged sample; and which of
them a command learns from (``read_histories``)."""

from __future__ import annotations

import importlib.resources
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from aprender_shell.errors import AprenderError, HistoryError
from aprender_shell.fileio import FileTooLargeError, NotRegularFileError, read_regular
from aprender_shell.history.formats import (
    _BINARY_PROBE,
    _CONTROL_BYTES,
    _META,
    HistoryEntry,
    _unmetafy,
    format_for_name,
    parse_history,
)

# Far beyond any shell's history (a million commands take about 40 MB), and a bound on the
# memory one file can take: training holds the file and its parsed commands at once.
MAX_HISTORY_BYTES = 256 * 1024 * 1024


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or HistoryError saying in one line what is wrong and what to do.

    Only a regular file of at most ``MAX_HISTORY_BYTES`` is read: a FIFO would block forever
    and ``/dev/zero`` would never end.
    """
    try:
        data = read_regular(path, MAX_HISTORY_BYTES)
    except NotRegularFileError as error:
        hint = ", e.g. ~/.zsh_history" if error.kind == "a directory" else ""
        raise HistoryError(
            f"history file {path} is {error.kind}, not a regular file: "
            f"pass the history file itself{hint}"
        ) from None
    except FileTooLargeError as error:
        raise HistoryError(
            f"history file {path} holds {_size(error.size)}, more than the "
            f"{_size(error.limit)} aprender-shell reads: train on its most recent part, e.g. "
            f"'tail -c 100M {path} > recent_history' then --history recent_history"
        ) from None
    except FileNotFoundError:
        raise HistoryError(
            f"history file {path} does not exist: check the path, or pass --history FILE"
        ) from None
    except PermissionError:
        raise HistoryError(
            f"cannot read history file {path}: permission denied (check its owner and mode)"
        ) from None
    except OSError as error:
        raise HistoryError(
            f"cannot read history file {path}: {error.strerror or error}"
        ) from None
    if _looks_binary(data):
        raise HistoryError(
            f"{path} is not a shell history (it holds binary data): "
            "pass a zsh, bash or fish history file"
        )
    return data


def _size(count: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} bytes"


def _looks_binary(data: bytes) -> bool:
    probe = data[:_BINARY_PROBE]
    if not probe:
        return False
    if probe.count(0) * 100 > len(probe):
        return True
    controls = len(probe) - len(probe.translate(None, _CONTROL_BYTES))
    if _META in probe:
        probe = _unmetafy(probe)  # zsh's metafied UTF-8 is text, not binary
    text = probe.decode("utf-8", errors="replace")
    return (controls + text.count("\ufffd")) * 10 > len(text) * 3


def read_history(path: Path) -> list[HistoryEntry]:
    """The commands in the history file at ``path``; HistoryError if it cannot be used."""
    path = Path(path)
    data = read_bytes(path)
    return parse_history(data, format_for_name(path))


def find_history_files(
    explicit: Sequence[Path],
    environ: Mapping[str, str] = os.environ,
    home: Path | None = None,
) -> list[Path]:
    """History files to learn from.

    The ``explicit`` paths when given (as they are: ``read_history`` reports missing ones).
    Otherwise ``$HISTFILE`` when it names a readable file; otherwise every non-empty one of
    ``$ZDOTDIR/.zsh_history`` (or ``~/.zsh_history``), ``~/.histfile``, ``~/.bash_history`` and
    fish's ``$XDG_DATA_HOME/fish/fish_history`` (default ``~/.local/share``), for people who use
    several shells.
    """
    if explicit:
        return [Path(p) for p in explicit]
    home = Path.home() if home is None else home
    histfile = environ.get("HISTFILE", "")
    if histfile:
        path = _expand_home(histfile, home)
        if path.is_file() and os.access(path, os.R_OK):
            return [path]
    zdotdir = environ.get("ZDOTDIR", "")
    zsh_dir = _expand_home(zdotdir, home) if zdotdir else home
    data_home = environ.get("XDG_DATA_HOME", "")
    data_dir = Path(data_home) if os.path.isabs(data_home) else home / ".local" / "share"
    candidates = [
        zsh_dir / ".zsh_history",
        home / ".zsh_history",
        home / ".histfile",
        home / ".bash_history",
        data_dir / "fish" / "fish_history",
    ]
    found: list[Path] = []
    seen: set[Path] = set()
    for path in candidates:
        try:
            if not path.is_file() or path.stat().st_size == 0:
                continue
            key = path.resolve()
        except OSError:
            continue
        if key not in seen:
            seen.add(key)
            found.append(path)
    return found


def _expand_home(value: str, home: Path) -> Path:
    if value == "~" or value.startswith("~/"):
        return home / value[2:]
    return Path(value)


def sample_history_path() -> Path:
    """The packaged sample history (zsh format), used when the user has none."""
    data = importlib.resources.files("aprender_shell.history") / "data"
    return Path(str(data / "sample_history"))


class Histories(NamedTuple):
    """What ``read_histories`` read."""

    entries: list[HistoryEntry]  # oldest first
    marks: list[dict[str, Any]]  # each file's mark (what was read), none for the sample
    files: list[Path]  # the files read: the packaged sample's alone when ``sample``
    sample: bool  # the user has no history: the packaged sample was read instead
    skipped: int = 0  # lines over formats.MAX_LINE_BYTES, longer than any command learned


def read_histories(paths: Sequence[Path]) -> Histories:
    """The entries of ``paths``, or of the user's history files found where the shells keep
    them when none are given, read and marked, merged in time order; the packaged sample's
    when there are none."""
    from aprender_shell.history.marks import read_and_mark  # it reads through this module

    files = find_history_files(list(paths))
    if not files:
        sample = sample_history_path()
        return Histories(read_history(sample), [], [sample], True)
    entries: list[HistoryEntry] = []
    marks = []
    skipped = 0
    for path in files:
        found, mark = read_and_mark(path)
        entries.extend(found)
        marks.append(mark.to_dict())
        skipped += mark.skipped_lines
    if len(files) > 1 and all(entry.timestamp is not None for entry in entries):
        # Several shells' histories, merged in the order the commands were run.
        entries.sort(key=lambda entry: entry.timestamp or 0)
    return Histories(entries, marks, files, False, skipped)


def histories_holding(matches: Callable[[str], bool]) -> list[tuple[Path, int]]:
    """Each zsh, bash or fish history file of the user's that holds commands ``matches``
    accepts, with how many (unreadable files are left out: nothing to report about them)."""
    # $HISTFILE alone hides the others from find_history_files: look with and without it.
    files = find_history_files([]) + find_history_files([], {**os.environ, "HISTFILE": ""})
    found: list[tuple[Path, int]] = []
    seen: set[Path] = set()
    for file in files:
        try:
            key = file.resolve()
            if key in seen:
                continue
            seen.add(key)
            entries = read_history(file)
        except (AprenderError, OSError):
            continue
        count = sum(1 for entry in entries if matches(entry.command))
        if count:
            found.append((file, count))
    return found

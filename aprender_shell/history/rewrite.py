"""Take commands out of a shell's own history file, keeping everything else byte for byte.

Which lines hold a command is decided by the same parser ``train`` reads the file with: an
entry's bytes are the shortest run of whole lines, ending where the parser says the entry ends,
that parses back to exactly that entry (its command and its timestamp). So a zsh command keeps
its extended ``: time:0;`` prefix, its continuation lines and its metafied bytes together, a
bash command goes with the ``#timestamp`` line in front of it, and a fish entry with its
``when:`` and ``paths:`` lines; blank lines, comments and anything the parser skips stay.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from aprender_shell.errors import AprenderError, HistoryError
from aprender_shell.history.files import find_history_files, read_bytes
from aprender_shell.history.formats import _parse_records, format_for_name, sniff_format

Matcher = Callable[[str], bool]
BACKUP_FOLDER = "history-backups"
# A shell appending while we rewrite: read again, at most this many times, before giving up.
_ATTEMPTS = 3


@dataclass(frozen=True)
class Removal:
    """What ``remove_commands`` took out of one history file."""

    path: Path
    removed: int  # entries (commands) taken out
    backup: Path | None = None  # the copy of the file as it was, when anything was removed
    error: str = ""  # why the file could not be read or rewritten (nothing changed in it)


def matching_spans(data: bytes, fmt: str, matches: Matcher) -> list[tuple[int, int]]:
    """The byte spans ``[start, end)`` of the entries of ``data`` (a history in format ``fmt``)
    whose command ``matches`` accepts, in file order."""
    records = _parse_records(data, fmt)
    spans: list[tuple[int, int]] = []
    previous_end = 0
    for entry, end in zip(records.entries, records.ends):
        if matches(entry.command):
            spans.append((_entry_start(data, fmt, previous_end, end, entry), end))
        previous_end = end
    return spans


def _entry_start(data: bytes, fmt: str, floor: int, end: int, entry: object) -> int:
    """Where the entry ending at ``end`` begins: the latest line start after ``floor`` from
    which the parser reads back exactly ``entry`` (most entries are one line, or two)."""
    start = data.rfind(b"\n", floor, max(floor, end - 1)) + 1 if end > floor else floor
    start = max(start, floor)
    while True:
        if _parse_records(data[start:end], fmt).entries == [entry]:
            return start
        if start <= floor:
            return floor  # the parser's own span: from the previous entry's end
        start = data.rfind(b"\n", floor, start - 1) + 1
        start = max(start, floor)


def without_spans(data: bytes, spans: Iterable[tuple[int, int]]) -> bytes:
    """``data`` with the byte ranges ``spans`` (sorted, not overlapping) cut out."""
    kept: list[bytes] = []
    position = 0
    for start, end in spans:
        kept.append(data[position:start])
        position = end
    kept.append(data[position:])
    return b"".join(kept)


def count_matching(path: Path, matches: Matcher) -> int:
    """How many commands of the history file at ``path`` ``matches`` accepts."""
    data = read_bytes(path)
    return len(matching_spans(data, format_for_name(path) or sniff_format(data), matches))


def remove_commands(path: Path, matches: Matcher, backup_folder: Path) -> Removal:
    """Take every command ``matches`` accepts out of the history file at ``path``.

    A copy of the file as it was goes to ``backup_folder`` first (mode 0600); the file is then
    replaced atomically, keeping its mode, by one without those entries. A symbolic link is
    followed, so the file it points to is the one rewritten. Raises ``HistoryError`` when the
    file cannot be read or written, or keeps changing under us (a shell appending to it).
    """
    target = Path(os.path.realpath(path))
    for _ in range(_ATTEMPTS):
        before = _identity(target)
        data = read_bytes(target)
        fmt = format_for_name(Path(path)) or sniff_format(data)
        spans = matching_spans(data, fmt, matches)
        if not spans:
            return Removal(Path(path), 0)
        backup = _backup(target, data, backup_folder)
        if _replace(target, without_spans(data, spans), before):
            return Removal(Path(path), len(spans), backup)
        with contextlib.suppress(OSError):
            backup.unlink()  # the file changed before we replaced it: try again from its bytes
    raise HistoryError(
        f"{path} kept changing while it was being rewritten (a shell writing to it): "
        "try again, or close the other shells first"
    )


def _identity(path: Path) -> tuple[int, int, int, int]:
    try:
        st = os.stat(path)
    except OSError as error:
        raise HistoryError(f"cannot read history file {path}: {error.strerror or error}") from None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _backup(target: Path, data: bytes, folder: Path) -> Path:
    from aprender_shell.paths import ensure_private_dir

    ensure_private_dir(folder)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"{target.name.lstrip('.') or 'history'}.{stamp}"
    for number in range(1000):
        backup = folder / (name if number == 0 else f"{name}.{number}")
        try:
            fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return backup
    raise HistoryError(f"cannot name a backup of {target} in {folder}: remove old backups there")


def _replace(target: Path, data: bytes, before: tuple[int, int, int, int]) -> bool:
    """Write ``data`` over ``target`` atomically with its mode; False (nothing changed) when
    the file is no longer the one read."""
    mode = stat.S_IMODE(os.stat(target).st_mode)
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".forget", dir=target.parent)
    except OSError as error:
        raise HistoryError(
            f"cannot rewrite {target}: {error.strerror or error} (its folder must be writable)"
        ) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if _identity(target) != before:
            os.unlink(temp)
            return False
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    return True


def shell_history_files(environ: Mapping[str, str] = os.environ) -> list[Path]:
    """Every zsh, bash and fish history file of the user's (``$HISTFILE`` and the usual
    places), each once."""
    # $HISTFILE alone hides the others from find_history_files: look with and without it.
    files = find_history_files([], environ) + find_history_files([], {**environ, "HISTFILE": ""})
    found: list[Path] = []
    seen: set[Path] = set()
    for file in files:
        key = Path(os.path.realpath(file))
        if key not in seen:
            seen.add(key)
            found.append(file)
    return found


def forget_in_files(
    files: Iterable[Path], matches: Matcher, backup_folder: Path, dry_run: bool = False
) -> list[Removal]:
    """For each history file, the commands ``matches`` accepts: counted (``dry_run``), or taken
    out with ``remove_commands``. A file that cannot be read or rewritten keeps its bytes and
    says why in its ``Removal.error``; the others are still done."""
    done: list[Removal] = []
    for path in files:
        try:
            if dry_run:
                done.append(Removal(Path(path), count_matching(Path(path), matches)))
            else:
                done.append(remove_commands(Path(path), matches, backup_folder))
        except (AprenderError, OSError) as error:
            why = error.strerror if isinstance(error, OSError) and error.strerror else error
            done.append(Removal(Path(path), 0, error=str(why)))
    return done

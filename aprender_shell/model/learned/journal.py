"""The journal: every command learned since training, appended to a file beside the model.

The file (``model.apbundle.journal``, mode 0600) is a header line then one JSON line per
record::

    {"journal": 1, "generation": "<the model's generation>", "marks": [...]}
    {"c": "git status", "cwd": "/src", "exit": 0, "prev": "git add .", "host": "pc",
     "t": 1700000000}

Durability: a record is appended with one ``write`` on an ``O_APPEND`` descriptor before it is
acknowledged, so a killed process (even ``kill -9``) never loses an acknowledged record: the
bytes are in the kernel. ``sync`` calls ``fdatasync``; the server calls it at most once a
second and when idle (``SYNC_INTERVAL``), so a power loss may lose the last second. A write
that fails (full or read-only disk) is taken back (truncated) and raised as ``JournalError``,
so the record is answered with an error instead of being acknowledged.

Loading skips torn or foreign lines (a power loss can tear the last one; opening for append
cuts such a tail off first). Whoever rewrites the file (compaction, ``rewrite``, ``update``)
holds an exclusive ``flock`` on it and replaces it atomically; appenders take the same lock
and reopen when the file was replaced under them.

Version history (``JOURNAL_VERSION``): 0 = no header, every line carries the generation
(``"g"``) and the file was rewritten whole at each save; 1 = a header line, records appended.
Version 0 files are read and upgraded at the next rewrite; newer versions are refused.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from aprender_shell.errors import AprenderError
from aprender_shell.fileio import open_regular, open_regular_fd

JOURNAL_VERSION = 1
# fdatasync at most this often while records arrive (and once they stop).
SYNC_INTERVAL = 1.0
# A journal holds at most this many records; older ones are dropped when it is compacted
# (``update`` retrains long before, see update.py).
MAX_JOURNAL_RECORDS = 200_000
# Reading stops at a line this long: no record the protocol accepts is near it.
MAX_LINE_BYTES = 256 * 1024

Record = dict[str, Any]


class JournalError(AprenderError):
    """The journal cannot be read (newer version) or written (full disk, read-only folder)."""


class StaleJournalError(JournalError):
    """The journal belongs to a newer model than the one recording: reopen the model first."""


def journal_path(model_path: Path) -> Path:
    return model_path.with_name(model_path.name + ".journal")


class JournalState:
    """What a journal file holds for one model generation.

    A plain class rather than a dataclass: a cold ``suggest`` imports this module.
    """

    __slots__ = ("generation", "version", "marks", "records", "size", "identity")

    def __init__(
        self,
        generation: str | None = None,
        version: int = JOURNAL_VERSION,
        marks: list[dict[str, Any]] | None = None,
        records: list[Record] | None = None,
        size: int = 0,
        identity: tuple[int, int] | None = None,
    ) -> None:
        self.generation = generation
        self.version = version
        self.marks = marks
        self.records: list[Record] = records if records is not None else []
        # Bytes read (up to the last complete line), and the file identity they were read from.
        self.size = size
        self.identity = identity

    def __repr__(self) -> str:
        return (f"JournalState(generation={self.generation!r}, version={self.version}, "
                f"{len(self.records)} records, size={self.size})")


def _encode(line: dict[str, Any]) -> bytes:
    return (json.dumps(line, separators=(",", ":"), ensure_ascii=False) + "\n").encode(
        "utf-8", "surrogatepass"
    )


def _header(generation: str, marks: list[dict[str, Any]] | None) -> dict[str, Any]:
    header: dict[str, Any] = {"journal": JOURNAL_VERSION, "generation": generation}
    if marks is not None:
        header["marks"] = marks
    return header


def _is_record(line: object) -> bool:
    return isinstance(line, dict) and isinstance(line.get("c"), str)


def _identity(st: os.stat_result) -> tuple[int, int]:
    return (st.st_dev, st.st_ino)


class Journal:
    """The records of one model generation, in the file beside the model.

    ``is_stale`` tells whether the model this journal was opened for has been replaced since;
    a stale writer never rewrites a newer model's journal.
    """

    def __init__(
        self,
        model_path: Path,
        generation: str,
        is_stale: Callable[[], bool] = lambda: False,
    ) -> None:
        self.path = journal_path(Path(model_path))
        self.generation = generation
        self._is_stale = is_stale
        self._fd: int | None = None
        self._unsynced = False
        self._last_sync = time.monotonic()
        # The identity of the file this process last read, created or rewrote.
        self.identity: tuple[int, int] | None = None

    # Reading -----------------------------------------------------------------------------

    def records(self) -> Iterator[Record]:
        """This generation's records, oldest first, streamed; torn or foreign lines skipped.

        Raises ``JournalError`` for a journal written by a newer aprender-shell.
        """
        try:
            # Never blocks: a FIFO planted here would hang every query (NotRegularFileError).
            handle = os.fdopen(open_regular_fd(self.path, "the journal"), "rb", 1 << 16)
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as error:
            raise JournalError(
                f"cannot read the journal {self.path}: {error.strerror or error}"
            ) from None
        with handle:
            with contextlib.suppress(OSError):
                self.identity = _identity(os.fstat(handle.fileno()))
            yield from _parse(handle, self.generation, self.path, JournalState())

    def read(self) -> JournalState:
        """The whole file's state for this generation (records in memory: for ``update``)."""
        state = JournalState()
        try:
            with open_regular(self.path, "the journal") as handle:
                state.identity = _identity(os.fstat(handle.fileno()))
                state.records = list(_parse(handle, self.generation, self.path, state))
        except (FileNotFoundError, NotADirectoryError):
            pass
        except OSError as error:
            raise JournalError(
                f"cannot read the journal {self.path}: {error.strerror or error}"
            ) from None
        return state

    # Appending ---------------------------------------------------------------------------

    def append(self, record: Record) -> None:
        """Append ``record`` with one write, before the caller acknowledges it.

        Raises ``JournalError`` (nothing written) when the disk refuses, and
        ``StaleJournalError`` when a newer model owns the file.
        """
        data = _encode(record)
        try:
            with self._locked_for_append() as fd:
                before = os.fstat(fd).st_size
                try:
                    written = os.write(fd, data)
                    while written < len(data):
                        # A short write: the next one says why (or finishes the line).
                        written += os.write(fd, data[written:]) or _no_space()
                except OSError:
                    # A partial line would swallow the next record: take it back.
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, before)
                    raise
        except OSError as error:
            self.close()
            raise JournalError(
                f"could not save the command to {self.path}: {error.strerror or error}"
            ) from None
        self._unsynced = True

    @contextlib.contextmanager
    def _locked_for_append(self) -> Iterator[int]:
        while True:
            fd = self._fd
            if fd is None:
                fd = self._fd = _open_append(self.path)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                current = os.stat(self.path)
            except FileNotFoundError:
                current = None
            mine = os.fstat(fd)
            if current is None or _identity(current) != _identity(mine):
                # Replaced or removed under us (compacted, rewritten, reset): reopen.
                self._release_fd()
                continue
            break
        try:
            if mine.st_size == 0:
                os.write(fd, _encode(_header(self.generation, None)))
            else:
                self._check_owner(fd, mine.st_size)
            self.identity = _identity(mine)
            yield fd
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _check_owner(self, fd: int, size: int) -> None:
        """Under the lock: make the file this generation's, or refuse if a newer model owns it."""
        first = _first_line(fd)
        header = _parse_header(first, self.path)
        if header is not None and header.get("generation") == self.generation:
            _cut_torn_tail(fd, size)
            return
        if header is None and first is not None and _is_version0(first, self.generation):
            _cut_torn_tail(fd, size)
            return  # a version 0 journal of this model: appended to, upgraded at compaction
        if self._is_stale():
            raise StaleJournalError(
                f"the journal {self.path} belongs to a newer model: reopen the model"
            )
        # An older model's journal: its records were learned by the training that replaced it.
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, _encode(_header(self.generation, None)))

    def sync(self) -> None:
        """``fdatasync`` what was appended since the last sync (a no-op when nothing was)."""
        if not self._unsynced or self._fd is None:
            self._unsynced = False
            return
        try:
            os.fdatasync(self._fd) if hasattr(os, "fdatasync") else os.fsync(self._fd)
        except OSError as error:
            raise JournalError(
                f"could not save the journal {self.path}: {error.strerror or error}"
            ) from None
        self._unsynced = False
        self._last_sync = time.monotonic()

    @property
    def unsynced(self) -> bool:
        return self._unsynced

    def _release_fd(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def close(self) -> None:
        """Sync (best effort) and close the descriptor; ``append`` reopens it."""
        if self._fd is not None and self._unsynced:
            with contextlib.suppress(OSError):
                os.fdatasync(self._fd) if hasattr(os, "fdatasync") else os.fsync(self._fd)
            self._unsynced = False
        self._release_fd()

    # Rewriting ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[JournalState]:
        """Hold the journal's lock, yielding its current state, for a read-modify-rewrite."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            while True:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    same = _identity(os.stat(self.path)) == _identity(os.fstat(fd))
                except FileNotFoundError:
                    same = False
                if same:
                    break
                os.close(fd)
                fd = os.open(
                    self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600
                )
            yield self.read()
        finally:
            os.close(fd)  # releases the lock

    def write(self, records: Iterable[Record], marks: list[dict[str, Any]] | None) -> None:
        """Replace the file atomically with a fresh header and ``records``; hold ``exclusive``."""
        from aprender_shell.fileio import atomic_writer

        with atomic_writer(self.path, 0o600) as handle:
            handle.write(_encode(_header(self.generation, marks)))
            for record in records:
                handle.write(_encode(record))
        with contextlib.suppress(OSError):
            self.identity = _identity(os.stat(self.path))

    def compact(self) -> int:
        """Rewrite the journal as this generation's records only, upgraded, within bounds.

        Drops torn lines and other generations' lines, upgrades a version 0 file, keeps the
        newest ``MAX_JOURNAL_RECORDS`` (records are never duplicated: each is one command run,
        and ``update`` reconciles what the shells recorded with what their history gained).
        Returns how many records it keeps; does nothing when the model was replaced since
        it was opened.
        """
        with self.exclusive() as state:
            # Checked under the lock: a model (and journal) put in place since belongs to
            # someone else, and this generation's read of it would be empty.
            if self._is_stale() or state.generation not in (None, self.generation):
                return 0
            records = state.records[-MAX_JOURNAL_RECORDS:]
            self.write(records, state.marks)
        return len(records)

    def rewrite(
        self,
        keep: Callable[[Record], bool],
        change: Callable[[Record], Record] | None = None,
    ) -> int:
        """Remove every record for which ``keep`` is false; returns how many were removed.

        ``change``, if given, maps each kept record to what is written instead (for example
        without a ``"prev"`` that must go too).

        Holds the same lock as every writer, so no record appended meanwhile is lost; a
        running server sees the file replaced and reloads the model at its next request.
        """
        if not self.path.exists():
            return 0
        with self.exclusive() as state:
            if state.generation not in (None, self.generation):
                return 0  # another model's journal: not ours to edit
            kept = [record for record in state.records if keep(record)]
            removed = len(state.records) - len(kept)
            if change is not None:
                kept = [change(dict(record)) for record in kept]
            if kept != state.records:
                self.write(kept, state.marks)
        return removed

    def reset(self) -> None:
        """Make the file this (new) generation's, empty, unless this generation already owns it.

        ``train`` calls it after replacing the model: an older model's records are in the
        history it trained on, while a server that already reopened the new model may have
        appended records that must stay.
        """
        with self.exclusive() as state:
            if state.generation != self.generation:
                self.write((), None)


def _no_space() -> int:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _open_append(path: Path) -> int:
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
    fd = os.open(path, flags, 0o600)
    try:
        st = os.fstat(fd)
        import stat

        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _first_line(fd: int) -> bytes | None:
    data = os.pread(fd, 4096, 0)
    while b"\n" not in data and len(data) < MAX_LINE_BYTES:
        more = os.pread(fd, 65536, len(data))
        if not more:
            return None
        data += more
    end = data.find(b"\n")
    return data[:end] if end >= 0 else None


def _cut_torn_tail(fd: int, size: int) -> None:
    """Truncate a last line without its newline (a write torn by a power loss)."""
    last = os.pread(fd, 1, size - 1)
    if last == b"\n":
        return
    position = size
    while position > 0:
        start = max(0, position - 65536)
        chunk = os.pread(fd, position - start, start)
        found = chunk.rfind(b"\n")
        if found >= 0:
            os.ftruncate(fd, start + found + 1)
            return
        position = start
    os.ftruncate(fd, 0)


def _parse_header(line: bytes | None, path: Path) -> dict[str, Any] | None:
    """The header of a journal whose first line is ``line``; None for a version 0 journal."""
    if line is None:
        return None
    try:
        header = json.loads(line)
    except ValueError:
        return None
    if not isinstance(header, dict) or "journal" not in header:
        return None
    version = header.get("journal")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return None
    if version > JOURNAL_VERSION:
        raise JournalError(
            f"the journal {path} was written by a newer aprender-shell (journal version "
            f"{version}): upgrade aprender-shell, or remove the file to start it afresh"
        )
    return header


def _is_version0(line: bytes, generation: str) -> bool:
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return _is_record(record) and record.get("g") == generation


def _parse(handle: Any, generation: str, path: Path, state: JournalState) -> Iterator[Record]:
    first = True
    version0 = False
    for raw in handle:
        if not raw.endswith(b"\n"):
            break  # torn last line
        state.size += len(raw)
        if first:
            first = False
            header = _parse_header(raw, path)
            if header is not None:
                state.version = int(header["journal"])
                state.generation = str(header.get("generation"))
                if state.generation != generation:
                    return  # an older model's journal: nothing of it applies
                marks = header.get("marks")
                if isinstance(marks, list) and all(isinstance(m, dict) for m in marks):
                    state.marks = marks
                continue
            version0 = True
            state.version = 0
            state.generation = generation
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if not _is_record(line):
            continue
        if version0 or "g" in line:
            if line.get("g") != generation:
                continue
            del line["g"]
        yield line

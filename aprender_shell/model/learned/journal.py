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
and reopen when the file was replaced under them. What the lines say (the header, a fold's
mark, the records) is read in journal_lines.py.

Version history (``JOURNAL_VERSION``): 0 = no header, every line carries the generation
(``"g"``) and the file was rewritten whole at each save; 1 = a header line, records appended.
Version 0 files are read and upgraded at the next rewrite; newer versions are refused.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time

from aprender_shell.fileio import (
    FileIdentity,
    lazy_contextmanager,
    open_regular,
    open_regular_fd,
)
from aprender_shell.model.learned.journal_lines import JOURNAL_VERSION as JOURNAL_VERSION
from aprender_shell.model.learned.journal_lines import JournalError as JournalError
from aprender_shell.model.learned.journal_lines import JournalState as JournalState
from aprender_shell.model.learned.journal_lines import Record as Record
from aprender_shell.model.learned.journal_lines import (
    StaleJournalError as StaleJournalError,
)
from aprender_shell.model.learned.journal_lines import (
    encode,
    first_line,
    folded_into,
    header_line,
    identity,
    is_version0,
    parse,
    parse_header,
    unseen_of,
)

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from pathlib import Path
    from typing import Any

# fdatasync at most this often while records arrive (and once they stop).
SYNC_INTERVAL = 1.0
# The files an ``exclusive`` block of this process put in place, by journal path: still
# locked (see ``exclusive``).
_HOLDING: dict[str, list[int]] = {}


def journal_path(model_path: str | os.PathLike[str]) -> Path:
    """The journal file of the model at ``model_path``."""
    from pathlib import Path  # not on the query path, which reads journal_file

    return Path(journal_file(model_path))


def journal_file(model_path: str | os.PathLike[str]) -> str:
    """The journal file of the model at ``model_path``, as a plain string."""
    return os.fspath(model_path) + ".journal"


class Journal:
    """The records of one model generation, in the file beside the model.

    ``is_stale`` tells whether the model this journal was opened for has been replaced since;
    a stale writer never rewrites a newer model's journal.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        generation: str,
        is_stale: Callable[[], bool] = lambda: False,
    ) -> None:
        self.path = journal_file(model_path)
        self.generation = generation
        self._is_stale = is_stale
        self._fd: int | None = None
        self._unsynced = False
        self._last_sync = time.monotonic()
        # The identity of the file this process last read, created or rewrote.
        self.identity: FileIdentity | None = None

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
            try:  # noqa: SIM105 (contextlib stays off the cold path)
                self.identity = identity(os.fstat(handle.fileno()))
            except OSError:
                pass
            yield from parse(handle, self.generation, self.path, JournalState())

    def read(self) -> JournalState:
        """The whole file's state for this generation (records in memory: for ``update``)."""
        state = JournalState()
        try:
            with open_regular(self.path, "the journal") as handle:
                state.identity = identity(os.fstat(handle.fileno()))
                state.records = list(parse(handle, self.generation, self.path, state))
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
        data = encode(record)
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
                    try:  # noqa: SIM105 (contextlib stays off the cold path)
                        os.ftruncate(fd, before)
                    except OSError:
                        pass
                    raise
        except OSError as error:
            self.close()
            raise JournalError(
                f"could not save the command to {self.path}: {error.strerror or error}"
            ) from None
        self._unsynced = True

    @lazy_contextmanager
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
            if current is None or identity(current) != identity(mine):
                # Replaced or removed under us (compacted, rewritten, reset): reopen.
                self._release_fd()
                continue
            break
        try:
            if mine.st_size == 0:
                os.write(fd, encode(header_line(self.generation, None)))
            else:
                self._check_owner(fd, mine.st_size)
            self.identity = identity(mine)
            yield fd
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _check_owner(self, fd: int, size: int) -> None:
        """Under the lock: make the file this generation's, or refuse if a newer model owns it."""
        first = first_line(fd)
        header = parse_header(first, self.path)
        if header is not None and (
            header.get("generation") == self.generation
            or folded_into(header, self.generation) is not None
        ):
            _cut_torn_tail(fd, size)
            return
        if header is None and first is not None and is_version0(first, self.generation):
            _cut_torn_tail(fd, size)
            return  # a version 0 journal of this model: appended to, upgraded at compaction
        if self._is_stale():
            raise StaleJournalError(
                f"the journal {self.path} belongs to a newer model: reopen the model"
            )
        # An older model's journal: its records were learned by the training that replaced it.
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, encode(header_line(self.generation, None)))

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
            try:  # noqa: SIM105 (contextlib stays off the cold path)
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None

    def close(self) -> None:
        """Sync (best effort) and close the descriptor; ``append`` reopens it."""
        if self._fd is not None and self._unsynced:
            try:  # noqa: SIM105 (contextlib stays off the cold path)
                os.fdatasync(self._fd) if hasattr(os, "fdatasync") else os.fsync(self._fd)
            except OSError:
                pass
            self._unsynced = False
        self._release_fd()

    # Rewriting ---------------------------------------------------------------------------

    @lazy_contextmanager
    def exclusive(self) -> Iterator[JournalState]:
        """Hold the journal's lock, yielding its current state, for a read-modify-rewrite.

        The lock covers every file the block puts in place (``write``): each new file is
        locked before it replaces the old one and stays locked until the block ends, so an
        appender that opens it meanwhile waits, then finds the file the block left last. A
        fold replaces the file twice (marked, then cut): a record appended to the first
        would be lost with it.
        """
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        held: list[int] = []
        try:
            while True:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    same = identity(os.stat(self.path)) == identity(os.fstat(fd))
                except FileNotFoundError:
                    same = False
                if same:
                    break
                os.close(fd)
                fd = os.open(
                    self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600
                )
            _HOLDING[str(self.path)] = held
            yield self.read()
        finally:
            _HOLDING.pop(str(self.path), None)
            for locked in held:
                os.close(locked)
            os.close(fd)  # releases the lock

    def write(
        self,
        records: Iterable[Record],
        marks: list[dict[str, Any]] | None,
        folding: tuple[str, int] | None = None,
        unseen: list[Record] | None = None,
        unseen_into: list[Record] | None = None,
    ) -> None:
        """Replace the file atomically with a fresh header and ``records``; hold ``exclusive``.

        ``folding`` (the new model's generation, how many records it holds) marks the file
        for a fold about to put that model in place. ``unseen`` (folded records no history
        showed yet, journal_lines.py) defaults to what the file keeps for this generation;
        ``unseen_into`` is the fold's list for the new model.
        """
        from aprender_shell.fileio import atomic_writer

        if unseen is None:
            unseen = self._unseen_now()
        with atomic_writer(self.path, 0o600) as handle:
            handle.write(encode(header_line(self.generation, marks, folding, unseen,
                                            unseen_into)))
            for record in records:
                handle.write(encode(record))
            held = _HOLDING.get(str(self.path))
            if held is not None:
                # The new file is locked (atomic_writer's lock on it): a duplicate of its
                # descriptor keeps that lock past the rename, until ``exclusive`` ends.
                held.append(os.dup(handle.fileno()))
        try:  # noqa: SIM105 (contextlib stays off the cold path)
            self.identity = identity(os.stat(self.path))
        except OSError:
            pass

    def _unseen_now(self) -> list[Record]:
        """What the file's header keeps as folded but unseen for this generation."""
        try:
            fd = open_regular_fd(self.path, "the journal")
        except OSError:
            return []
        try:
            header = parse_header(first_line(fd), self.path)
        except (OSError, JournalError):
            return []
        finally:
            os.close(fd)
        return unseen_of(header, self.generation) if header is not None else []

    def compact(self) -> int:
        """Rewrite the journal as this generation's records only, upgraded.

        Drops torn lines and other generations' lines and upgrades a version 0 file; keeps
        every record (a fold, model/training/fold.py, bounds the file by putting them in the
        model). Returns how many records it keeps; does nothing when the model was replaced
        since it was opened.
        """
        with self.exclusive() as state:
            # Checked under the lock: a model (and journal) put in place since belongs to
            # someone else, and this generation's read of it would be empty.
            if self._is_stale() or state.generation not in (None, self.generation):
                return 0
            if not self._holds_exactly(state):  # clean already: no rewrite, no fsync
                self.write(state.records, state.marks)
        return len(state.records)

    def _holds_exactly(self, state: JournalState) -> bool:
        """Whether the file's bytes are what ``write`` would put there (a server's start
        compacts: most starts find a clean journal, and its first answer waits)."""
        if state.identity is None:
            return False
        expected = encode(header_line(self.generation, state.marks)) + b"".join(
            encode(record) for record in state.records
        )
        try:
            with open_regular(self.path, "the journal") as handle:
                return bool(handle.read(len(expected) + 1) == expected)
        except OSError:
            return False

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
        if not os.path.exists(self.path):
            return 0
        with self.exclusive() as state:
            if state.generation not in (None, self.generation):
                return 0  # another model's journal: not ours to edit
            kept = [record for record in state.records if keep(record)]
            removed = len(state.records) - len(kept)
            if change is not None:
                kept = [change(dict(record)) for record in kept]
            unseen = [entry for entry in state.unseen if keep(entry)]
            if kept != state.records or unseen != state.unseen:
                self.write(kept, state.marks, unseen=unseen)
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


def _open_append(path: str) -> int:
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



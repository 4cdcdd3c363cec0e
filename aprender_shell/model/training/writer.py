"""One writer at a time: the protocol every writer of a model and its journal follows.

``train``, ``update``, ``forget`` and ``update``'s compaction (and later folding and sync
merges) each run inside ``writer(model_path)``:

- it takes the writer lock (an ``flock`` on ``model.apbundle.lock`` beside the model), held
  until the writer is done, so writers run one after another: a second ``forget`` reads what
  the first one left, never the model from before it;
- it removes the temporary files of writers that were killed (``kill -9`` mid-training);
- it records the model file it started from, and every replacement happens under the
  journal's lock (``replacing``) after checking that the model is still that file; a writer
  that finds a newer model refuses instead of putting an older one back.

The server is a reader that appends: it never takes the writer lock (a keystroke must not wait
for a training), only the journal's, under which it sees the model and journal as one pair.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from aprender_shell.errors import AprenderError
from aprender_shell.fileio import FileVersion, remove_stale_temps, version
from aprender_shell.model.learned.journal import Journal, JournalState
from aprender_shell.model.memory import MemoryLimit
from aprender_shell.model.store.index import ModelIndex
from aprender_shell.model.store.tables import open_model_bundle, read_index

FileIdentity = FileVersion  # which file, and which version of it


class WriterConflictError(AprenderError):
    """The model was replaced by something that did not follow the protocol."""


def index_of(model_path: Path) -> ModelIndex:
    """The index of the model at ``model_path``, read with the same checks as every query."""
    with open_model_bundle(model_path, MemoryLimit.default().paging) as bundle:
        return read_index(bundle, model_path)  # the same checks as every query


def journal_for(model_path: Path) -> Journal:
    """The journal of the model now at ``model_path`` (``forget`` calls its ``rewrite``)."""
    return Journal(model_path, index_of(model_path).generation)



def lock_path(model_path: Path) -> Path:
    """The writer lock of the model at ``model_path``."""
    return model_path.with_name(model_path.name + ".lock")


def file_identity(path: Path) -> FileIdentity | None:
    """Which file is at ``path`` now (None when there is none)."""
    return version(path)


class ModelWriter:
    """The writer holding the lock of one model: see the module's docstring."""

    def __init__(self, model_path: Path) -> None:
        self.model_path = model_path
        # The model file this writer read (or None: there was none); moves with each replace.
        self.started_from = file_identity(model_path)

    def check(self, doing: str = "writing") -> None:
        """Refuse when the model is no longer the file this writer started from."""
        if file_identity(self.model_path) != self.started_from:
            raise WriterConflictError(
                f"the model {self.model_path} was replaced while {doing} by a process that "
                "does not take its lock (an older aprender-shell?): nothing was changed; "
                "run the command again"
            )

    @contextlib.contextmanager
    def replacing(self, generation: str, doing: str = "writing") -> Iterator[JournalState]:
        """Hold the journal's lock (appenders wait), checked that the model is still the one
        this writer started from; yields the journal as read for ``generation``. The block
        replaces the model, the journal or both; appenders then see the new pair at once."""
        journal = Journal(self.model_path, generation)
        with journal.exclusive() as state:
            self.check(doing)
            try:
                yield state
            finally:
                self.started_from = file_identity(self.model_path)


@contextlib.contextmanager
def writer(model_path: Path) -> Iterator[ModelWriter]:
    """Be the one writer of the model at ``model_path`` for the block (waits for another)."""
    model_path = Path(model_path)
    folder = model_path.parent
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = lock_path(model_path)
    try:
        fd = _open_lock(path)
    except OSError as error:
        if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOENT):
            # No lock file, and a folder we cannot write to: no writer can replace anything
            # in it either, and one that finds nothing to do (an update with nothing new)
            # still succeeds.
            yield ModelWriter(model_path)
            return
        raise AprenderError(
            f"cannot open the model's lock {path}: {error.strerror or error}"
            + (": free some space there and run it again"
               if error.errno in (errno.ENOSPC, errno.EDQUOT) else "")
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        # Whatever a killed writer left (its pid is dead and nobody holds its file) goes now.
        remove_stale_temps(folder)
        yield ModelWriter(model_path)
    finally:
        os.close(fd)  # releases the lock


def _open_lock(path: Path) -> int:
    flags = os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | flags, 0o600)
    except OSError as error:
        if error.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise
        return os.open(path, os.O_RDONLY | flags)  # flock works on a read-only descriptor

"""Atomic, private file writes: a crash mid-write leaves the old file intact."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], mode: int = 0o600) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces ``path`` only once the block finishes without error.

    The data goes to a temporary file in the same folder (so ``os.replace`` is atomic), is
    flushed and fsynced, then renamed over ``path``. On any exception the temporary file is
    removed and ``path`` is untouched. The new file gets permission bits ``mode``.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # new folders: private
    remove_stale_temps(target.parent)
    import tempfile  # only writers pay for it, not every query

    # Named with our pid and locked while we live: a writer killed mid-way (kill -9 during
    # 'train') leaves a file the next writer recognises as its dead predecessor's.
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent
    )
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(target.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` atomically with permission bits ``mode``."""
    with atomic_writer(path, mode) as handle:
        handle.write(data)


# ".<target>.<pid>.<tag>.tmp": atomic_writer's files (tag from mkstemp) and the staging
# model of a compacting 'update' (tag "compact").
_TEMP_NAME = re.compile(r"^\..+\.(?P<pid>[0-9]+)\.[A-Za-z0-9_]+\.tmp$")


def remove_stale_temps(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files in ``folder`` whose writer is dead; returns them.

    A file counts as dead when the pid in its name does not run and nobody holds its
    ``flock`` (the lock also covers a writer whose pid we cannot see).
    """
    removed: list[Path] = []
    try:
        names = [entry.name for entry in os.scandir(folder) if _TEMP_NAME.match(entry.name)]
    except OSError:
        return removed
    for name in names:
        match = _TEMP_NAME.match(name)
        if match is None or _pid_runs(int(match.group("pid"))):
            continue
        path = Path(folder) / name
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.path.samestat(os.fstat(fd), os.lstat(path)):
                os.unlink(path)
                removed.append(path)
        except OSError:
            pass  # locked: its writer lives (in another pid namespace)
        finally:
            os.close(fd)
    return removed


def _pid_runs(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(folder: Path) -> None:
    # The rename is only durable once the directory entry is on disk.
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)

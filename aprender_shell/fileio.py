"""Atomic, private file writes (a crash mid-write leaves the old file intact), and reads that
never block on a FIFO nor run forever on a device."""

from __future__ import annotations

import errno
import fcntl
import os
import stat

from aprender_shell.errors import AprenderError

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    import re
    from collections.abc import Callable, Iterator
    from contextlib import AbstractContextManager
    from pathlib import Path
    from typing import BinaryIO, ParamSpec, TypeVar

    Params = ParamSpec("Params")
    Yielded = TypeVar("Yielded")


def lazy_contextmanager(
    function: Callable[Params, Iterator[Yielded]],
) -> Callable[Params, AbstractContextManager[Yielded]]:
    """``contextlib.contextmanager``, with contextlib (and the functools, collections and types
    it imports) imported at the first call, not when the module defining ``function`` is:
    a cold suggest imports the modules of writers it never calls."""

    managed: Callable[Params, AbstractContextManager[Yielded]] | None = None

    def call(*args: Params.args, **kwargs: Params.kwargs) -> AbstractContextManager[Yielded]:
        nonlocal managed
        if managed is None:
            from contextlib import contextmanager

            managed = contextmanager(function)
        return managed(*args, **kwargs)

    call.__name__, call.__qualname__ = function.__name__, function.__qualname__
    call.__doc__ = function.__doc__
    return call

# O_NONBLOCK: opening a FIFO for reading would wait for a writer forever. O_NOCTTY: a terminal
# device must never become our controlling terminal. Neither changes how a regular file reads.
READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class NotRegularFileError(AprenderError):
    """A file we read is a FIFO, device, socket or folder: reading it could block forever."""

    def __init__(self, path: str | os.PathLike[str], kind: str, what: str = "") -> None:
        self.path = os.fspath(path)
        self.kind = kind
        subject = f"{what} {self.path}" if what else self.path
        super().__init__(
            f"{subject} is {kind}, not a regular file: move it away or replace it with a file"
        )


class DiskFullError(AprenderError, OSError):
    """A write found no space left (or the quota used up): which file, and what to do.

    Still an ``OSError`` with its ``errno``, so that library callers catching the system's
    error (the bundle API's contract) catch it as before.
    """

    def __init__(self, path: str | os.PathLike[str], code: int = errno.ENOSPC) -> None:
        from pathlib import Path  # an error's: a cold suggest imports no pathlib (nor its re)

        target = Path(path)
        match = _temp_name().match(target.name)
        name = match.group("name") if match else target.name  # the file it would replace
        self.path = target.with_name(name)
        self.message = (
            f"no space left on the disk holding {target.parent} to write {name}: free some "
            "space there and run the command again (nothing was changed)"
        )
        OSError.__init__(self, code, self.message, str(self.path))

    def __str__(self) -> str:
        return self.message


def full_disk(error: OSError, target: str | os.PathLike[str]) -> OSError:
    """``error`` as the one line a user reads (``DiskFullError``) when it is a full disk or
    quota met writing ``target`` or a temporary file of it; any other error as it is."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError(target, error.errno)
    return error


class FileTooLargeError(AprenderError):
    """A file is larger than the caller is willing to read whole."""

    def __init__(self, path: str | os.PathLike[str], size: int, limit: int) -> None:
        self.path = os.fspath(path)
        self.size = size
        self.limit = limit
        super().__init__(f"{self.path} is larger than {limit} bytes")


def file_kind(mode: int) -> str:
    """What a file of ``mode`` is, in words ("a named pipe (FIFO)", "a directory", ...)."""
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return "not a regular file"


def open_regular_fd(path: str | os.PathLike[str], what: str = "") -> int:
    """A read-only descriptor of ``path``, which must be a regular file (symlinks followed).

    Never blocks: a FIFO, device, socket or folder raises ``NotRegularFileError`` (naming the
    file as ``what``); a missing file raises ``FileNotFoundError`` and other failures ``OSError``.
    """
    fd = os.open(path, READ_FLAGS)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFileError(path, file_kind(mode), what)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_regular(path: str | os.PathLike[str], what: str = "") -> BinaryIO:
    """``open(path, "rb")`` that refuses anything but a regular file, without blocking."""
    return os.fdopen(open_regular_fd(path, what), "rb")


def read_regular(path: str | os.PathLike[str], limit: int | None = None, what: str = "") -> bytes:
    """The bytes of the regular file ``path``; ``FileTooLargeError`` past ``limit`` bytes (a file
    growing while read included)."""
    with open_regular(path, what) as handle:
        if limit is None:
            return handle.read()
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise FileTooLargeError(path, size, limit)
        data = handle.read(limit + 1)
        if len(data) > limit:
            raise FileTooLargeError(path, len(data), limit)
        return data


@lazy_contextmanager
def atomic_writer(
    path: str | os.PathLike[str], mode: int = 0o600, durable: bool = True
) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces ``path`` only once the block finishes without error.

    The data goes to a temporary file in the same folder (so ``os.replace`` is atomic), is
    flushed and fsynced, then renamed over ``path``. On any exception the temporary file is
    removed and ``path`` is untouched. The new file gets permission bits ``mode``.
    ``durable=False`` skips the two fsyncs, for a file a power loss makes meaningless anyway
    (a server's pid file): the replace is still atomic for every reader.
    """
    from pathlib import Path  # a writer's: a cold suggest imports no pathlib (nor its re)

    target = Path(path)
    try:
        with _writing(target, mode, durable) as handle:
            yield handle
    except OSError as error:
        raise full_disk(error, target) from None


@lazy_contextmanager
def _writing(target: Path, mode: int, durable: bool) -> Iterator[BinaryIO]:
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # new folders: private
    remove_stale_temps(target.parent)
    # Named with our pid and locked while we live: a writer killed mid-way (kill -9 during
    # 'train') leaves a file the next writer recognises as its dead predecessor's.
    fd, tmp_name = _create_temp(target)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        try:  # noqa: SIM105 (contextlib stays off the cold path)
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    if durable:
        _fsync_dir(target.parent)


def _create_temp(target: Path) -> tuple[int, str]:
    """A new private file beside ``target``, as ``tempfile.mkstemp`` makes one (O_EXCL, a
    random tag, retried on a clash) without importing ``tempfile`` and ``random``: a server
    writes its pid file before its first answer, and those imports cost it about 5 ms."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(100):
        name = os.path.join(target.parent, f"{_temp_prefix(target)}{os.urandom(6).hex()}.tmp")
        try:
            return os.open(name, flags, 0o600), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary name", str(target.parent))


def atomic_write_bytes(
    path: str | os.PathLike[str], data: bytes, mode: int = 0o600, durable: bool = True
) -> None:
    """Write ``data`` to ``path`` atomically with permission bits ``mode`` (``durable``: as
    ``atomic_writer``)."""
    with atomic_writer(path, mode, durable) as handle:
        handle.write(data)


# ".<target>.<pid>.<tag>.tmp" (temp_path): atomic_writer's files (tag from mkstemp) and the
# staging models of the writers (tags "train", "compact", "forget").
def _temp_name() -> re.Pattern[str]:
    import re  # compiled (and cached by re) when first needed: a cold suggest imports no re

    return re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[A-Za-z0-9_]+\.tmp$")


def remove_stale_temps(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files in ``folder`` whose writer is dead; returns them.

    A file counts as dead when the pid in its name does not run and nobody holds its
    ``flock`` (the lock also covers a writer whose pid we cannot see).
    """
    from pathlib import Path

    removed: list[Path] = []
    try:
        pattern = _temp_name()
        names = [entry.name for entry in os.scandir(folder) if pattern.match(entry.name)]
    except OSError:
        return removed
    for name in names:
        match = pattern.match(name)
        if match is None or process_alive(int(match.group("pid"))):
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


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie has exited; another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            # A zombie has exited; only its parent has yet to collect it.
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
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


# A file's identity, one rule for every layer: which file a path names (device and inode), and
# which version of it (device, inode, size and modification time, which a rewrite changes).
FileIdentity = tuple[int, ...]
FileVersion = tuple[int, int, int, int]


def identity_of(st: os.stat_result, changed: bool = False) -> FileIdentity:
    """Which file ``st`` describes; with ``changed``, also when its inode last changed."""
    return (st.st_dev, st.st_ino, st.st_ctime_ns) if changed else (st.st_dev, st.st_ino)


def identity(
    path: str | os.PathLike[str], follow: bool = True, changed: bool = False
) -> FileIdentity | None:
    """Which file ``path`` names now (``follow=False``: the link itself), None if none.

    ``changed`` is for files nobody writes after making them (a socket, a pid file): ext4 hands
    a freed inode number to the next file it creates, so a successor's file may well have the
    number ours had; its change time tells them apart.
    """
    try:
        st = os.stat(path) if follow else os.lstat(path)
    except OSError:
        return None
    return identity_of(st, changed)


def version(path: str | os.PathLike[str]) -> FileVersion | None:
    """Which file ``path`` names and which contents it has, as far as ``stat`` can tell (a
    replaced, rewritten or grown file answers differently); None if there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def temp_path(target: str | os.PathLike[str], tag: str) -> Path:
    """The temporary file a writer of ``target`` stages it in (beside it, so the final rename is
    atomic): named for the target, our pid and ``tag``, which ``remove_stale_temps`` and
    ``temporaries_of`` recognise."""
    from pathlib import Path

    target = Path(target)
    return target.with_name(f"{_temp_prefix(target)}{tag}.tmp")


def temporaries_of(target: str | os.PathLike[str]) -> list[Path]:
    """The temporary files writers of ``target`` left beside it (dead or alive)."""
    from pathlib import Path

    target = Path(target)
    try:
        names = [entry.name for entry in os.scandir(target.parent)]
    except OSError:
        return []
    prefix = f".{target.name}."
    return sorted(target.parent / name for name in names
                  if name.startswith(prefix) and _temp_name().match(name))


def _temp_prefix(target: Path) -> str:
    return f".{target.name}.{os.getpid()}."

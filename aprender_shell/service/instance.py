"""A running server's hold on its runtime folder: the lock, the socket and the pid file.

The lock (an ``flock`` held for the server's whole life) makes two simultaneous starts give one
server; a socket or pid file nobody's lock covers was left by a server that died, and is
replaced. What a server owns it removes when it ends, and nothing a successor made.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import sys
import time
from pathlib import Path

from aprender_shell import fileio
from aprender_shell.errors import AprenderError, UsageError
from aprender_shell.fileio import FileIdentity
from aprender_shell.paths import LOCK_NAME, PID_NAME, SOCKET_NAME, lock_path, pid_path

LOCK_WAIT = 5.0
# sockaddr_un.sun_path holds 108 bytes on Linux (104 on the BSDs), including the final NUL.
MAX_SOCKET_PATH = 103 if sys.platform == "darwin" or "bsd" in sys.platform else 107


class AlreadyRunningError(AprenderError):
    """Another server of this user is running (or starting) on the same socket."""


def read_pid(path: Path | None = None) -> int | None:
    """The pid written in the pid file, or None if there is no readable one."""
    from aprender_shell.service.pidfile import read_record

    record = read_record(path or pid_path())
    return record.pid if record is not None else None


def lock_holder() -> int | None:
    """The pid in the pid file when a server holds the startup lock (alive, maybe hung)."""
    try:
        fd = os.open(lock_path(), os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return read_pid()
    finally:
        os.close(fd)  # closing releases the lock if we took it
    return None


def accepts(path: Path, timeout: float = 1.0) -> bool:
    """True when something accepts connections on the Unix socket at ``path``."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(timeout)
    try:
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True


def check_socket_path(path: Path) -> None:
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise UsageError(
            f"socket path {path} is longer than a Unix socket allows ({MAX_SOCKET_PATH} bytes): "
            "set XDG_RUNTIME_DIR or APRENDER_SHELL_HOME to a shorter folder"
        )


class Instance:
    """What a running server owns on disk: the lock, the socket and the pid file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.socket_path = folder / SOCKET_NAME
        self.pid_path = folder / PID_NAME
        self.lock_fd: int | None = None
        self.socket_identity: FileIdentity | None = None
        self.pid_identity: FileIdentity | None = None

    def acquire(self, wait: float = LOCK_WAIT) -> None:
        """Take the lock held for the server's life, or raise ``AlreadyRunningError``."""
        fd = os.open(self.folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    os.close(fd)
                    raise
            # Another server holds the lock: running (answers) or starting/stopping (wait).
            if accepts(self.socket_path) or time.monotonic() > deadline:
                os.close(fd)
                pid = read_pid(self.pid_path)
                raise AlreadyRunningError(
                    "the aprender-shell server is already running"
                    + (f" (pid {pid})" if pid else "")
                )
            time.sleep(0.05)
        self.lock_fd = fd

    def bind(self) -> socket.socket:
        """Replace a stale socket and pid file with a fresh 0600 socket (not yet listening)."""
        check_socket_path(self.socket_path)
        if accepts(self.socket_path):
            # Someone serves here without our lock (its lock file was removed): leave it be.
            raise AlreadyRunningError(f"a server already listens on {self.socket_path}")
        for stale in (self.socket_path, self.pid_path):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # The umask makes the socket private from the moment it exists; chmod is belt and braces.
        old_umask = os.umask(0o077)
        try:
            listener.bind(str(self.socket_path))
        except BaseException:
            listener.close()
            raise
        finally:
            os.umask(old_umask)
        os.chmod(self.socket_path, 0o600)
        self.socket_identity = _identity(self.socket_path)
        return listener

    def write_pid(self) -> None:
        from aprender_shell.fileio import atomic_write_bytes
        from aprender_shell.service.pidfile import record_bytes

        # Our start time and command line too: 'stop' signals only the process that wrote it.
        # Not fsynced: the shells' first keystroke waits for this start, and after a power
        # loss any pid in it names a process that is gone (the identity check says so).
        atomic_write_bytes(self.pid_path, record_bytes(), durable=False)
        self.pid_identity = _identity(self.pid_path)

    def release(self) -> None:
        """Remove our socket and pid file (not a successor's), then drop the lock."""
        for path, identity in (
            (self.socket_path, self.socket_identity),
            (self.pid_path, self.pid_identity),
        ):
            if identity is not None and _identity(path) == identity:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None


def _identity(path: Path) -> FileIdentity | None:
    return fileio.identity(path, follow=False, changed=True)

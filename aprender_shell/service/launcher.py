"""Starting the server in the background, detached from the shell that asked for it."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from aprender_shell.errors import AprenderError
from aprender_shell.fileio import file_kind, open_regular
from aprender_shell.paths import ensure_private_dir, log_path, runtime_dir, socket_path
from aprender_shell.service.instance import check_socket_path

if TYPE_CHECKING:
    from aprender_shell.model.memory import MemoryLimit


class Started(NamedTuple):
    """What ``start_in_background`` found or did (not a dataclass: ``server start``, which the
    shells wait for, would import ``inspect`` with it)."""

    pid: int | None
    already_running: bool
    status: dict[str, object]


def start_in_background(
    model_path: Path,
    memory_limit: MemoryLimit | None = None,
    idle_timeout: float | None = None,
    wait: float = 15.0,
) -> Started:
    """Start a detached server unless one answers; return once its socket accepts.

    The server runs ``python -m aprender_shell server run`` in a new session, its output going
    to a private log file in the runtime folder. Raises ``AprenderError`` if it does not come
    up within ``wait`` seconds (with the last line it logged).
    """
    import subprocess

    from aprender_shell.service.client import server_status

    status = server_status()
    if status is not None:
        return Started(_pid_of(status), True, status)
    ensure_private_dir(runtime_dir())
    check_socket_path(socket_path())
    log = log_path()
    command = [sys.executable, "-m", "aprender_shell", "server", "run",
               "--model", str(Path(model_path).absolute())]
    if memory_limit is not None:
        command += ["--memory-limit", memory_limit.argument()]  # bytes, exactly as given
    if idle_timeout is not None:
        command += ["--idle-timeout", repr(idle_timeout)]
    environment = dict(os.environ)
    # The server runs from / (so it holds no folder busy): relative settings must not move.
    home = environment.get("APRENDER_SHELL_HOME")
    if home:
        environment["APRENDER_SHELL_HOME"] = str(Path(home).expanduser().absolute())
    package_root = str(Path(__file__).resolve().parents[2])
    environment["PYTHONPATH"] = os.pathsep.join(
        part for part in (package_root, environment.get("PYTHONPATH", "")) if part
    )
    log_file = _open_log(log)
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
            cwd="/", env=environment, start_new_session=True, close_fds=True,
        )
    finally:
        os.close(log_file)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        status = server_status()
        if status is not None:
            return Started(_pid_of(status), process.pid != _pid_of(status), status)
        code = process.poll()
        # Exit 0 without a socket: it lost a start race to another server, which will answer.
        if code is not None and code != 0:
            raise AprenderError(f"the server did not start: {_last_line(log)}")
        time.sleep(0.02)
    raise AprenderError(
        f"the server did not answer within {wait:g} s (see {log})"
    )


def _pid_of(status: dict[str, object]) -> int | None:
    pid = status.get("pid")
    return pid if isinstance(pid, int) else None


def _open_log(path: Path) -> int:
    """The server log opened for appending (0600), emptied first once it grows past 1 MiB."""
    # O_NONBLOCK: a FIFO in its place would block the open until someone read it.
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC | os.O_NONBLOCK
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as error:
        reason = error.strerror or error
        raise AprenderError(f"cannot open the server log {path}: {reason}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise AprenderError(f"the server log {path} is {file_kind(mode)}: remove it")
    os.set_blocking(fd, True)
    with contextlib.suppress(OSError):
        if os.fstat(fd).st_size > 1 << 20:
            os.ftruncate(fd, 0)
    return fd


def _last_line(path: Path) -> str:
    try:
        with open_regular(path) as handle:
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - 4096))
            tail = handle.read(4096)
    except (OSError, AprenderError):
        return f"see {path}"
    lines = tail.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else f"see {path}"

"""Server control for the commands above the service: start, stop, status, served statistics.

The CLI and ``uninstall`` call these functions; none of them prints or knows click.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aprender_shell.errors import AprenderError
from aprender_shell.fileio import process_alive
from aprender_shell.paths import check_private_dir, runtime_dir
from aprender_shell.service.client import answering_server, server_model_stats, server_status
from aprender_shell.service.launcher import Started, start_in_background
from aprender_shell.service.server import PID_NAME, SOCKET_NAME

if TYPE_CHECKING:
    from aprender_shell.model.query.stats import ModelStats

STOP_WAIT = 15.0

__all__ = ["STOP_WAIT", "Started", "Stopped", "checked_runtime_dir", "forget_in_server",
           "held_lock_pid", "served_stats",
           "serving", "start_in_background", "stop_server", "server_status"]


@dataclass(frozen=True)
class Stopped:
    """What ``stop_server`` found and did: ``pid`` is None when no server ran."""

    pid: int | None
    answered: bool = True
    # The server's last failure to save, and how many recorded commands it could not save.
    save_error: str | None = None
    unsaved: int = 0


def stop_server(wait: float = STOP_WAIT) -> Stopped:
    """Stop the running server with SIGTERM (it saves what it learned) and wait for it to exit.

    Raises ``UnsafeFolderError`` before reading anything when the runtime folder could be
    another account's, and AprenderError when the pid is not verified to be our server (it is
    then not signalled) or the server is still running after ``wait`` seconds.
    """
    from aprender_shell.service.pidfile import is_our_server, is_server_process, read_record

    folder = checked_runtime_dir()
    answered = answering_server()
    status = answered[0] if answered is not None else None
    if answered is not None and answered[1] is not None:
        pid: object = answered[1]  # the kernel's word, for a process of our own uid
    else:
        pid = status.get("pid") if status else held_lock_pid()
    if not isinstance(pid, int) or isinstance(pid, bool):
        return Stopped(None)
    pid_file = folder / PID_NAME
    if answered is not None and answered[1] is not None:
        if not is_server_process(pid) and not is_our_server(pid, read_record(pid_file)):
            raise AprenderError(
                f"the process answering {folder / SOCKET_NAME} (pid {pid}) is not an "
                "aprender-shell server: not signalling it; stop whatever listens there"
            )
    elif not is_our_server(pid, read_record(pid_file)):
        raise AprenderError(
            f"pid {pid} is not the server that wrote {pid_file} (another process runs under "
            f"that pid now): not signalling it; if no server runs, delete {pid_file}"
        )
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return Stopped(None)
    deadline = time.monotonic() + wait
    while process_alive(pid):
        if time.monotonic() > deadline:
            raise AprenderError(f"the server (pid {pid}) did not stop within {wait:g} s")
        time.sleep(0.02)
    error = status.get("save_error") if status else None
    unsaved = status.get("unsaved_records") if status else 0
    return Stopped(
        pid,
        answered=status is not None,
        save_error=error if isinstance(error, str) else None,
        unsaved=unsaved if isinstance(unsaved, int) and not isinstance(unsaved, bool) else 0,
    )


def checked_runtime_dir() -> Path:
    """The runtime folder, once ``check_private_dir`` finds no other account controls it."""
    folder = runtime_dir()
    check_private_dir(folder)
    return folder


def held_lock_pid() -> int | None:
    """The pid of a server that holds the startup lock but may not answer, when it is verified
    to be the server that wrote the pid file (else None: nothing of ours runs there)."""
    from aprender_shell.service.pidfile import is_our_server, read_record
    from aprender_shell.service.server import lock_holder

    pid = lock_holder()
    if pid is None or not is_our_server(pid, read_record(checked_runtime_dir() / PID_NAME)):
        return None
    return pid


def served_stats(model_path: Path) -> ModelStats | None:
    """The running server's own figures for ``model_path``, or None if no server serves it."""
    try:
        return server_model_stats(model_path)
    except Exception:  # noqa: BLE001 - a sick server must not break 'stats'; callers fall back
        return None


def serving(model_path: Path) -> int | None:
    """The pid of the running server when it serves ``model_path``, else None."""
    from aprender_shell.service.client import same_file

    status = server_status()
    if not status or not same_file(status.get("model_path"), model_path):
        return None
    pid = status.get("pid")
    return pid if isinstance(pid, int) else None


def forget_in_server(pattern: str, mode: str) -> int:
    """Ask the running server to forget what it learned matching ``pattern``; how many went.

    Raises AprenderError when it cannot (gone, or too old to know the request).
    """
    from aprender_shell.service.client import Client

    with Client(timeout=30.0) as client:
        answer = client.request({"forget": pattern, "match": mode})
    forgotten = answer.get("forgotten")
    if not isinstance(forgotten, int):
        raise AprenderError(f"the server could not forget: {answer.get('error', answer)}")
    return forgotten

"""Server control for the commands above the service: start, stop, status, served statistics.

The CLI and ``uninstall`` call these functions; none of them prints or knows click.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from aprender_shell.errors import AprenderError
from aprender_shell.fileio import process_alive
from aprender_shell.paths import PID_NAME, SOCKET_NAME, check_private_dir, runtime_dir
from aprender_shell.service.client import answering_server, server_model_stats, server_status
from aprender_shell.service.launcher import Started, start_in_background

if TYPE_CHECKING:
    from aprender_shell.model.memory import MemoryLimit
    from aprender_shell.model.query.stats import ModelStats

STOP_WAIT = 15.0

__all__ = ["STOP_WAIT", "Forgotten", "Relayed", "Started", "Stopped", "checked_runtime_dir",
           "forget_everywhere", "forget_in_server", "held_lock_pid", "relay_stream",
           "served_stats", "serving", "start_in_background", "stop_server", "server_status"]


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
    from aprender_shell.service.instance import lock_holder
    from aprender_shell.service.pidfile import is_our_server, read_record

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


@dataclass(frozen=True)
class Relayed:
    """What ``relay_stream`` relayed: how many answers were errors, and how many recorded
    commands could not be saved (by the server or in-process) and why."""

    errors: int
    unsaved: int = 0
    save_error: str | None = None


def relay_stream(
    model_path: Path, memory_limit: MemoryLimit | None, start: bool, infile: IO[Any],
    outfile: IO[Any],
) -> Relayed:
    """Relay request lines from ``infile`` to the server and its answers to ``outfile`` until
    ``infile`` ends.

    The relay the shells run, in this process: it starts a server for ``model_path`` when none
    runs (unless not ``start``, or the model is gone), reconnects once when the server goes
    away, and answers in-process whenever no server can be had. While a server runs for
    another model, every answer is this process's own.
    """
    from aprender_shell.model.query.predictor import Predictor
    from aprender_shell.paths import socket_path
    from aprender_shell.service import relay
    from aprender_shell.service.client import same_file
    from aprender_shell.service.session import Session, serve_stream

    session = Session(lambda: Predictor.open(model_path, memory_limit), model_path=model_path)
    status = server_status()
    ours = status is not None and same_file(status.get("model_path"), model_path)
    if status is not None and not ours:
        serve_stream(session, infile, outfile)  # closes (saves) the session
        return Relayed(session.errors, session.unsaved, session.save_error)
    # The server counts the records it could not save: compared before and after.
    before = _unsaved_of(status) if status is not None else 0
    args = ["--model", str(model_path)]
    if memory_limit is not None:
        args += ["--memory-limit", memory_limit.argument()]  # bytes, exactly as given
    # The model is the marker: no server is started for a model that is not there.
    connection = relay.Relay(str(socket_path()), str(model_path), once=False,
                             start_args=tuple(args) if start else None)
    errors, unsaved, save_error = 0, 0, None
    try:
        outfile.flush()
        errors = relay.serve(connection, infile.fileno(), outfile.fileno(),
                             fallback=session.handle_bytes)
    except BrokenPipeError:
        pass
    finally:
        connection.close()
        try:
            session.close()
        except (AprenderError, OSError) as error:
            save_error = str(error)
    if errors:
        after = server_status()
        if after is not None and same_file(after.get("model_path"), model_path):
            unsaved = max(0, _unsaved_of(after) - before)
            if unsaved and isinstance(after.get("save_error"), str):
                save_error = after["save_error"]
    unsaved += session.unsaved
    return Relayed(errors, unsaved, session.save_error or save_error)


def _unsaved_of(status: dict[str, Any] | None) -> int:
    count = (status or {}).get("unsaved_records")
    return count if isinstance(count, int) and not isinstance(count, bool) else 0


@dataclass(frozen=True)
class Forgotten:
    """What ``forget_everywhere`` found and removed."""

    commands: Counter[str]  # each matching command of the model files, and how often
    removed: int  # how many commands went, from the files and the running server together
    server_pid: int | None = None  # the server serving the model, when one did
    # Why that server could not be told: it still holds the commands in memory.
    server_error: str | None = None
    # The user's shell history files that still hold matching commands, and how many each.
    in_histories: list[tuple[Path, int]] = field(default_factory=list)


def forget_everywhere(
    model_path: Path, pattern: str, mode: str = "exact", dry_run: bool = False
) -> Forgotten:
    """Forget the commands ``pattern`` matches (``mode``: exact, contains, regex) in the model,
    its corpus and journal, and in the server serving it; a dry run only counts them.

    A running server owns the journal: it is asked to forget what it learned, and when it
    cannot be (gone, or too old to know the request) the journal is cleaned here instead and
    ``server_error`` says why, since the server still holds them in memory. Once they are
    gone, ``in_histories`` lists the user's history files that still hold some.
    """
    from aprender_shell.history.files import histories_holding
    from aprender_shell.model.training.forget import command_matcher, forget, forget_recorded

    matches = command_matcher(pattern, mode)
    server = None if dry_run else serving(model_path)
    result = forget(model_path, matches, dry_run=dry_run, journal=server is None)
    in_server, server_error = 0, None
    if server is not None:
        try:
            in_server = forget_in_server(pattern, mode)
        except AprenderError as error:
            in_server = forget_recorded(model_path, matches)
            server_error = str(error)
    removed = max(result.removed, result.from_corpus + in_server)
    holding = [] if dry_run or not removed else histories_holding(matches)
    return Forgotten(result.commands, removed, server, server_error, holding)

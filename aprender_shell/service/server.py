"""The per-user resident server: one process keeps the model open and answers every shell.

It listens on a Unix socket in the user's private runtime folder (0700; the socket 0600) and
speaks the JSON-lines protocol of ``suggest --batch`` (one ``Session`` for all connections, so
the model is opened once). Other users are turned away by the folder's mode and, on Linux, by
the peer credentials of each connection. What it holds in its runtime folder (the lock, the
socket, the pid file) is ``instance.Instance``'s to take and give back.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import selectors
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from aprender_shell.errors import AprenderError, UsageError
from aprender_shell.paths import ensure_private_dir, runtime_dir
from aprender_shell.service.client import peer_uid
from aprender_shell.service.connections import OUTPUT_HIGH_WATER as OUTPUT_HIGH_WATER
from aprender_shell.service.connections import Connection, Connections
from aprender_shell.service.descriptors import (
    EXHAUSTED,
    Backoff,
    Reserve,
    ThrottledLog,
    client_limit,
    out_of_descriptors_message,
)
from aprender_shell.service.instance import Instance
from aprender_shell.service.orphan import CHECK_INTERVAL
from aprender_shell.service.session import SAVE_INTERVAL, Session

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from typing import IO, Callable, Sequence

    from aprender_shell.model.memory import MemoryLimit
    from aprender_shell.model.query.predictor import Predictor

IDLE_ENV = "APRENDER_SHELL_SERVER_IDLE"
DEFAULT_IDLE_TIMEOUT = 3600.0
# At this many connections, a new one closes the one idle longest: the owner always gets in.
MAX_CLIENTS = 512
# A connection silent this long is closed. Shells reconnect on their next request when they
# find their socket closed, so this only frees what a shell left at a prompt was holding.
DEFAULT_CONNECTION_TIMEOUT = 600.0


def parse_seconds(raw: str) -> float:
    """``raw`` as a positive number of seconds (the idle and connection timeouts, from the
    command line or the environment); ``ValueError`` saying what is wrong otherwise."""
    try:
        value = float(raw.strip())
    except ValueError:
        raise ValueError(f"{raw!r} is not a number of seconds") from None
    if not value > 0:
        raise ValueError(f"{raw!r} must be a positive number of seconds")
    return value


def idle_timeout_from_env(default: float = DEFAULT_IDLE_TIMEOUT) -> float:
    """The idle timeout from ``APRENDER_SHELL_SERVER_IDLE`` (seconds), else ``default``."""
    raw = os.environ.get(IDLE_ENV, "").strip()
    if not raw:
        return default
    try:
        return parse_seconds(raw)
    except ValueError as error:
        raise UsageError(f"{IDLE_ENV}: {error}") from None


class Server(Connections):
    """A selectors loop answering newline-delimited JSON requests on a listening Unix socket."""

    def __init__(
        self,
        session: Session,
        listener: socket.socket,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        log: Callable[[str], None] | None = None,
        max_clients: int = MAX_CLIENTS,
        connection_timeout: float = DEFAULT_CONNECTION_TIMEOUT,
        orphaned: Callable[[], str | None] | None = None,
        check_interval: float = CHECK_INTERVAL,
        chores: Sequence[Callable[[], None]] = (),
    ) -> None:
        super().__init__(session, log)
        self.idle_timeout = idle_timeout
        self.connection_timeout = connection_timeout
        self._listener = listener
        # Each kind of failure at most once a minute: a loop that fails on every pass must not
        # fill the disk with its log.
        self._log_once = ThrottledLog(self._log)
        # Past the descriptor limit every accept fails: cap the clients below it instead.
        self._max_clients = client_limit(max(1, max_clients))
        self._reserve = Reserve()
        self._accept_backoff = Backoff()
        self._listening = True
        self._orphaned = orphaned
        self._chores = chores  # run every check_interval too (folding the journal)
        self._check_interval = check_interval
        self._next_check = time.monotonic() + check_interval
        self._uid = os.getuid()
        self._stop_reason: str | None = None
        self._evictions = 0
        self._wake_read, self._wake_write = os.pipe()
        for fd in (self._wake_read, self._wake_write):
            os.set_blocking(fd, False)
        listener.setblocking(False)
        self._selector.register(listener, selectors.EVENT_READ, "listener")
        self._selector.register(self._wake_read, selectors.EVENT_READ, "wakeup")
        session.status_extras.append(
            lambda: {"connections": self.clients, "evicted_connections": self._evictions}
        )

    def stop(self, reason: str) -> None:
        """Ask the loop to end (safe from a signal handler)."""
        self._stop_reason = reason
        with contextlib.suppress(OSError):
            os.write(self._wake_write, b"\0")

    def install_signal_handlers(self) -> None:
        """End the loop cleanly (saving what was learned) on SIGTERM, SIGINT and SIGHUP."""

        def handler(signum: int, frame: FrameType | None) -> None:
            self.stop(f"signal {signal.Signals(signum).name}")

        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may; an embedding program handles its signals
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, handler)

    def serve_forever(self) -> str:
        """Serve until stopped or idle for ``idle_timeout`` seconds; returns why it ended."""
        self._last_activity = time.monotonic()
        try:
            while self._stop_reason is None:
                self._listen_again_if_due()
                for key, mask in self._selector.select(self._next_timeout()):
                    if key.data == "listener":
                        self._accept()
                    elif key.data == "wakeup":
                        with contextlib.suppress(OSError):
                            os.read(self._wake_read, 512)
                    else:
                        self._service_safely(key.data, mask)
                self._save_if_due()
                self._close_idle_connections()
                self._check_orphaned()
                idle = time.monotonic() - self._last_activity
                if self._stop_reason is None and idle >= self.idle_timeout:
                    self._stop_reason = f"idle for {self.idle_timeout:g} s"
        finally:
            self._close_all()
        return self._stop_reason or "stopped"

    def _next_timeout(self) -> float:
        now = time.monotonic()
        timeout = self._last_activity + self.idle_timeout - now
        due = self.session.save_due_in()
        if due is not None:
            timeout = min(timeout, due)
        oldest = next(iter(self._connections.values()), None)
        if oldest is not None:
            timeout = min(timeout, oldest.last_active + self.connection_timeout - now)
        if self._orphaned is not None or self._chores:
            timeout = min(timeout, self._next_check - now)
        if not self._listening and self._accept_backoff.until is not None:
            timeout = min(timeout, self._accept_backoff.until - now)
        return max(0.0, timeout)

    def _check_orphaned(self) -> None:
        now = time.monotonic()
        if (self._orphaned is None and not self._chores) or now < self._next_check:
            return
        self._next_check = now + self._check_interval
        for chore in self._chores:
            chore()
        reason = self._orphaned() if self._orphaned is not None else None
        if reason is not None:
            self._stop_reason = f"orphaned: {reason}"

    def _save_if_due(self) -> None:
        try:
            self.session.save_if_due()
        except (AprenderError, OSError) as error:
            self._log(f"could not save recorded commands: {error}")

    def _accept(self) -> None:
        while True:
            try:
                sock = self._take()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue  # the client gave up while waiting: take the next one
            except OSError as error:
                # The connection stays in the backlog: pause before the next try, or the loop
                # would find it ready again at once and spin.
                self._log_once(f"accept {error.errno}", f"accept failed: {error}")
                self._pause_accepting()
                return
            self._accept_backoff.succeeded()
            if sock is not None:
                self._admit(sock)

    def _take(self) -> socket.socket | None:
        """The next waiting connection; out of descriptors, the reserved one takes it and the
        longest idle connection is closed to make room (None: refused, with an answer why)."""
        try:
            return self._listener.accept()[0]
        except OSError as error:
            # Linux says EMFILE before looking at the backlog: it may well be empty.
            if error.errno not in EXHAUSTED or not self._reserve.spend():
                raise
        try:
            sock = self._listener.accept()[0]
            if self._connections:
                self._drop(next(iter(self._connections.values())))
                self._evictions += 1
                self._log_once("evicted", f"out of file descriptors at {self.clients + 1} "
                               f"clients: closed the longest idle ({self._evictions} so far)")
                return sock
            answer = {"error": out_of_descriptors_message(OSError(errno.EMFILE, ""))}
            with contextlib.suppress(OSError):
                sock.setblocking(False)
                sock.send(json.dumps(answer).encode() + b"\n")
            sock.close()
            self._log_once("refused", "out of file descriptors with no client to close: "
                           "refused a connection")
            return None
        finally:
            self._reserve.refill()

    def _pause_accepting(self) -> None:
        self._accept_backoff.failed()
        if self._listening:
            self._selector.unregister(self._listener)
            self._listening = False

    def _listen_again_if_due(self) -> None:
        if not self._listening and not self._accept_backoff.waiting():
            self._selector.register(self._listener, selectors.EVENT_READ, "listener")
            self._listening = True

    def _admit(self, sock: socket.socket) -> None:
        uid = peer_uid(sock)
        if uid is not None and uid != self._uid:
            self._log(f"refused a connection from uid {uid}")
            sock.close()
            return
        if len(self._connections) >= self._max_clients:
            # Refusing the newcomer would let idle connections lock the owner out.
            self._drop(next(iter(self._connections.values())))
            self._evictions += 1
            self._log_once("evicted", f"{self._max_clients} clients connected: closed the "
                           f"longest idle ({self._evictions} so far)")
        sock.setblocking(False)
        now = time.monotonic()
        connection = Connection(sock, bytearray(), bytearray(), now)
        self._connections[sock.fileno()] = connection
        self._selector.register(sock, selectors.EVENT_READ, connection)
        self._last_activity = now

    def _close_all(self) -> None:
        for connection in list(self._connections.values()):
            self._drop(connection)
        self._selector.close()
        self._reserve.close()
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)


class Opening:
    """How the server opens its model. The shells' first request waits for the first open,
    which replays what a one-shot process does (the newest ``FOLD_RECORDS`` of the journal);
    ``complete``, a chore, reads the rest of the server's bound once a request was answered
    (up to 4,000 records, several interpreter starts: benchmarks/year). Every later open (after
    a fold, a retrain) reads it all. The user's history_filter is read then too, unless a record
    needed it first: compiling its patterns imports re2 (about 5 ms). The journal is compacted
    then as well (foreign and torn lines out, an old version upgraded: ``compact``), or as the
    server stops if it stops first: reading and re-encoding every record to find it clean cost
    the first answer about a third of an interpreter start at 500 records."""

    def __init__(self, model_path: Path, memory_limit: MemoryLimit | None,
                 log: Callable[[str], None]) -> None:
        self.model_path = model_path
        self.memory_limit = memory_limit
        self.log = log
        self.session: Session | None = None
        self.opens = 0
        self.filter_read = False
        self.checks = 0
        self.compacted = False

    def open(self) -> Predictor:
        from aprender_shell.model.learned.newest import FOLD_RECORDS
        from aprender_shell.model.query.predictor import Predictor

        self.opens += 1
        return Predictor.open(self.model_path, self.memory_limit, resident=True,
                              replay_limit=FOLD_RECORDS if self.opens == 1 else None)

    def complete(self) -> None:
        """Read the journal's older records, once the first request was answered (or a check
        found none: then nobody waits, and a fold past the bound must not wait either)."""
        session = self.session
        self.checks += 1
        if session is None or (not session.requests and self.checks < 2):
            return
        if not self.filter_read:
            self.filter_read = True
            from aprender_shell.history.privacy import report_filter_problems

            report_filter_problems(self.log)  # each bad line, now and after each edit
        if not session.loaded:
            return
        try:
            if session.predictor().replay_cut_short:
                predictor = session.reopen()
                self.log(f"read the journal's {predictor.replayed} unfolded records, after "
                         "answering from the newest")
        except (AprenderError, OSError) as error:
            self.log(f"could not read the rest of the journal: {error}")
        self.compact()

    def compact(self) -> None:
        """Rewrite the journal without foreign or torn lines, once, when the model is open."""
        session = self.session
        if self.compacted or session is None or not session.loaded:
            return
        self.compacted = True
        try:
            session.predictor().compact_journal()
        except (AprenderError, OSError) as error:
            session.save_error = f"could not compact the journal: {error}"
            self.log(session.save_error)


def run_server(
    model_path: Path,
    memory_limit: MemoryLimit | None = None,
    idle_timeout: float | None = None,
    save_interval: float = SAVE_INTERVAL,
    log_stream: IO[str] | None = None,
    connection_timeout: float = DEFAULT_CONNECTION_TIMEOUT,
) -> str:
    """Run the server in this process until it is stopped or idle; returns why it ended.

    Raises ``AlreadyRunningError`` when another server of this user runs.
    """
    from aprender_shell.service.folding import Folder
    from aprender_shell.service.orphan import OrphanWatch

    stream = log_stream if log_stream is not None else sys.stderr

    def log(message: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with contextlib.suppress(OSError, ValueError):
            stream.write(f"{stamp} [{os.getpid()}] {message}\n")
            stream.flush()

    timeout = idle_timeout if idle_timeout is not None else idle_timeout_from_env()
    folder = ensure_private_dir(runtime_dir())  # ours, private, no link: or refused
    instance = Instance(folder)
    instance.acquire()
    try:
        listener = instance.bind()
        opening = Opening(model_path, memory_limit, log)
        session = opening.session = Session(opening.open, model_path=model_path,
                                            save_interval=save_interval)
        watch = OrphanWatch(model_path, instance.socket_path)
        folds = Folder(session, model_path, memory_limit, log)
        from aprender_shell.sync.watch import SyncWatch

        syncs = SyncWatch(model_path, session.predictor, log)
        session.status_extras.append(syncs.status)
        server = Server(session, listener, idle_timeout=timeout, log=log,
                        connection_timeout=connection_timeout, orphaned=watch.check,
                        chores=[opening.complete, folds.poll, syncs.poll])
        # Before anyone can learn our pid: 'server stop' (SIGTERM) must always be a clean exit
        # that saves, never the default action that kills.
        server.install_signal_handlers()
        instance.write_pid()
        # Listening last: whoever can connect also finds the pid file.
        listener.listen(128)
        log(f"serving {model_path} on {instance.socket_path} (idle timeout {timeout:g} s)")
        from aprender_shell.history.privacy import default_gate

        # Each bad history_filter line is logged whenever the file is read: at the first record,
        # or once the first request is answered (Opening.complete), and after each edit.
        default_gate().report = log
        try:
            # Open the model now so the first keystroke does not pay for it.
            session.predictor()
        except Exception as error:  # noqa: BLE001 - reported per request; keep serving
            log(f"model not available yet: {error}")
        try:
            reason = server.serve_forever()
        finally:
            opening.compact()  # when it stops before its first chore
            folds.close()
            syncs.close()
            watch.close()
            try:
                session.close()
            except Exception as error:  # noqa: BLE001 - still remove the socket and pid file
                log(f"could not save recorded commands: {error}")
            listener.close()
        log(f"exiting: {reason}; {session.requests} requests served")
        return reason
    finally:
        instance.release()

"""The per-user resident server: one process keeps the model open and answers every shell.

It listens on a Unix socket in the user's private runtime folder (0700; the socket 0600) and
speaks the JSON-lines protocol of ``suggest --batch`` (one ``Session`` for all connections, so
the model is opened once). Other users are turned away by the folder's mode and, on Linux, by
the peer credentials of each connection. What it holds in its runtime folder (the lock, the
socket, the pid file) is ``instance.Instance``'s to take and give back.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import socket
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Callable

from aprender_shell.errors import AprenderError, UsageError
from aprender_shell.paths import ensure_private_dir, runtime_dir
from aprender_shell.service.client import peer_uid
from aprender_shell.service.instance import Instance
from aprender_shell.service.protocol.schema import MAX_LINE_BYTES
from aprender_shell.service.session import SAVE_INTERVAL, Session

IDLE_ENV = "APRENDER_SHELL_SERVER_IDLE"
DEFAULT_IDLE_TIMEOUT = 3600.0
# A client that stops reading is not read from either once this much output waits for it,
# so what one client can make the server hold is bounded by this plus one read.
OUTPUT_HIGH_WATER = 256 * 1024
READ_SIZE = 65536
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


@dataclass
class _Connection:
    sock: socket.socket
    inbox: bytearray
    outbox: bytearray
    last_active: float
    discarding: bool = False
    closing: bool = False
    dropped: bool = False


def _waiting(connection: _Connection) -> bool:
    """Whether requests wait in the inbox for the client to read what it was sent."""
    return b"\n" in connection.inbox or bool(connection.closing and connection.inbox)


class Server:
    """A selectors loop answering newline-delimited JSON requests on a listening Unix socket."""

    def __init__(
        self,
        session: Session,
        listener: socket.socket,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        log: Callable[[str], None] | None = None,
        max_clients: int = MAX_CLIENTS,
        connection_timeout: float = DEFAULT_CONNECTION_TIMEOUT,
    ) -> None:
        self.session = session
        self.idle_timeout = idle_timeout
        self.connection_timeout = connection_timeout
        self._listener = listener
        self._log = log or (lambda message: None)
        self._max_clients = max(1, max_clients)
        self._selector = selectors.DefaultSelector()
        # Ordered by last activity, longest idle first: eviction and timeouts are O(1).
        self._connections: OrderedDict[int, _Connection] = OrderedDict()
        self._uid = os.getuid()
        self._stop_reason: str | None = None
        self._evictions = 0
        self._last_activity = time.monotonic()
        self._wake_read, self._wake_write = os.pipe()
        for fd in (self._wake_read, self._wake_write):
            os.set_blocking(fd, False)
        listener.setblocking(False)
        self._selector.register(listener, selectors.EVENT_READ, "listener")
        self._selector.register(self._wake_read, selectors.EVENT_READ, "wakeup")
        session.status_extras.append(
            lambda: {"connections": self.clients, "evicted_connections": self._evictions}
        )

    @property
    def clients(self) -> int:
        return len(self._connections)

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
                if time.monotonic() - self._last_activity >= self.idle_timeout:
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
        return max(0.0, timeout)

    def _close_idle_connections(self) -> None:
        deadline = time.monotonic() - self.connection_timeout
        while self._connections:
            oldest = next(iter(self._connections.values()))
            if oldest.last_active > deadline:
                return
            self._drop(oldest)

    def _touch(self, connection: _Connection) -> None:
        connection.last_active = self._last_activity = time.monotonic()
        self._connections.move_to_end(connection.sock.fileno())

    def _save_if_due(self) -> None:
        try:
            self.session.save_if_due()
        except (AprenderError, OSError) as error:
            self._log(f"could not save recorded commands: {error}")

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                # EMFILE and friends: leave the connection in the backlog for later.
                self._log(f"accept failed: {error}")
                return
            uid = peer_uid(sock)
            if uid is not None and uid != self._uid:
                self._log(f"refused a connection from uid {uid}")
                sock.close()
                continue
            if len(self._connections) >= self._max_clients:
                # Refusing the newcomer would let idle connections lock the owner out.
                self._drop(next(iter(self._connections.values())))
                self._evictions += 1
                if self._evictions == 1 or self._evictions % 1000 == 0:
                    self._log(f"{self._max_clients} clients connected: closed the longest "
                              f"idle ({self._evictions} so far)")
            sock.setblocking(False)
            now = time.monotonic()
            connection = _Connection(sock, bytearray(), bytearray(), now)
            self._connections[sock.fileno()] = connection
            self._selector.register(sock, selectors.EVENT_READ, connection)
            self._last_activity = now

    def _service_safely(self, connection: _Connection, mask: int) -> None:
        try:
            self._service(connection, mask)
        except Exception as error:  # noqa: BLE001 - one connection must never end the server
            self._log(f"dropped a connection after an internal error: "
                      f"{type(error).__name__}: {error}")
            self._drop(connection)

    def _service(self, connection: _Connection, mask: int) -> None:
        if mask & selectors.EVENT_READ:
            self._read(connection)
        if not connection.dropped:
            self._flush(connection)

    def _read(self, connection: _Connection) -> None:
        try:
            data = connection.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop(connection)
            return
        if not data:
            # The client is done sending; its last line without a newline still gets an answer.
            connection.closing = True
            self._answer_inbox(connection)
            return
        self._touch(connection)
        connection.inbox += data
        self._answer_inbox(connection)

    def _answer_inbox(self, connection: _Connection) -> None:
        """Answer the complete lines waiting in the inbox while the client's unread output stays
        under the high-water mark; the rest waits until it reads."""
        inbox = connection.inbox
        start = 0
        while len(connection.outbox) <= OUTPUT_HIGH_WATER:
            end = inbox.find(b"\n", start)
            if end < 0:
                break
            if connection.discarding:
                connection.discarding = False
            else:
                self._answer(connection, bytes(inbox[start:end]))
            start = end + 1
        del inbox[:start]
        if len(connection.outbox) > OUTPUT_HIGH_WATER:
            return
        if len(inbox) > MAX_LINE_BYTES + 2:
            if not connection.discarding:
                self._answer(connection, bytes(inbox))  # answers the size error
                connection.discarding = True
            inbox.clear()
        elif connection.closing and inbox:
            if not connection.discarding:
                self._answer(connection, bytes(inbox))
            inbox.clear()

    def _answer(self, connection: _Connection, line: bytes) -> None:
        connection.outbox += self.session.handle_bytes(line) + b"\n"

    def _flush(self, connection: _Connection) -> None:
        outbox = connection.outbox
        while outbox:
            try:
                sent = connection.sock.send(outbox)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self._drop(connection)
                return
            del outbox[:sent]
            if len(outbox) <= OUTPUT_HIGH_WATER and _waiting(connection):
                # Room again: answer what waited for it (the client may never send more).
                self._answer_inbox(connection)
        waiting = _waiting(connection)
        if connection.closing and not outbox and not waiting:
            self._drop(connection)
            return
        events = 0 if connection.closing else selectors.EVENT_READ
        if len(outbox) > OUTPUT_HIGH_WATER or waiting:
            events = 0
        if outbox:
            events |= selectors.EVENT_WRITE
        if events == 0:
            self._drop(connection)
            return
        key = self._selector.get_key(connection.sock)
        if key.events != events:
            self._selector.modify(connection.sock, events, connection)

    def _drop(self, connection: _Connection) -> None:
        if connection.dropped:
            return
        connection.dropped = True
        self._connections.pop(connection.sock.fileno(), None)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(connection.sock)
        connection.sock.close()

    def _close_all(self) -> None:
        for connection in list(self._connections.values()):
            self._drop(connection)
        self._selector.close()
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)


def run_server(
    model_path: Path,
    memory_limit: int | None = None,
    idle_timeout: float | None = None,
    save_interval: float = SAVE_INTERVAL,
    log_stream: IO[str] | None = None,
    connection_timeout: float = DEFAULT_CONNECTION_TIMEOUT,
) -> str:
    """Run the server in this process until it is stopped or idle; returns why it ended.

    Raises ``AlreadyRunningError`` when another server of this user runs.
    """
    from aprender_shell.model.predictor import Predictor

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
        instance.write_pid()
        # Listening last: whoever can connect also finds the pid file.
        listener.listen(128)
        session = Session(
            lambda: Predictor.open(model_path, memory_limit),
            model_path=model_path,
            save_interval=save_interval,
        )
        server = Server(session, listener, idle_timeout=timeout, log=log,
                        connection_timeout=connection_timeout)
        server.install_signal_handlers()
        log(f"serving {model_path} on {instance.socket_path} (idle timeout {timeout:g} s)")
        try:
            # Open the model now so the first keystroke does not pay for it.
            predictor = session.predictor()
        except Exception as error:  # noqa: BLE001 - reported per request; keep serving
            log(f"model not available yet: {error}")
        else:
            try:
                # Foreign and torn lines out, an old version upgraded, while nobody waits.
                predictor.compact_journal()
            except (AprenderError, OSError) as error:
                session.save_error = f"could not compact the journal: {error}"
                log(session.save_error)
        try:
            reason = server.serve_forever()
        finally:
            try:
                session.close()
            except Exception as error:  # noqa: BLE001 - still remove the socket and pid file
                log(f"could not save recorded commands: {error}")
            listener.close()
        log(f"exiting: {reason}; {session.requests} requests served")
        return reason
    finally:
        instance.release()

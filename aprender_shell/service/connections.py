"""The server's connections: request lines in, answers out, a bound on what one client holds."""

from __future__ import annotations

import contextlib
import selectors
import socket
import time
from collections import OrderedDict

from aprender_shell.service.protocol.schema import MAX_LINE_BYTES
from aprender_shell.service.session import Session

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from typing import Callable

# A client that stops reading is not read from either once this much output waits for it,
# so what one client can make the server hold is bounded by this plus one read.
OUTPUT_HIGH_WATER = 256 * 1024
READ_SIZE = 65536


class Connection:
    """One client: what it sent and was not yet answered, and what waits to be sent to it.

    A plain class, not a dataclass: ``dataclasses`` imports ``inspect``, about 10 ms of every
    server start (the shells' first keystroke waits for it)."""

    __slots__ = ("sock", "inbox", "outbox", "last_active", "discarding", "closing", "dropped")

    def __init__(self, sock: socket.socket, inbox: bytearray, outbox: bytearray,
                 last_active: float) -> None:
        self.sock = sock
        self.inbox = inbox
        self.outbox = outbox
        self.last_active = last_active
        self.discarding = False
        self.closing = False
        self.dropped = False


def _waiting(connection: Connection) -> bool:
    """Whether requests wait in the inbox for the client to read what it was sent."""
    return b"\n" in connection.inbox or bool(connection.closing and connection.inbox)


class Connections:
    """The per-connection half of the server: reads request lines, answers them through the
    session and writes the answers back, holding at most ``OUTPUT_HIGH_WATER`` for a client."""

    def __init__(self, session: Session, log: Callable[[str], None] | None = None) -> None:
        self.session = session
        self._log = log or (lambda message: None)
        self._selector = selectors.DefaultSelector()
        # Ordered by last activity, longest idle first: eviction and timeouts are O(1).
        self._connections: OrderedDict[int, Connection] = OrderedDict()
        self._last_activity = time.monotonic()
        self.connection_timeout = float("inf")

    @property
    def clients(self) -> int:
        return len(self._connections)

    def _close_idle_connections(self) -> None:
        deadline = time.monotonic() - self.connection_timeout
        while self._connections:
            oldest = next(iter(self._connections.values()))
            if oldest.last_active > deadline:
                return
            self._drop(oldest)

    def _touch(self, connection: Connection) -> None:
        connection.last_active = self._last_activity = time.monotonic()
        self._connections.move_to_end(connection.sock.fileno())

    def _service_safely(self, connection: Connection, mask: int) -> None:
        try:
            self._service(connection, mask)
        except Exception as error:  # noqa: BLE001 - one connection must never end the server
            self._log(f"dropped a connection after an internal error: "
                      f"{type(error).__name__}: {error}")
            self._drop(connection)

    def _service(self, connection: Connection, mask: int) -> None:
        if mask & selectors.EVENT_READ:
            self._read(connection)
        if not connection.dropped:
            self._flush(connection)

    def _read(self, connection: Connection) -> None:
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

    def _answer_inbox(self, connection: Connection) -> None:
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

    def _answer(self, connection: Connection, line: bytes) -> None:
        connection.outbox += self.session.handle_bytes(line) + b"\n"

    def _flush(self, connection: Connection) -> None:
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

    def _drop(self, connection: Connection) -> None:
        if connection.dropped:
            return
        connection.dropped = True
        self._connections.pop(connection.sock.fileno(), None)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(connection.sock)
        connection.sock.close()


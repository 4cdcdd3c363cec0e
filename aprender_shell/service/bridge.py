"""``aprender-shell server connect``: relay request lines between a pipe and the server.

Bash cannot speak to a Unix socket, so its integration keeps one ``connect`` process per shell
as a coprocess. The relay starts the server when none runs, reconnects once if it goes away,
and answers in-process (its own ``Session``) when no server can be had, so the shell keeps
getting answers either way.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from aprender_shell.errors import AprenderError
from aprender_shell.service.client import Client, ServerUnavailableError, same_file
from aprender_shell.service.protocol import Session, error_line, read_lines

if TYPE_CHECKING:
    from aprender_shell.model.memory import MemoryLimit

START_WAIT = 5.0


class Bridge:
    """Answers request lines through the server, or in-process when there is none."""

    def __init__(
        self,
        model_path: Path,
        memory_limit: MemoryLimit | None = None,
        start_server: bool = True,
        socket_path: Path | None = None,
    ) -> None:
        self.model_path = model_path
        self.memory_limit = memory_limit
        self.start_server = start_server
        self.socket_path = socket_path
        self._remote: Client | None = None
        self._local: Session | None = None
        # Recorded commands that could not be saved, and why: 'connect' then exits 1, as
        # 'suggest --batch' does. The server counts them; we compare before and after.
        self.unsaved = 0
        self.save_error: str | None = None
        self._server_unsaved = 0
        self._record_refused = False

    @property
    def remote(self) -> bool:
        """True while requests go to the server."""
        return self._remote is not None

    def open(self) -> Bridge:
        """Connect to the server (starting it if allowed); fall back to in-process otherwise."""
        self._remote = self._connect()
        if self._remote is None:
            self._go_local()
        return self

    def answer(self, line: bytes) -> bytes:
        """The answer line (no newline) to one request line; never raises for a line."""
        try:
            answer = self._answer(line)
        except Exception as error:  # noqa: BLE001 - the shell's relay must outlive any request
            message = f"internal error: {type(error).__name__}: {error}"
            return error_line(line, message).encode("utf-8", "replace")
        if answer.startswith((b'{"error"', b"error\t")) and b"record" in line:
            self._record_refused = True  # maybe not saved: the server's figures will tell
        return answer

    def _answer(self, line: bytes) -> bytes:
        if self._remote is not None:
            try:
                return self._remote.request_line(line)
            except ServerUnavailableError:
                self._remote.close()
                # The server went away (idle exit, stopped, killed): one fresh try.
                self._remote = self._connect()
                if self._remote is not None:
                    try:
                        return self._remote.request_line(line)
                    except ServerUnavailableError:
                        self._remote.close()
                        self._remote = None
                self._go_local()
        assert self._local is not None
        return self._local.handle_bytes(line)

    def _connect(self) -> Client | None:
        client = self._serving_client()
        if client is None and self.start_server:
            from aprender_shell.service.launcher import start_in_background

            try:
                start_in_background(self.model_path, self.memory_limit, wait=START_WAIT)
            except (AprenderError, OSError):
                return None
            client = self._serving_client()
        return client

    def _serving_client(self) -> Client | None:
        """A connection to a server that serves our model, or None."""
        client = Client(self.socket_path)
        try:
            status = client.request({"status": True}).get("status")
        except ServerUnavailableError:
            client.close()
            return None
        if not isinstance(status, dict) or not same_file(status.get("model_path"), self.model_path):
            client.close()
            return None
        self._server_unsaved = _unsaved_of(status)
        return client

    def _go_local(self) -> None:
        if self._local is None:
            from aprender_shell.model.query.predictor import Predictor

            path, limit = self.model_path, self.memory_limit
            self._local = Session(lambda: Predictor.open(path, limit), model_path=path)

    def close(self) -> None:
        if self._remote is not None:
            if self._record_refused:
                self._count_unsaved(self._remote)
            self._remote.close()
            self._remote = None
        if self._local is not None:
            try:
                self._local.close()
            except (AprenderError, OSError) as error:
                self.save_error = str(error)
            self.unsaved += self._local.unsaved
            self.save_error = self._local.save_error or self.save_error

    def _count_unsaved(self, client: Client) -> None:
        try:
            status = client.request({"status": True}).get("status")
        except ServerUnavailableError:
            return
        if isinstance(status, dict):
            self.unsaved += max(0, _unsaved_of(status) - self._server_unsaved)
            error = status.get("save_error")
            if self.unsaved and isinstance(error, str):
                self.save_error = error

    def __enter__(self) -> Bridge:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _unsaved_of(status: dict[str, Any]) -> int:
    count = status.get("unsaved_records")
    return count if isinstance(count, int) and not isinstance(count, bool) else 0


def relay(bridge: Bridge, infile: IO[Any], outfile: IO[Any]) -> None:
    """Answer each request line of ``infile`` on ``outfile`` (flushed each) until EOF."""
    reader: IO[Any] = getattr(infile, "buffer", None) or infile
    writer: IO[Any] = getattr(outfile, "buffer", None) or outfile
    try:
        for line in read_lines(reader):
            raw = line if isinstance(line, bytes) else line.encode("utf-8", "surrogateescape")
            writer.write(bridge.answer(raw) + b"\n")
            writer.flush()
    except BrokenPipeError:
        pass

"""``aprender-shell server connect``: relay request lines between a pipe and the server.

Bash cannot speak to a Unix socket, so its integration keeps one ``connect`` process per shell
as a coprocess. The relay starts the server when none runs, reconnects once if it goes away,
and answers in-process (its own ``Session``) when no server can be had, so the shell keeps
getting answers either way.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from aprender_shell.errors import AprenderError
from aprender_shell.service.client import Client, ServerUnavailableError, same_file
from aprender_shell.service.protocol.json_form import error_line
from aprender_shell.service.session import Session, read_lines

START_WAIT = 5.0


class Bridge:
    """Answers request lines through the server, or in-process when there is none."""

    def __init__(
        self,
        model_path: Path,
        memory_limit: int | None = None,
        start_server: bool = True,
        socket_path: Path | None = None,
    ) -> None:
        self.model_path = model_path
        self.memory_limit = memory_limit
        self.start_server = start_server
        self.socket_path = socket_path
        self._remote: Client | None = None
        self._local: Session | None = None

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
            return self._answer(line)
        except Exception as error:  # noqa: BLE001 - the shell's relay must outlive any request
            message = f"internal error: {type(error).__name__}: {error}"
            return error_line(line, message).encode("utf-8", "replace")

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
        return client

    def _go_local(self) -> None:
        if self._local is None:
            from aprender_shell.model.predictor import Predictor

            path, limit = self.model_path, self.memory_limit
            self._local = Session(lambda: Predictor.open(path, limit), model_path=path)

    def close(self) -> None:
        if self._remote is not None:
            self._remote.close()
            self._remote = None
        if self._local is not None:
            self._local.close()

    def __enter__(self) -> Bridge:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()


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

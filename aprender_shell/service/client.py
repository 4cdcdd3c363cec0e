"""Talking to the resident server over its Unix socket (imports kept light: no model code)."""

from __future__ import annotations

import json
import os
import socket
import struct
from pathlib import Path

from aprender_shell.errors import AprenderError

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from typing import Any

    from aprender_shell.model.query.stats import ModelStats

MAX_ANSWER_BYTES = 16 * 1024 * 1024
DEFAULT_TIMEOUT = 5.0


class ServerUnavailableError(AprenderError):
    """No server answers on the socket, or it hung up mid-request."""


class FolderRefusedError(ServerUnavailableError):
    """The socket's folder could be controlled by another account: not connected."""


def default_socket_path() -> Path:
    from aprender_shell.paths import socket_path

    return socket_path()


class Client:
    """One connection to the server; ``request`` sends a JSON object and returns the answer."""

    def __init__(
        self, socket_path: Path | None = None, timeout: float | None = DEFAULT_TIMEOUT
    ) -> None:
        self.socket_path = Path(socket_path) if socket_path is not None else default_socket_path()
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._reader: Any = None
        self.peer_pid: int | None = None

    def connect(self) -> Client:
        """Connect now (``request`` connects on first use otherwise)."""
        if self._sock is not None:
            return self
        from aprender_shell.paths import UnsafeFolderError, check_private_dir

        try:
            # Whoever controls the folder could swap in a socket of ours they got hold of.
            check_private_dir(self.socket_path.parent)
        except UnsafeFolderError as error:
            raise FolderRefusedError(str(error)) from None
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(str(self.socket_path))
        except OSError as error:
            sock.close()
            reason = error.strerror or error
            raise ServerUnavailableError(
                f"no aprender-shell server answers on {self.socket_path} ({reason})"
            ) from error
        credentials = peer_credentials(sock)
        uid = credentials[1] if credentials is not None else None
        if uid is not None and uid != os.getuid():
            sock.close()
            raise ServerUnavailableError(
                f"the server on {self.socket_path} runs as uid {uid}, not as you: not using it"
            )
        self._sock = sock
        # The kernel's word on which process answers: what 'stop' signals, never a pid it says.
        self.peer_pid = credentials[0] if credentials is not None else None
        self._reader = sock.makefile("rb")
        return self

    def request_line(self, line: bytes) -> bytes:
        """Send one raw request line; return the raw answer line (without its newline)."""
        self.connect()
        assert self._sock is not None
        try:
            self._sock.sendall(line.rstrip(b"\n") + b"\n")
            answer: bytes = self._reader.readline(MAX_ANSWER_BYTES)
        except OSError as error:
            self.close()
            raise ServerUnavailableError(f"the aprender-shell server hung up ({error})") from error
        if not answer.endswith(b"\n"):
            self.close()
            raise ServerUnavailableError("the aprender-shell server hung up before answering")
        return answer[:-1]

    def request(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send ``request``; return the server's answer (which may be ``{"error": ...}``)."""
        # ASCII: a lone surrogate in a caller's text travels as a \uXXXX escape, never raises.
        line = json.dumps(request, separators=(",", ":")).encode("ascii")
        answer = self.request_line(line)
        try:
            decoded = json.loads(answer)
        except ValueError as error:
            self.close()
            raise ServerUnavailableError(f"the server's answer is not JSON ({error})") from error
        if not isinstance(decoded, dict):
            self.close()
            raise ServerUnavailableError("the server's answer is not a JSON object")
        return decoded

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a Unix socket (Linux), else None."""
    credentials = peer_credentials(sock)
    return credentials[1] if credentials is not None else None


def peer_credentials(sock: socket.socket) -> tuple[int, int] | None:
    """The pid and uid of the process at the other end of a Unix socket (Linux), else None."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    try:
        data = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    except OSError:
        return None
    pid, uid, _gid = struct.unpack("3i", data)
    return int(pid), int(uid)


def server_status(socket_path: Path | None = None, timeout: float = 2.0) -> dict[str, Any] | None:
    """The running server's ``status`` figures, or None when no server answers."""
    answered = answering_server(socket_path, timeout)
    return answered[0] if answered is not None else None


def answering_server(
    socket_path: Path | None = None, timeout: float = 2.0
) -> tuple[dict[str, Any], int | None] | None:
    """The running server's ``status`` figures and its pid as the kernel gives it (None where
    it cannot), or None when no server answers."""
    try:
        with Client(socket_path, timeout=timeout) as client:
            answer = client.request({"status": True})
            peer = client.peer_pid
    except ServerUnavailableError:
        return None
    status = answer.get("status")
    return (status, peer) if isinstance(status, dict) else None


def server_model_stats(model_path: Path, socket_path: Path | None = None) -> ModelStats | None:
    """The running server's figures for ``model_path``; None if no server runs or it serves
    another model (or cannot open its own)."""
    client = Client(socket_path, timeout=2.0)
    if not client.socket_path.exists():
        return None
    try:
        with client:
            answer = client.request({"stats": True})
    except ServerUnavailableError:
        return None
    stats = answer.get("stats")
    if not isinstance(stats, dict) or not same_file(stats.get("model_path"), model_path):
        return None
    from aprender_shell.model.query.stats import ModelStats

    fields = dict(stats)
    fields["model_path"] = Path(str(fields["model_path"]))
    try:
        fields["top_commands"] = [(str(t), int(n)) for t, n in fields.get("top_commands", [])]
        return ModelStats(**fields)
    except (TypeError, ValueError):
        return None  # a server of another version, with other fields


def same_file(served: object, wanted: Path) -> bool:
    """True when the path a server reports names the file ``wanted``."""
    if not isinstance(served, str):
        return False
    try:
        return os.path.samefile(served, wanted)
    except OSError:
        return Path(served).absolute() == Path(wanted).absolute()

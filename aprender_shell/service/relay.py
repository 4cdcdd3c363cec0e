"""The relay between a shell that cannot open a Unix socket (bash, fish) and the server.

Run as ``python3 -I -S relay.py --stamp STAMP [--once] SOCKET MARKER`` (all three paths given
by ``init``, from ``paths``). It imports only ``os``, ``sys``, ``time`` and the C socket module
``_socket`` (not ``socket``, whose import of ``enum`` and ``selectors`` takes longer than the
rest of the relay; no click, nothing of this package), so it starts in a few milliseconds and
holds about half the memory of a full ``aprender-shell`` process: it is what each bash shell
keeps running, and what fish runs once per use.

It passes request lines from stdin to the server and answers to stdout, exactly one answer
line per request line (``error TAB TAB message`` when no server can be had), flushed each.
When no server answers it starts one, unless ``MARKER`` is gone: ``uninstall`` deletes that
file, and from then on open shells start nothing. ``--once`` (fish, one process per use)
answers what stdin holds and exits; without it (bash's coprocess) it serves until stdin ends.

``aprender-shell server connect`` runs the same relay in its own process, for tools: it names
the model the server it starts should serve, and answers in-process (``fallback``) whenever no
server can be had.
"""

from __future__ import annotations

import _socket
import os
import sys
import time

TYPE_CHECKING = False  # not typing's: importing typing would slow every relay's start
if TYPE_CHECKING:
    from typing import Callable

START_WAIT = 5.0  # seconds a relay waits for a server it started
ONCE_START_WAIT = 2.0  # fish's (--once) wait: APRENDER_SHELL_FISH_TIMEOUT, as bash's read -t
START_EVERY = 10.0  # seconds between two attempts to start a server
ANSWER_TIMEOUT = 5.0
MAX_ANSWER = 1 << 20
NO_SERVER = b"error\t\tno aprender-shell server"
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Relay:
    """One connection to the server, made (and the server started) when first needed."""

    def __init__(
        self, socket_path: str, marker: str, once: bool, stamp: str = "",
        start_args: tuple[str, ...] | None = (),
    ) -> None:
        self.socket_path = socket_path
        self.marker = marker
        self.once = once
        # When a one-shot relay last started a server (paths.relay_stamp_path(), given by init).
        self.stamp = stamp
        # What 'server start' is told (the model to serve); None: never start a server.
        self.start_args = start_args
        self.sock: _socket.socket | None = None
        self.buffer = b""
        self.last_start = -START_EVERY
        self.children: list[int] = []
        self.start_wait = ONCE_START_WAIT if once else START_WAIT
        self.answer_timeout = ANSWER_TIMEOUT

    def folder_ours(self) -> bool:
        """Whether the socket's folder is ours, as ``aprender_shell.paths`` requires (this
        relay imports nothing of the package): checked before each connect or start."""
        return unsafe_folder(os.path.dirname(os.path.abspath(self.socket_path))) is None

    def installed(self) -> bool:
        """Whether the integration is still installed (uninstall removes the marker)."""
        return os.path.exists(self.marker)

    def connect(self) -> bool:
        """Connect to a server of our own user; False when none answers."""
        if self.sock is not None:
            return True
        if not self.folder_ours():
            return False
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        sock.settimeout(self.answer_timeout)
        try:
            sock.connect(self.socket_path)
            peer = getattr(_socket, "SO_PEERCRED", None)
            if peer is not None:
                # struct ucred: pid, uid, gid as native ints.
                credentials = sock.getsockopt(_socket.SOL_SOCKET, peer, 12)
                if int.from_bytes(credentials[4:8], sys.byteorder) != os.getuid():
                    raise OSError("the server runs as another user")
        except OSError:
            sock.close()
            return False
        self.sock, self.buffer = sock, b""
        return True

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def start_server(self) -> bool:
        """Start a server in the background (if allowed now); True once one answers."""
        now = time.monotonic()
        if self.start_args is None:
            return False
        if (now - self.last_start < START_EVERY or not self.folder_ours()
                or not self.may_start_now()):
            return False
        self.last_start = now
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            part for part in (PACKAGE_ROOT, environment.get("PYTHONPATH", "")) if part
        )
        devnull = os.open(os.devnull, os.O_RDWR)
        try:
            pid = os.posix_spawn(
                sys.executable,
                [sys.executable, "-m", "aprender_shell", "server", "start", *self.start_args],
                environment, setsid=True,
                file_actions=[(os.POSIX_SPAWN_DUP2, devnull, fd) for fd in (0, 1, 2)],
            )
        except OSError:
            return False
        finally:
            os.close(devnull)
        self.children.append(pid)
        deadline = now + self.start_wait
        while time.monotonic() < deadline:
            self.reap()
            if self.connect():
                return True
            time.sleep(0.02)
        return False

    def may_start_now(self) -> bool:
        """False when another one-shot relay started a server in the last few seconds.

        One-shot relays keep no memory between runs, so they leave a stamp beside the socket.
        """
        if not self.once or not self.stamp:
            return True
        stamp = self.stamp
        try:
            if time.time() - os.stat(stamp).st_mtime < START_EVERY:
                return False
        except OSError:
            pass
        try:
            fd = os.open(stamp, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            os.close(fd)
            os.utime(stamp)
        except OSError:
            pass  # no runtime folder yet: the server makes it
        return True

    def reap(self) -> None:
        for pid in list(self.children):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                self.children.remove(pid)

    def ask(self, line: bytes) -> bytes | None:
        """The server's answer to ``line``; None when no server can be had."""
        for attempt in range(2):
            if not self.connect() and (not self.installed() or not self.start_server()):
                return None
            assert self.sock is not None
            try:
                self.sock.sendall(line + b"\n")
                answer = self.read_answer()
            except OSError:
                answer = None
            if answer is not None:
                return answer
            # The server went away (idle exit, stopped, killed): one fresh try.
            self.close()
            if attempt == 0 and not self.installed():
                return None
        return None

    def read_answer(self) -> bytes | None:
        assert self.sock is not None
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk or len(self.buffer) > MAX_ANSWER:
                return None
            self.buffer += chunk
        answer, self.buffer = self.buffer.split(b"\n", 1)
        return answer


def unsafe_folder(folder: str) -> str | None:
    """Why another account could control ``folder`` (a link, not a folder, not ours, or inside
    a folder neither ours nor root's, or writable by all without the sticky bit); None if
    it cannot, or does not exist yet (whoever makes it checks it)."""
    me = os.geteuid()
    parts = folder.split("/")
    for depth in range(1, len(parts)):
        above = "/".join(parts[:depth]) or "/"
        try:
            info = os.stat(above)
        except OSError:
            return None
        if info.st_uid not in (me, 0):
            return f"{above} belongs to uid {info.st_uid}"
        if info.st_mode & 0o002 and not info.st_mode & 0o1000:
            return f"{above} is writable by every user"
    try:
        info = os.lstat(folder)
    except OSError:
        return None
    if (info.st_mode & 0o170000) != 0o040000:
        return f"{folder} is not a folder"
    if info.st_uid != me:
        return f"{folder} belongs to uid {info.st_uid}"
    return None


def serve(
    relay: Relay, stdin: int, stdout: int,
    fallback: Callable[[bytes], bytes] | None = None,
) -> int:
    """Answer every request line of ``stdin`` on ``stdout`` until it ends (a last line without
    its newline too); returns how many answers were errors.

    When no server can be had, ``fallback`` answers the line if given; otherwise the answer is
    an error, or nothing at all once the integration is uninstalled. Once nobody reads
    ``stdout`` (the shell exited), the lines it wrote before going are still sent, unanswered:
    the last command run and what became of its suggestions.
    """
    pending = b""
    errors = 0
    reader_gone = False
    while True:
        try:
            chunk = os.read(stdin, 65536)
        except InterruptedError:
            continue
        if chunk:
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
        else:
            lines = [pending] if pending else []
        for line in lines:
            answer = relay.ask(line)
            if answer is None and fallback is not None:
                answer = fallback(line)
            elif answer is None:
                if not relay.installed():
                    return errors  # uninstalled: the shell sees the relay gone, stays quiet
                answer = NO_SERVER
            errors += answer.startswith((b"error\t", b'{"error"'))
            if reader_gone:
                continue
            try:
                _write_all(stdout, answer + b"\n")
            except BrokenPipeError:
                reader_gone = True
        if not chunk:
            return errors


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


def main(argv: list[str]) -> int:
    args = list(argv)
    stamp = ""
    if args[:1] == ["--stamp"] and len(args) > 1:
        stamp, args = args[1], args[2:]
    once = args[:1] == ["--once"]
    if once:
        args = args[1:]
    if len(args) != 2:
        sys.stderr.write("usage: relay.py [--stamp STAMP] [--once] SOCKET MARKER\n")
        return 2
    relay = Relay(args[0], args[1], once, stamp)
    if once:
        # fish's first key starts the server; on a loaded machine that can take longer than
        # the default wait, after which the key fills nothing (bash's is its read -t).
        setting = os.environ.get("APRENDER_SHELL_FISH_TIMEOUT", "")
        if setting:
            try:
                wait = float(setting)
                if not 0 < wait < float("inf"):
                    raise ValueError(setting)
            except ValueError:
                sys.stderr.write(
                    f"APRENDER_SHELL_FISH_TIMEOUT is {setting!r}: set it to a number of"
                    " seconds above 0, or unset it for the default of 2\n"
                )
                return 2
            relay.start_wait = wait
            relay.answer_timeout = max(ANSWER_TIMEOUT, wait)
    try:
        serve(relay, sys.stdin.fileno(), sys.stdout.fileno())
    except (BrokenPipeError, KeyboardInterrupt):
        pass
    finally:
        relay.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

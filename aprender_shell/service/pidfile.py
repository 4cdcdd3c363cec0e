"""The server's pid file, and the check that a pid in it still names the server that wrote it.

The file's first line is the pid alone (what older versions wrote and scripts read); on Linux
two more lines record the process's start time (clock ticks after boot, field 22 of
``/proc/PID/stat``) and its command line. A pid is signalled only when the process now
running under it is ours and has that same start time and command line: a pid reused after a
crash, or one another account wrote, names some other process and is left alone.
"""

from __future__ import annotations

import os
from pathlib import Path

from aprender_shell.errors import AprenderError
from aprender_shell.model.tuples import NamedTuple

PROC = Path("/proc")
# A command line holds the model's path; paths are at most 4096 bytes, hex doubles them.
MAX_PID_FILE = 64 * 1024


# NamedTuples, not dataclasses: ``dataclasses`` imports ``inspect``, about 10 ms of a server's
# start, which the shells' first keystroke waits for.
class PidRecord(NamedTuple):
    """What a server wrote about itself: its pid and, where /proc exists, who it is."""

    pid: int
    start: int | None = None
    cmdline: bytes | None = None


class ProcessIdentity(NamedTuple):
    """Who runs under a pid now, from /proc."""

    uid: int
    start: int
    cmdline: bytes


def process_identity(pid: int) -> ProcessIdentity | None:
    """The owner, start time and command line of process ``pid``; None if it is gone or
    /proc cannot say."""
    folder = PROC / str(pid)
    try:
        uid = os.stat(folder).st_uid
        with open(folder / "stat", "rb") as handle:
            # The name in parentheses may hold spaces and ')': fields are counted after the last.
            fields = handle.read().rsplit(b")", 1)[1].split()
        with open(folder / "cmdline", "rb") as handle:
            cmdline = handle.read(MAX_PID_FILE)
        return ProcessIdentity(uid, int(fields[19]), cmdline)
    except (OSError, IndexError, ValueError):
        return None


def record_bytes() -> bytes:
    """The pid file's content for this process."""
    me = process_identity(os.getpid())
    if me is None:
        return f"{os.getpid()}\n".encode("ascii")
    return f"{os.getpid()}\nstart {me.start}\ncmdline {me.cmdline.hex()}\n".encode("ascii")


def read_record(path: Path) -> PidRecord | None:
    """The pid file at ``path``, or None when there is no readable one."""
    from aprender_shell.fileio import read_regular

    try:
        lines = read_regular(path, limit=MAX_PID_FILE).decode("ascii").splitlines()
        pid = int(lines[0].strip())
        fields = dict(line.split(" ", 1) for line in lines[1:] if " " in line)
        start = int(fields["start"]) if "start" in fields else None
        cmdline = bytes.fromhex(fields["cmdline"]) if "cmdline" in fields else None
    except (OSError, AprenderError, ValueError, UnicodeDecodeError, IndexError):
        return None
    return PidRecord(pid, start, cmdline) if pid > 0 else None


def is_our_server(pid: int, record: PidRecord | None) -> bool:
    """Whether ``pid`` runs, as us, the very server that wrote ``record``.

    Without /proc (not Linux) only the pid written in our private folder can be compared.
    A record of an older version (the pid alone) is accepted for a process of ours whose
    command line runs the aprender-shell server.
    """
    if record is None or record.pid != pid:
        return False
    if not PROC.is_dir():
        return True
    now = process_identity(pid)
    if now is None or now.uid != os.geteuid():
        return False
    if record.start is None or record.cmdline is None:
        return runs_our_server(now.cmdline)
    return now.start == record.start and now.cmdline == record.cmdline


def runs_our_server(cmdline: bytes) -> bool:
    """Whether a process's command line (NUL-separated) runs ``aprender_shell server run``."""
    words = cmdline.split(b"\0")
    return b"aprender_shell" in words and b"server" in words and b"run" in words


def is_server_process(pid: int) -> bool:
    """Whether ``pid`` is a process of ours running the aprender-shell server.

    For a pid the kernel gave as a socket's peer: the socket is in our private folder, but
    any process of ours could listen there (a test's stand-in, a tool); only a server is
    signalled. Without /proc nothing more can be checked.
    """
    if not PROC.is_dir():
        return True
    now = process_identity(pid)
    return now is not None and now.uid == os.geteuid() and runs_our_server(now.cmdline)

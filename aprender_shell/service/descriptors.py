"""What keeps the server standing when the process runs out of file descriptors.

Under a low ``ulimit -n`` every ``accept`` fails with EMFILE while the pending connection stays
in the backlog, so a loop that only logs and retries spins at 100% of a core and writes its log
as fast as the disk takes it. These pieces turn that into: a bounded number of clients, a spare
descriptor to let the owner in, a pause before the next try, and one log line per interval.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import time

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from typing import Callable

# Descriptors the server needs besides its clients: stdio, the listener, the lock, the wakeup
# pipe, the selector, the model's files, the journal, the reserve, and a few for a reload.
SPARE_DESCRIPTORS = 24
# Out of descriptors: of the process (EMFILE) or of the whole system (ENFILE).
EXHAUSTED = frozenset({errno.EMFILE, errno.ENFILE})
LOG_INTERVAL = 60.0
BACKOFF_FIRST = 0.05
BACKOFF_MAX = 1.0


def client_limit(wanted: int) -> int:
    """How many client connections fit under this process's descriptor limit (at least 1)."""
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return wanted
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, int(soft) - SPARE_DESCRIPTORS))


def out_of_descriptors_message(error: OSError) -> str:
    """One line for a request that failed for lack of descriptors: what, and what to do."""
    if error.errno == errno.ENFILE:
        return ("the system ran out of file descriptors: close some programs, then try again "
                "(or raise the system limit, fs.file-max)")
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        soft = resource.RLIM_INFINITY
    limit = "" if soft == resource.RLIM_INFINITY else f" (ulimit -n is {soft})"
    return (f"out of file descriptors{limit}: raise 'ulimit -n', then restart the server under "
            "it ('aprender-shell server stop'; the shells start it again)")


class Reserve:
    """One descriptor held open on /dev/null, handed back when the process runs out, so one
    more connection can still be accepted (and the longest idle one closed)."""

    def __init__(self) -> None:
        self._fd: int | None = None
        self.refill()

    @property
    def held(self) -> bool:
        return self._fd is not None

    def refill(self) -> None:
        if self._fd is None:
            with contextlib.suppress(OSError):
                self._fd = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)

    def spend(self) -> bool:
        """Close the reserved descriptor; False when there was none to give."""
        if self._fd is None:
            return False
        with contextlib.suppress(OSError):
            os.close(self._fd)
        self._fd = None
        return True

    def close(self) -> None:
        self.spend()


class Backoff:
    """A pause that doubles with each consecutive failure, from ``first`` up to ``most``."""

    def __init__(self, first: float = BACKOFF_FIRST, most: float = BACKOFF_MAX,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._first, self._most, self._clock = first, most, clock
        self._pause = 0.0
        self.until: float | None = None

    def failed(self) -> None:
        self._pause = min(self._most, self._pause * 2 if self._pause else self._first)
        self.until = self._clock() + self._pause

    def succeeded(self) -> None:
        self._pause = 0.0
        self.until = None

    def waiting(self) -> bool:
        return self.until is not None and self._clock() < self.until


class ThrottledLog:
    """Writes each kind of message at most once per ``interval``, saying how many it held back."""

    def __init__(self, write: Callable[[str], None], interval: float = LOG_INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._write, self._interval, self._clock = write, interval, clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def __call__(self, kind: str, message: str) -> None:
        now = self._clock()
        last = self._last.get(kind)
        if last is not None and now - last < self._interval:
            self._held[kind] = self._held.get(kind, 0) + 1
            return
        held = self._held.pop(kind, 0)
        if held and last is not None:
            message += f" ({held} more like it in the last {now - last:.0f} s not logged)"
        self._last[kind] = now
        self._write(message)

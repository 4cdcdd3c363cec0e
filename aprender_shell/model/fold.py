"""Folding: what the shells taught the server goes into the model's segments by itself.

Every process that opens the model replays the journal's unfolded records into its overlay,
so a cold ``suggest`` costs what is unfolded. Past ``FOLD_RECORDS`` the server starts a fold
in a child process (``python -m aprender_shell.model.fold``: the server's memory and GIL stay
with the shells), which is ``update``'s compaction (model/update.py) under the writer lock:
the model retrained on its corpus plus the journal, put in place with the journal cut to what
was appended meanwhile. A process that opens a model whose journal is past the bound (no
server folded it) replays only the newest ``FOLD_RECORDS`` of it (``newest_records``): the
answers miss the older unfolded records until the next fold, but a keystroke never pays for
a retrain, and nothing is lost: the file keeps them.

The swap happens in three steps under the journal's lock, any of which a ``kill -9`` may cut
short: the journal is rewritten with a mark (``folded_into``: the new model's generation and
how many of its records that model holds), the new model is put in place, and the journal is
cut to the records after them. A model that finds a journal marked for it reads only the
records past the mark, so no acknowledged record is lost or counted twice at any step.
"""

from __future__ import annotations

import contextlib
import os
from collections import deque
from pathlib import Path

from aprender_shell.fileio import open_regular_fd
from aprender_shell.model.journal import (
    Journal,
    JournalError,
    JournalState,
    Record,
    _first_line,
    _parse,
    _parse_header,
    _record,
)

# Unfolded records past which the server folds, and the most any process replays. Measured
# (README, "Live learning folds by itself"): opening a model pays 12 to 35 us per replayed
# record, so 500 cost at most about one interpreter start more, while a fold retrains (seconds
# for a typical history, in a child process) about once a day of a busy user's commands.
FOLD_RECORDS = 500
# A test names a step here to have the fold kill itself (SIGKILL) there: see ``step``.
KILL_AT_ENV = "APRENDER_SHELL_FOLD_KILL_AT"
STEPS = ("locked", "staged", "marked", "swapped", "cut")
_TAIL_CHUNK = 1 << 16


def step(name: str) -> None:
    """A step of a fold (``STEPS``); dies by ``kill -9`` there when the test hook asks."""
    if os.environ.get(KILL_AT_ENV) == name:
        import signal  # not on a cold suggest's path

        os.kill(os.getpid(), signal.SIGKILL)


def newest_records(journal: Journal, limit: int = FOLD_RECORDS) -> tuple[list[Record], bool]:
    """The newest ``limit`` records of ``journal``, oldest first, and whether it holds more.

    Reads the file from its end, so the cost follows ``limit``, not the file's size.
    """
    try:
        fd = open_regular_fd(journal.path, "the journal")
    except (FileNotFoundError, NotADirectoryError):
        return [], False
    except OSError as error:
        raise JournalError(
            f"cannot read the journal {journal.path}: {error.strerror or error}"
        ) from None
    with os.fdopen(fd, "rb", 1 << 16) as handle:
        st = os.fstat(fd)
        journal.identity = (st.st_dev, st.st_ino)
        header = _parse_header(_first_line(fd), journal.path)
        if header is None or header.get("generation") != journal.generation:
            # Version 0, another generation's, or marked by a fold cut short: read it whole.
            kept: deque[Record] = deque(maxlen=limit + 1)
            kept.extend(_parse(handle, journal.generation, journal.path, JournalState()))
            more = len(kept) > limit
            return list(kept)[-limit:] if limit else [], more
        tail, at_start = _tail_lines(fd, st.st_size, limit)
    # The header, if reached, is no record: _record skips it.
    records = [r for r in (_record(raw, journal.generation, False) for raw in tail) if r]
    return records[-limit:] if limit else [], not at_start or len(records) > limit


def _tail_lines(fd: int, size: int, limit: int) -> tuple[list[bytes], bool]:
    """The last ``limit + 1`` complete lines before ``size``, and whether they reach the
    file's start (then the first of them is the header)."""
    data = b""
    position = size
    while position > 0 and data.count(b"\n") <= limit + 1:
        start = max(0, position - _TAIL_CHUNK)
        data = os.pread(fd, position - start, start) + data
        position = start
    data = data[: data.rfind(b"\n") + 1]  # without a torn last line
    lines = data.splitlines(keepends=True)
    if position > 0:
        lines = lines[1:]  # the first may be a part of a line
    return lines[-(limit + 1):], position == 0 and len(lines) <= limit + 1


def fold(model_path: Path, memory_limit: int | None = None) -> int:
    """Fold the journal of the model at ``model_path`` into it; returns the records folded
    (0: nothing to fold, or another writer changed the journal meanwhile)."""
    from aprender_shell.model.update import _index_of, compact
    from aprender_shell.model.writer import writer

    with writer(model_path) as w:
        step("locked")
        index = _index_of(model_path)
        journal = Journal(model_path, index.generation)
        unfolded = len(journal.read().records)
        if not unfolded:
            return 0
        report = compact(w, index, journal, memory_limit, None)
        return unfolded if report is not None else 0


def main(argv: list[str]) -> int:
    """``python -m aprender_shell.model.fold MODEL [MEMORY_LIMIT]``: the server's child."""
    from aprender_shell.errors import AprenderError

    if len(argv) not in (1, 2):
        print("usage: python -m aprender_shell.model.fold MODEL [MEMORY_LIMIT]")
        return 2
    with contextlib.suppress(OSError):
        os.nice(10)  # background work: the server answering the shells comes first
    try:
        folded = fold(Path(argv[0]), int(argv[1]) if len(argv) == 2 else None)
    except (AprenderError, OSError) as error:
        print(f"fold failed: {error}")
        return 1
    print(f"folded {folded} records")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))

"""The bounds on what an open replays and on what the server lets pile up unfolded.

Every process that opens the model replays the journal's unfolded records into its overlay,
so a cold ``suggest`` costs what is unfolded. The server folds the journal into the model
(model/training/fold.py) once it passes ``fold_bound`` (a share of the model, at least
``FOLD_RECORDS``, at most ``FOLD_CEILING``), and replays up to that bound when it starts (the
newest ``FOLD_RECORDS`` before its first answer, the rest right after: service/server.py). A
one-shot process replays only the newest ``FOLD_RECORDS``, read from the file's end: its
answers miss older unfolded records until the next fold, but a keystroke never pays for more,
and nothing is lost: the file keeps them.
"""

from __future__ import annotations

import os
from collections import deque

from aprender_shell.fileio import open_regular_fd
from aprender_shell.model.learned.journal import Journal
from aprender_shell.model.learned.journal_lines import (
    JournalError,
    JournalState,
    Record,
    first_line,
    parse,
    parse_header,
    record_of,
)

# The most a one-shot process (a cold ``suggest``, ``stats``) replays, and the least the server
# lets pile up before it folds. Measured (README, "Folding by itself"): opening a model pays
# 12 to 35 us per replayed record, so 500 cost at most about one interpreter start more.
FOLD_RECORDS = 500
# A fold retrains the whole model, so folding every 500 records would cost a year of use the
# square of its commands. The server lets the unfolded part grow to a share of what the model
# holds (one tenth: total fold work stays linear, a geometric series), up to a ceiling that
# bounds what a server start replays and what the journal holds on disk (measured:
# ``python -m benchmarks.year``, README "A year of use").
FOLD_SHARE = 10
FOLD_CEILING = 4000
_TAIL_CHUNK = 1 << 16


def fold_bound(model_commands: int, floor: int = FOLD_RECORDS) -> int:
    """Unfolded records past which the server folds its journal into a model trained on
    ``model_commands`` commands (and the most a server replays when it opens it)."""
    return min(FOLD_CEILING, max(floor, model_commands // FOLD_SHARE))


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
        header = parse_header(first_line(fd), journal.path)
        if header is None or header.get("generation") != journal.generation:
            # Version 0, another generation's, or marked by a fold cut short: read it whole.
            kept: deque[Record] = deque(maxlen=limit + 1)
            kept.extend(parse(handle, journal.generation, journal.path, JournalState()))
            more = len(kept) > limit
            return list(kept)[-limit:] if limit else [], more
        tail, at_start = _tail_lines(fd, st.st_size, limit)
    # The header, if reached, is no record: record_of skips it.
    records = [r for r in (record_of(raw, journal.generation, False) for raw in tail) if r]
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

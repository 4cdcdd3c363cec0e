"""What a journal file's lines say: the header (version, generation, history marks, a fold's
mark) and the records, read the same way by every reader (see journal.py for the file).

A fold (model/training/fold.py) may leave the header marked ``"folded_into"`` and
``"folded"``: the first ``folded`` records are in that newer model, which owns the records
after them (the fold was killed before it cut the file).

The header's ``"unseen"`` lists the live records a fold put in the model before any history
file showed them (``{"c": ..., "t": ...}``, newest last, at most ``UNSEEN_BYTES``): ``update``
reconciles the history lines the shells write later with them, as with the records still in
the journal, so a command run once is learned once. A marked header's ``"unseen_into"`` is
that list for the model it was folded into.
"""

from __future__ import annotations

import os

from aprender_shell.bundle.jsontext import loads
from aprender_shell.errors import AprenderError
from aprender_shell.fileio import FileIdentity, identity_of

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

JOURNAL_VERSION = 1
# Reading stops at a line this long: no record the protocol accepts is near it.
MAX_LINE_BYTES = 256 * 1024
# The most the header's "unseen" list holds (its newest entries): every open reads the header,
# and a day of a busy user's commands fits.
UNSEEN_BYTES = 64 * 1024

if TYPE_CHECKING:
    Record = dict[str, Any]
else:
    Record = dict


class JournalError(AprenderError):
    """The journal cannot be read (newer version) or written (full disk, read-only folder)."""


class StaleJournalError(JournalError):
    """The journal belongs to a newer model than the one recording: reopen the model first."""


class JournalState:
    """What a journal file holds for one model generation.

    A plain class rather than a dataclass: a cold ``suggest`` imports this module.
    """

    __slots__ = ("generation", "version", "marks", "records", "size", "identity", "unseen")

    def __init__(
        self,
        generation: str | None = None,
        version: int = JOURNAL_VERSION,
        marks: list[dict[str, Any]] | None = None,
        records: list[Record] | None = None,
        size: int = 0,
        identity: FileIdentity | None = None,
    ) -> None:
        self.generation = generation
        self.version = version
        self.marks = marks
        self.records: list[Record] = records if records is not None else []
        # Bytes read (up to the last complete line), and the file identity they were read from.
        self.size = size
        self.identity = identity
        # Folded live records no history showed yet (see the module's docstring).
        self.unseen: list[Record] = []

    def __repr__(self) -> str:
        return (f"JournalState(generation={self.generation!r}, version={self.version}, "
                f"{len(self.records)} records, size={self.size})")


def encode(line: dict[str, Any]) -> bytes:
    import json  # a writer's: readers decode without the json package

    return (json.dumps(line, separators=(",", ":"), ensure_ascii=False) + "\n").encode(
        "utf-8", "surrogatepass"
    )


def header_line(
    generation: str,
    marks: list[dict[str, Any]] | None,
    folding: tuple[str, int] | None = None,
    unseen: list[Record] | None = None,
    unseen_into: list[Record] | None = None,
) -> dict[str, Any]:
    """The header of a journal of ``generation``; ``folding`` is a fold's mark (the new
    model's generation, how many of the records it holds), ``unseen`` and ``unseen_into``
    the folded records no history showed yet, of this model and of the new one."""
    header: dict[str, Any] = {"journal": JOURNAL_VERSION, "generation": generation}
    if marks is not None:
        header["marks"] = marks
    if unseen:
        header["unseen"] = unseen
    if folding is not None:
        header["folded_into"], header["folded"] = folding
        if unseen_into:
            header["unseen_into"] = unseen_into
    return header


def unseen_of(header: dict[str, Any], generation: str) -> list[Record]:
    """The folded records no history showed yet that ``header`` keeps for ``generation``."""
    if header.get("generation") == generation:
        listed = header.get("unseen")
    elif folded_into(header, generation) is not None:
        listed = header.get("unseen_into")
    else:
        return []
    if not isinstance(listed, list):
        return []
    return [{"c": e["c"], "t": e.get("t")} for e in listed if is_record(e)]


def bounded_unseen(unseen: list[Record]) -> list[Record]:
    """The newest of ``unseen`` that fit in ``UNSEEN_BYTES``."""
    kept: list[Record] = []
    size = 0
    for entry in reversed(unseen):
        size += len(entry["c"]) + 24
        if size > UNSEEN_BYTES:
            break
        kept.append(entry)
    kept.reverse()
    return kept


def folded_into(header: dict[str, Any], generation: str) -> int | None:
    """How many records lead a journal whose fold into ``generation`` was cut short (None:
    the file is not marked for ``generation``)."""
    folded = header.get("folded")
    if header.get("folded_into") != generation or not isinstance(folded, int):
        return None
    return max(0, folded)


def is_record(line: object) -> bool:
    return isinstance(line, dict) and isinstance(line.get("c"), str)


def identity(st: os.stat_result) -> FileIdentity:
    return identity_of(st)


def first_line(fd: int) -> bytes | None:
    data = os.pread(fd, 4096, 0)
    while b"\n" not in data and len(data) < MAX_LINE_BYTES:
        more = os.pread(fd, 65536, len(data))
        if not more:
            return None
        data += more
    end = data.find(b"\n")
    return data[:end] if end >= 0 else None


def parse_header(line: bytes | None, path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The header of a journal whose first line is ``line``; None for a version 0 journal."""
    if line is None:
        return None
    try:
        header = loads(line)
    except ValueError:
        return None
    if not isinstance(header, dict) or "journal" not in header:
        return None
    version = header.get("journal")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return None
    if version > JOURNAL_VERSION:
        raise JournalError(
            f"the journal {path} was written by a newer aprender-shell (journal version "
            f"{version}): upgrade aprender-shell, or remove the file to start it afresh"
        )
    return header


def is_version0(line: bytes, generation: str) -> bool:
    try:
        record = loads(line)
    except ValueError:
        return False
    return is_record(record) and record.get("g") == generation


def parse(
    handle: Any, generation: str, path: str | os.PathLike[str], state: JournalState
) -> Iterator[Record]:
    """``generation``'s records in the open file ``handle``, filling in ``state``."""
    raw = handle.readline()
    if not raw.endswith(b"\n"):
        return  # empty, or a torn first line
    state.size += len(raw)
    header = parse_header(raw, path)
    if header is None:
        state.version = 0
        state.generation = generation
        line = record_of(raw, generation, True)
        if line is not None:
            yield line
        yield from parse_records(handle, generation, state, True)
        return
    state.version = int(header["journal"])
    state.generation = str(header.get("generation"))
    state.unseen = unseen_of(header, generation)
    if state.generation != generation:
        skip = folded_into(header, generation)
        if skip is None:
            return  # an older model's journal: nothing of it applies
        state.generation = generation
        yield from _skipping(skip, parse_records(handle, generation, state, False))
        return
    marks = header.get("marks")
    if isinstance(marks, list) and all(isinstance(m, dict) for m in marks):
        state.marks = marks
    yield from parse_records(handle, generation, state, False)


def parse_records(
    handle: Any, generation: str, state: JournalState, version0: bool
) -> Iterator[Record]:
    for raw in handle:
        if not raw.endswith(b"\n"):
            break  # torn last line
        state.size += len(raw)
        line = record_of(raw, generation, version0)
        if line is not None:
            yield line


def _skipping(count: int, records: Iterator[Record]) -> Iterator[Record]:
    for number, record in enumerate(records):
        if number >= count:
            yield record


def record_of(raw: bytes, generation: str, version0: bool) -> Record | None:
    """The record on line ``raw`` of ``generation``'s journal, or None (torn, foreign)."""
    try:
        line = loads(raw)
    except ValueError:
        return None
    if not is_record(line):
        return None
    if version0 or "g" in line:
        if line.get("g") != generation:
            return None
        del line["g"]
    return line  # type: ignore[no-any-return]

"""Where a history file ended when it was last read, and what was added to it since.

A mark never holds a command: the last commands read are kept as salted SHA-256 digests, to
find the old end in a file the shell rewrote, and a command that may not be learned (a secret,
a leading space, a ``history_filter`` match) is not even hashed: its place holds ``""``, which
matches any command kept out the same way. Marks written by older versions held the commands
themselves (``tail_commands``); reading one converts it, and ``legacy`` says the model that
stored it must be rewritten.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aprender_shell.errors import HistoryError
from aprender_shell.history.files import read_bytes
from aprender_shell.history.formats import (
    _MIN_TAIL_MATCH,
    _TAIL_BYTES,
    _TAIL_COMMANDS,
    FORMATS,
    HistoryEntry,
    _parse_records,
    _Records,
    format_for_name,
    sniff_format,
)


@dataclass
class HistoryMark:
    """Where a history file ended when it was last read, to find what was added since.

    ``offset`` is the number of bytes consumed, ``tail`` a hash of the bytes just before it,
    ``tail_hashes`` the digests of the last few commands read (to find the old end in a
    rewritten file), salted with ``salt``.
    """

    path: str
    size: int
    inode: int
    mtime_ns: int
    offset: int
    count: int
    tail: str
    fmt: str
    tail_hashes: list[str] = field(default_factory=list)
    last_timestamp: int | None = None
    salt: str = field(default_factory=lambda: secrets.token_hex(16))
    legacy: bool = False  # read from a mark that stored commands in plain text
    skipped_lines: int = 0  # lines over formats.MAX_LINE_BYTES in this read (not stored)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "size": self.size,
            "inode": self.inode,
            "mtime_ns": self.mtime_ns,
            "offset": self.offset,
            "count": self.count,
            "tail": self.tail,
            "fmt": self.fmt,
            "salt": self.salt,
            "tail_hashes": list(self.tail_hashes),
            "last_timestamp": self.last_timestamp,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> HistoryMark:
        last = d.get("last_timestamp")
        salt = d.get("salt")
        salt = salt if isinstance(salt, str) and salt else secrets.token_hex(16)
        hashes = [str(h) for h in d.get("tail_hashes", [])]
        legacy = "tail_commands" in d
        if legacy:
            hashes = tail_keys([str(c) for c in d.get("tail_commands", [])], salt)
        return cls(
            path=str(d["path"]),
            size=int(d["size"]),
            inode=int(d["inode"]),
            mtime_ns=int(d.get("mtime_ns", 0)),
            offset=int(d["offset"]),
            count=int(d["count"]),
            tail=str(d["tail"]),
            fmt=str(d.get("fmt", "plain")),
            tail_hashes=hashes,
            last_timestamp=None if last is None else int(last),
            salt=salt,
            legacy=legacy,
        )


def _allows() -> Callable[[str], bool]:
    from aprender_shell.history.privacy import default_gate

    return default_gate().allows


def command_key(command: str, salt: str, allows: Callable[[str], bool] | None = None) -> str:
    """What a mark keeps of ``command``: a salted digest, or "" for one never to be learned."""
    if not (allows or _allows())(command):
        return ""
    return _digest(command, salt)


def _digest(command: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}\0{command}".encode("utf-8", "surrogatepass")).hexdigest()[:32]


def tail_keys(commands: Sequence[str], salt: str) -> list[str]:
    allows = _allows()
    return [command_key(c, salt, allows) for c in commands]


def _tail_hash(data: bytes, offset: int) -> str:
    return hashlib.sha256(data[max(0, offset - _TAIL_BYTES) : offset]).hexdigest()


def _mark(path: Path, st: os.stat_result, data: bytes, fmt: str, records: _Records,
          count: int | None = None) -> HistoryMark:
    """A mark after the first ``count`` records (all of them by default)."""
    count = len(records.entries) if count is None else count
    offset = records.ends[count - 1] if count else 0
    if count == len(records.entries):
        offset = len(data)  # trailing blank lines or metadata are consumed too
    consumed = records.entries[:count]
    stamps = [e.timestamp for e in consumed if e.timestamp is not None]
    salt = secrets.token_hex(16)
    return HistoryMark(
        path=str(path),
        size=st.st_size,
        inode=st.st_ino,
        mtime_ns=st.st_mtime_ns,
        offset=offset,
        count=count,
        tail=_tail_hash(data, offset),
        fmt=fmt,
        tail_hashes=tail_keys([e.command for e in consumed[-_TAIL_COMMANDS:]], salt),
        last_timestamp=max(stamps) if stamps else None,
        salt=salt,
        skipped_lines=records.skipped,
    )


def _read_with_stat(path: Path) -> tuple[bytes, os.stat_result]:
    data = read_bytes(path)
    try:
        st = path.stat()
    except OSError as error:
        raise HistoryError(f"cannot read history file {path}: {error.strerror or error}") from None
    if not stat.S_ISREG(st.st_mode):
        raise HistoryError(f"history file {path} is not a regular file: pass the file itself")
    return data, st


def mark_history(path: Path, entries: Sequence[HistoryEntry]) -> HistoryMark:
    """A mark just after ``entries``, the commands ``read_history(path)`` returned.

    When the file grew since it was read, the mark stops where ``entries`` end, so the commands
    added in between are still new to ``new_entries_since``.
    """
    path = Path(path)
    data, st = _read_with_stat(path)
    fmt = format_for_name(path) or sniff_format(data)
    records = _parse_records(data, fmt)
    count = len(entries)
    if count <= len(records.entries) and records.entries[:count] == list(entries):
        return _mark(path, st, data, fmt, records, count)
    return _mark(path, st, data, fmt, records)


def read_and_mark(path: Path) -> tuple[list[HistoryEntry], HistoryMark]:
    """The commands in the history file at ``path`` and a mark just after them.

    What ``read_history`` and then ``mark_history`` give, from one read and one parse.
    """
    path = Path(path)
    data, st = _read_with_stat(path)
    fmt = format_for_name(path) or sniff_format(data)
    records = _parse_records(data, fmt)
    return records.entries, _mark(path, st, data, fmt, records)


def new_entries_since(
    path: Path, mark: HistoryMark | None
) -> tuple[list[HistoryEntry], HistoryMark, bool]:
    """The commands added to ``path`` after ``mark``, a mark for now, and whether it was rewritten.

    The file counts as appended to when it has the same inode, is at least ``mark.offset``
    bytes long and the 4 KiB before the offset are unchanged: the new commands are those after
    the offset. Otherwise (truncated, trimmed to HISTSIZE, rewritten with a new inode, rotated)
    ``rewritten`` is True and the new commands are found by content: those after the last place
    where the mark's last commands (at least 3 of them, most recent kept) appear in a row; failing
    that, those with a timestamp later than the mark's last one; failing that, every entry of
    the file (the caller deduplicates or retrains). With no mark, every entry is new and
    ``rewritten`` is False.
    """
    path = Path(path)
    data, st = _read_with_stat(path)
    if mark is None:
        fmt = format_for_name(path) or sniff_format(data)
        records = _parse_records(data, fmt)
        return records.entries, _mark(path, st, data, fmt, records), False
    appended = (
        st.st_ino == mark.inode
        and len(data) >= mark.offset
        and _tail_hash(data, mark.offset) == mark.tail
    )
    if appended:
        fmt = mark.fmt if mark.fmt in FORMATS else (format_for_name(path) or sniff_format(data))
        added = _parse_records(data[mark.offset :], fmt).entries
        new_mark = _mark_after_append(path, st, data, mark, added)
        return added, new_mark, False
    fmt = format_for_name(path) or sniff_format(data)
    records = _parse_records(data, fmt)
    return _new_by_content(records.entries, mark), _mark(path, st, data, fmt, records), True


def _mark_after_append(path: Path, st: os.stat_result, data: bytes, mark: HistoryMark,
                       added: Sequence[HistoryEntry]) -> HistoryMark:
    added_keys = tail_keys([e.command for e in added[-_TAIL_COMMANDS:]], mark.salt)
    keys = (list(mark.tail_hashes) + added_keys)[-_TAIL_COMMANDS:]
    stamps = [e.timestamp for e in added if e.timestamp is not None]
    if mark.last_timestamp is not None:
        stamps.append(mark.last_timestamp)
    return HistoryMark(
        path=str(path),
        size=st.st_size,
        inode=st.st_ino,
        mtime_ns=st.st_mtime_ns,
        offset=len(data),
        count=mark.count + len(added),
        tail=_tail_hash(data, len(data)),
        fmt=mark.fmt,
        tail_hashes=keys,
        last_timestamp=max(stamps) if stamps else None,
        salt=mark.salt,
    )


def _new_by_content(entries: Sequence[HistoryEntry], mark: HistoryMark) -> list[HistoryEntry]:
    if mark.count == 0:
        return list(entries)
    allows = _allows()
    digests: dict[int, str] = {}

    def matches(position: int, wanted: str) -> bool:
        command = entries[position].command
        if not wanted:
            return not allows(command)
        # Hashed on demand: most windows fail on their first command.
        digest = digests.get(position)
        if digest is None:
            digest = digests[position] = _digest(command, mark.salt)
        return digest == wanted

    tail = list(mark.tail_hashes)
    for length in range(len(tail), min(_MIN_TAIL_MATCH, len(tail)) - 1, -1):
        wanted = tail[len(tail) - length :]
        if not any(wanted):
            continue  # only kept-out commands: nothing to recognise the place by
        for start in range(len(entries) - length, -1, -1):
            if all(matches(start + i, wanted[i]) for i in range(length)):
                return list(entries[start + length :])
    last = mark.last_timestamp
    if last is not None and entries and all(e.timestamp is not None for e in entries):
        return [e for e in entries if e.timestamp is not None and e.timestamp > last]
    return list(entries)

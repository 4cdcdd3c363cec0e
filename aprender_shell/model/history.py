"""Shell history files: find them, parse zsh, bash and fish formats, and notice what is new.

Formats (``fmt``):

- ``"zsh"``: extended lines ``: 1700000000:0;command`` or plain lines, one command each. A line
  ending in a backslash continues on the next line (zsh's way of storing a newline). Bytes are
  "metafied": ``0x83`` means "XOR the next byte with 0x20".
- ``"bash"``: one command a line; a ``#1700000000`` line is the timestamp of the next command.
- ``"fish"``: ``- cmd: ...`` entries with ``  when: ...`` timestamps and ``  paths:`` metadata;
  ``\\n`` in a command is a newline and ``\\\\`` a backslash.
- ``"plain"``: one command a line, read like zsh.

Invalid UTF-8 never raises: undecodable bytes become U+FFFD.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import re
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aprender_shell.errors import HistoryError

FORMATS = ("zsh", "bash", "fish", "plain")

_ZSH_EXTENDED = re.compile(rb"^: (\d+):\d+;")
_BASH_TIMESTAMP = re.compile(rb"^#(\d+)$")
_FISH_ENTRY = b"- cmd:"
_META = 0x83
# How many lines sniffing looks at: enough to see past a few odd first lines.
_SNIFF_LINES = 50
# Bytes read to decide whether a file is text at all.
_BINARY_PROBE = 1 << 20
# Commands remembered at the end of a mark, to find the old end in a rewritten file.
_TAIL_COMMANDS = 5
# The shortest run of remembered commands trusted to locate the old end.
_MIN_TAIL_MATCH = 3
_TAIL_BYTES = 4096
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\f\v\b\x1b")


@dataclass(frozen=True)
class HistoryEntry:
    """One command from a history file; ``timestamp`` is Unix seconds when the shell stored it."""

    command: str
    timestamp: int | None = None


@dataclass(frozen=True)
class _Record:
    entry: HistoryEntry
    end: int  # byte offset just past the record's last line


def parse_history(data: bytes, fmt: str | None = None) -> list[HistoryEntry]:
    """The commands in ``data`` in file order; ``fmt`` is sniffed from the content when None."""
    return [record.entry for record in _parse_records(data, fmt)]


def sniff_format(data: bytes) -> str:
    """The history format ``data`` looks like: ``fish``, ``zsh``, ``bash`` or ``plain``."""
    seen = 0
    bash = False
    for line, _ in _lines(data):
        if not line.strip():
            continue
        if seen == 0 and line.startswith(_FISH_ENTRY):
            return "fish"
        if _ZSH_EXTENDED.match(line):
            return "zsh"
        if _BASH_TIMESTAMP.match(line.rstrip(b"\r")):
            bash = True
        seen += 1
        if seen >= _SNIFF_LINES:
            break
    return "bash" if bash else "plain"


def _parse_records(data: bytes, fmt: str | None) -> list[_Record]:
    fmt = fmt or sniff_format(data)
    if fmt in ("zsh", "plain"):
        return list(_parse_zsh(data, unmetafy_all=fmt == "zsh"))
    if fmt == "bash":
        return list(_parse_bash(data))
    if fmt == "fish":
        return list(_parse_fish(data))
    raise ValueError(f"unknown history format {fmt!r}: expected one of {', '.join(FORMATS)}")


def _lines(data: bytes) -> Iterator[tuple[bytes, int]]:
    """Each line without its newline, with the offset just past it."""
    start = 0
    size = len(data)
    while start < size:
        newline = data.find(b"\n", start)
        end = size if newline < 0 else newline + 1
        yield data[start : end if newline < 0 else newline], end
        start = end


_METAFIED = re.compile(rb"\x83(.)", re.DOTALL)


def _unmetafy(raw: bytes) -> bytes:
    return _METAFIED.sub(lambda m: bytes((m.group(1)[0] ^ 0x20,)), raw)


def _decode(raw: bytes, metafied: bool) -> str:
    """Text of one line. Metafied zsh bytes are never valid UTF-8, which tells them apart."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _META in raw:
        plain = _unmetafy(raw)
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError:
            if metafied:
                return plain.decode("utf-8", errors="replace")
    return raw.decode("utf-8", errors="replace")


def _record(command: str, timestamp: int | None, end: int) -> Iterator[_Record]:
    if command.strip():
        yield _Record(HistoryEntry(command, timestamp), end)


def _parse_zsh(data: bytes, unmetafy_all: bool) -> Iterator[_Record]:
    parts: list[str] = []
    timestamp: int | None = None
    for raw, end in _lines(data):
        line = _decode(raw.rstrip(b"\r"), unmetafy_all)
        if not parts:
            match = _ZSH_EXTENDED.match(raw)
            if match:
                timestamp = int(match.group(1))
                line = line[line.index(";") + 1 :]
            else:
                timestamp = None
        if line.endswith("\\"):
            parts.append(line[:-1])
            continue
        parts.append(line)
        yield from _record("\n".join(parts), timestamp, end)
        parts = []
    if parts:  # a last line ending in a backslash: the file was cut mid-command
        yield from _record("\n".join(parts), timestamp, len(data))


def _parse_bash(data: bytes) -> Iterator[_Record]:
    timestamp: int | None = None
    for raw, end in _lines(data):
        raw = raw.rstrip(b"\r")
        match = _BASH_TIMESTAMP.match(raw)
        if match:
            timestamp = int(match.group(1))
            continue
        yield from _record(_decode(raw, metafied=False), timestamp, end)
        timestamp = None


def _fish_unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in "n\\":
            out.append("\n" if text[i + 1] == "n" else "\\")
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _parse_fish(data: bytes) -> Iterator[_Record]:
    command: str | None = None
    timestamp: int | None = None
    end_of_entry = 0
    for raw, end in _lines(data):
        raw = raw.rstrip(b"\r")
        if raw.startswith(_FISH_ENTRY):
            if command is not None:
                yield from _record(command, timestamp, end_of_entry)
            value = raw[len(_FISH_ENTRY) :]
            command = _fish_unescape(_decode(value[1:] if value[:1] == b" " else value, False))
            timestamp = None
        elif command is not None and raw.startswith(b"  when:"):
            value = raw[len(b"  when:") :].strip()
            timestamp = int(value) if value.isdigit() else None
        # "  paths:" and its "    - path" lines are metadata we do not use.
        if command is not None:
            end_of_entry = end
    if command is not None:
        yield from _record(command, timestamp, end_of_entry)


def format_for_name(path: Path) -> str | None:
    """The format a history file's name implies, if it implies one."""
    name = path.name
    if name == "fish_history" or name.endswith("_history") and name.startswith("fish"):
        return "fish"
    if name in (".bash_history", "bash_history"):
        return "bash"
    if name in (".zsh_history", "zsh_history", ".histfile", ".zhistory"):
        return "zsh"
    return None


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, or HistoryError saying in one line what is wrong and what to do."""
    try:
        if path.is_dir():
            raise HistoryError(
                f"history file {path} is a directory: pass the history file itself, "
                "e.g. ~/.zsh_history"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise HistoryError(
            f"history file {path} does not exist: check the path, or pass --history FILE"
        ) from None
    except PermissionError:
        raise HistoryError(
            f"cannot read history file {path}: permission denied (check its owner and mode)"
        ) from None
    except OSError as error:
        raise HistoryError(
            f"cannot read history file {path}: {error.strerror or error}"
        ) from None
    if _looks_binary(data):
        raise HistoryError(
            f"{path} is not a shell history (it holds binary data): "
            "pass a zsh, bash or fish history file"
        )
    return data


def _looks_binary(data: bytes) -> bool:
    probe = data[:_BINARY_PROBE]
    if not probe:
        return False
    if probe.count(0) * 100 > len(probe):
        return True
    controls = len(probe) - len(probe.translate(None, _CONTROL_BYTES))
    if _META in probe:
        probe = _unmetafy(probe)  # zsh's metafied UTF-8 is text, not binary
    text = probe.decode("utf-8", errors="replace")
    return (controls + text.count("\ufffd")) * 10 > len(text) * 3


def read_history(path: Path) -> list[HistoryEntry]:
    """The commands in the history file at ``path``; HistoryError if it cannot be used."""
    path = Path(path)
    data = _read_bytes(path)
    return parse_history(data, format_for_name(path))


def find_history_files(
    explicit: Sequence[Path],
    environ: Mapping[str, str] = os.environ,
    home: Path | None = None,
) -> list[Path]:
    """History files to learn from.

    The ``explicit`` paths when given (as they are: ``read_history`` reports missing ones).
    Otherwise ``$HISTFILE`` when it names a readable file; otherwise every non-empty one of
    ``$ZDOTDIR/.zsh_history`` (or ``~/.zsh_history``), ``~/.histfile``, ``~/.bash_history`` and
    fish's ``$XDG_DATA_HOME/fish/fish_history`` (default ``~/.local/share``), for people who use
    several shells.
    """
    if explicit:
        return [Path(p) for p in explicit]
    home = Path.home() if home is None else home
    histfile = environ.get("HISTFILE", "")
    if histfile:
        path = _expand_home(histfile, home)
        if path.is_file() and os.access(path, os.R_OK):
            return [path]
    zdotdir = environ.get("ZDOTDIR", "")
    zsh_dir = _expand_home(zdotdir, home) if zdotdir else home
    data_home = environ.get("XDG_DATA_HOME", "")
    data_dir = Path(data_home) if os.path.isabs(data_home) else home / ".local" / "share"
    candidates = [
        zsh_dir / ".zsh_history",
        home / ".zsh_history",
        home / ".histfile",
        home / ".bash_history",
        data_dir / "fish" / "fish_history",
    ]
    found: list[Path] = []
    seen: set[Path] = set()
    for path in candidates:
        try:
            if not path.is_file() or path.stat().st_size == 0:
                continue
            key = path.resolve()
        except OSError:
            continue
        if key not in seen:
            seen.add(key)
            found.append(path)
    return found


def _expand_home(value: str, home: Path) -> Path:
    if value == "~" or value.startswith("~/"):
        return home / value[2:]
    return Path(value)


def sample_history_path() -> Path:
    """The packaged sample history (zsh format), used when the user has none."""
    return Path(str(importlib.resources.files("aprender_shell.model") / "data" / "sample_history"))


@dataclass
class HistoryMark:
    """Where a history file ended when it was last read, to find what was added since.

    ``offset`` is the number of bytes consumed, ``tail`` a hash of the bytes just before it,
    ``tail_commands`` the last few commands read (to find the old end in a rewritten file).
    """

    path: str
    size: int
    inode: int
    mtime_ns: int
    offset: int
    count: int
    tail: str
    fmt: str
    tail_commands: list[str] = field(default_factory=list)
    last_timestamp: int | None = None

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
            "tail_commands": list(self.tail_commands),
            "last_timestamp": self.last_timestamp,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> HistoryMark:
        last = d.get("last_timestamp")
        return cls(
            path=str(d["path"]),
            size=int(d["size"]),
            inode=int(d["inode"]),
            mtime_ns=int(d.get("mtime_ns", 0)),
            offset=int(d["offset"]),
            count=int(d["count"]),
            tail=str(d["tail"]),
            fmt=str(d.get("fmt", "plain")),
            tail_commands=[str(c) for c in d.get("tail_commands", [])],
            last_timestamp=None if last is None else int(last),
        )


def _tail_hash(data: bytes, offset: int) -> str:
    return hashlib.sha256(data[max(0, offset - _TAIL_BYTES) : offset]).hexdigest()


def _mark(path: Path, st: os.stat_result, data: bytes, fmt: str, records: Sequence[_Record],
          count: int | None = None) -> HistoryMark:
    """A mark after the first ``count`` records (all of them by default)."""
    count = len(records) if count is None else count
    offset = records[count - 1].end if count else 0
    if count == len(records):
        offset = len(data)  # trailing blank lines or metadata are consumed too
    consumed = [r.entry for r in records[:count]]
    stamps = [e.timestamp for e in consumed if e.timestamp is not None]
    return HistoryMark(
        path=str(path),
        size=st.st_size,
        inode=st.st_ino,
        mtime_ns=st.st_mtime_ns,
        offset=offset,
        count=count,
        tail=_tail_hash(data, offset),
        fmt=fmt,
        tail_commands=[e.command for e in consumed[-_TAIL_COMMANDS:]],
        last_timestamp=max(stamps) if stamps else None,
    )


def _read_with_stat(path: Path) -> tuple[bytes, os.stat_result]:
    data = _read_bytes(path)
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
    if count <= len(records) and [r.entry for r in records[:count]] == list(entries):
        return _mark(path, st, data, fmt, records, count)
    return _mark(path, st, data, fmt, records)


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
        return [r.entry for r in records], _mark(path, st, data, fmt, records), False
    appended = (
        st.st_ino == mark.inode
        and len(data) >= mark.offset
        and _tail_hash(data, mark.offset) == mark.tail
    )
    if appended:
        fmt = mark.fmt if mark.fmt in FORMATS else (format_for_name(path) or sniff_format(data))
        added = _parse_records(data[mark.offset :], fmt)
        new_mark = _mark_after_append(path, st, data, mark, [r.entry for r in added])
        return [r.entry for r in added], new_mark, False
    fmt = format_for_name(path) or sniff_format(data)
    records = _parse_records(data, fmt)
    entries = [r.entry for r in records]
    return _new_by_content(entries, mark), _mark(path, st, data, fmt, records), True


def _mark_after_append(path: Path, st: os.stat_result, data: bytes, mark: HistoryMark,
                       added: Sequence[HistoryEntry]) -> HistoryMark:
    commands = (list(mark.tail_commands) + [e.command for e in added])[-_TAIL_COMMANDS:]
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
        tail_commands=commands,
        last_timestamp=max(stamps) if stamps else None,
    )


def _new_by_content(entries: Sequence[HistoryEntry], mark: HistoryMark) -> list[HistoryEntry]:
    if mark.count == 0:
        return list(entries)
    commands = [e.command for e in entries]
    tail = list(mark.tail_commands)
    for length in range(len(tail), min(_MIN_TAIL_MATCH, len(tail)) - 1, -1):
        wanted = tail[len(tail) - length :]
        for start in range(len(commands) - length, -1, -1):
            if commands[start : start + length] == wanted:
                return list(entries[start + length :])
    last = mark.last_timestamp
    if last is not None and entries and all(e.timestamp is not None for e in entries):
        return [e for e in entries if e.timestamp is not None and e.timestamp > last]
    return list(entries)

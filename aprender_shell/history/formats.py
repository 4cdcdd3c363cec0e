"""Shell history formats: parse zsh, bash and fish history bytes into commands.

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

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

FORMATS = ("zsh", "bash", "fish", "plain")

_ZSH_EXTENDED = re.compile(rb"^: (\d+):\d+;")
# The same on decoded text ([0-9], since \d would also match other scripts' digits).
_ZSH_EXTENDED_TEXT = re.compile(r": ([0-9]+):[0-9]+;")
_BASH_TIMESTAMP = re.compile(rb"^#(\d+)$")
_BASH_TIMESTAMP_TEXT = re.compile(r"#([0-9]+)\Z")
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
# Bytes of history decoded at a time: big enough that a call decodes many lines, small enough
# that the decoded text is little beside the entries it becomes.
_DECODE_CHUNK = 1 << 20
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\f\v\b\x1b")
# A history line longer than this is skipped (and counted), never decoded: the model learns no
# command over 2,000 characters (scoring.MAX_COMMAND_CHARS), which takes at most 8,000 bytes of
# UTF-8, twice that metafied by zsh. Without it one 200 MB line cost training 784 MB.
MAX_LINE_BYTES = 16 * 1024


# Without a __dict__ an entry is 40 bytes smaller: 12 MB for a 300,000-command history.
_SLOTS: dict[str, bool] = {"slots": True} if sys.version_info >= (3, 10) else {}


@dataclass(frozen=True, **_SLOTS)
class Context:
    """Where and how a command ran, when something recorded it: the shells' own hooks (the
    journal) and databases such as atuin's do; history files do not. Every field is optional.

    ``cwd`` the working folder, ``exit`` the exit status, ``host`` the machine's name, ``shell``
    one of ``limits.SHELLS``, ``agent`` the name of the coding agent or script that ran it
    (None when a person did). ``prev`` the command run just before it in the same shell when
    that is not the entry before it (two shells at once interleave their commands), ``""``
    when none was (the shell's first); None: the entry before it, as in a history file.
    """

    cwd: str | None = None
    exit: int | None = None
    host: str | None = None
    shell: str | None = None
    agent: str | None = None
    prev: str | None = None


@dataclass(frozen=True, **_SLOTS)
class HistoryEntry:
    """One command from a history file; ``timestamp`` is Unix seconds when the shell stored it,
    ``context`` what else is known about the run (None for a plain history file line)."""

    command: str
    timestamp: int | None = None
    context: Context | None = None


class _Records(NamedTuple):
    """Parsed commands, for each the byte offset just past its last line, and how many lines
    were skipped for being over ``MAX_LINE_BYTES``."""

    entries: list[HistoryEntry]
    ends: list[int]
    skipped: int = 0


def parse_history(data: bytes, fmt: str | None = None) -> list[HistoryEntry]:
    """The commands in ``data`` in file order; ``fmt`` is sniffed from the content when None."""
    return _parse_records(data, fmt).entries


def sniff_format(data: bytes) -> str:
    """The history format ``data`` looks like: ``fish``, ``zsh``, ``bash`` or ``plain``."""
    seen = 0
    bash = False
    for line, _ in _lines(data):
        if line is None or not line.strip():
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


def _parse_records(data: bytes, fmt: str | None) -> _Records:
    fmt = fmt or sniff_format(data)
    if fmt in ("zsh", "plain"):
        return _parse_zsh(data, unmetafy_all=fmt == "zsh")
    if fmt == "bash":
        return _parse_bash(data)
    if fmt == "fish":
        entries: list[HistoryEntry] = []
        ends: list[int] = []
        skipped = [0]
        for entry, end in _parse_fish(data, skipped):
            entries.append(entry)
            ends.append(end)
        return _Records(entries, ends, skipped[0])
    raise ValueError(f"unknown history format {fmt!r}: expected one of {', '.join(FORMATS)}")


def _lines(data: bytes) -> Iterator[tuple[bytes | None, int]]:
    """Each line without its newline (None, never copied, when over ``MAX_LINE_BYTES``), with
    the offset just past it."""
    start = 0
    size = len(data)
    while start < size:
        newline = data.find(b"\n", start)
        end = size if newline < 0 else newline + 1
        stop = end if newline < 0 else newline
        yield (data[start:stop] if stop - start <= MAX_LINE_BYTES else None), end
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


def _decoded_lines(data: bytes, metafied: bool) -> Iterator[tuple[str | None, int]]:
    """Each line decoded as ``_decode`` does, without its newline and trailing CRs (None for a
    line over ``MAX_LINE_BYTES``), with the byte offset just past it.

    Lines are decoded a chunk of about ``_DECODE_CHUNK`` bytes at a time: a chunk that is valid
    UTF-8 (the usual case) in one call, since each of its lines then decodes alone to the same
    text (a newline never falls inside a character); any other chunk line by line. A line longer
    than a chunk is skipped without being copied or decoded.
    """
    size = len(data)
    start = 0
    while start < size:
        cut = min(start + _DECODE_CHUNK, size) - 1
        newline = data.find(b"\n", cut)
        stop = size if newline < 0 else newline + 1
        if stop - start > _DECODE_CHUNK + MAX_LINE_BYTES:
            last = data.rfind(b"\n", start, cut)
            if last < 0:  # the chunk is one line, far over the cap
                yield None, stop
                start = stop
                continue
            stop = last + 1  # the lines before the long one; it starts the next chunk
        chunk = data[start:stop]
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            for raw, end in _lines(chunk):
                line = None if raw is None else _decode(raw.rstrip(b"\r"), metafied)
                yield line, start + end
        else:
            lines = text.split("\n")
            if not lines[-1]:
                lines.pop()  # the newline ending the chunk ends its last line; it starts none
            ascii_only = text.isascii()
            del text
            end = start
            for line in lines:
                length = len(line) if ascii_only else len(line.encode())
                end += length + 1
                yield (line.rstrip("\r") if length <= MAX_LINE_BYTES else None), min(end, stop)
        start = stop


def _parse_zsh(data: bytes, unmetafy_all: bool) -> _Records:
    entries: list[HistoryEntry] = []
    ends: list[int] = []
    parts: list[str] = []
    timestamp: int | None = None
    # One string object per distinct command: histories repeat most of their lines.
    seen: dict[str, str] = {}
    skipped = 0
    extended = _ZSH_EXTENDED_TEXT.match
    for line, end in _decoded_lines(data, unmetafy_all):
        if line is None:  # over the cap: so is the command it belongs to
            skipped += 1
            parts = []
            continue
        if not parts:
            match = extended(line)
            if match:
                timestamp = int(match.group(1))
                line = line[match.end() :]
            else:
                timestamp = None
        if line[-1:] == "\\":
            parts.append(line[:-1])
            continue
        if parts:
            parts.append(line)
            line = "\n".join(parts)
            parts = []
        if line.strip():
            entries.append(HistoryEntry(seen.setdefault(line, line), timestamp))
            ends.append(end)
    if parts:  # a last line ending in a backslash: the file was cut mid-command
        command = "\n".join(parts)
        if command.strip():
            entries.append(HistoryEntry(command, timestamp))
            ends.append(len(data))
    return _Records(entries, ends, skipped)


def _parse_bash(data: bytes) -> _Records:
    entries: list[HistoryEntry] = []
    ends: list[int] = []
    timestamp: int | None = None
    seen: dict[str, str] = {}
    skipped = 0
    stamp = _BASH_TIMESTAMP_TEXT.match
    for line, end in _decoded_lines(data, metafied=False):
        if line is None:
            skipped += 1
            timestamp = None
            continue
        match = stamp(line)
        if match:
            timestamp = int(match.group(1))
            continue
        if line.strip():
            entries.append(HistoryEntry(seen.setdefault(line, line), timestamp))
            ends.append(end)
        timestamp = None
    return _Records(entries, ends, skipped)


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


def _parse_fish(data: bytes, skipped: list[int]) -> Iterator[tuple[HistoryEntry, int]]:
    """Fish's entries; ``skipped[0]`` counts the lines over the cap (an entry whose command
    line is one of them is dropped)."""
    command: str | None = None
    timestamp: int | None = None
    end_of_entry = 0
    for line, end in _lines(data):
        if line is None:
            skipped[0] += 1
            if command is not None and command.strip():
                yield HistoryEntry(command, timestamp), end_of_entry
            command = None
            continue
        raw = line.rstrip(b"\r")
        if raw.startswith(_FISH_ENTRY):
            if command is not None and command.strip():
                yield HistoryEntry(command, timestamp), end_of_entry
            value = raw[len(_FISH_ENTRY) :]
            command = _fish_unescape(_decode(value[1:] if value[:1] == b" " else value, False))
            timestamp = None
        elif command is not None and raw.startswith(b"  when:"):
            value = raw[len(b"  when:") :].strip()
            timestamp = int(value) if value.isdigit() else None
        # "  paths:" and its "    - path" lines are metadata we do not use.
        if command is not None:
            end_of_entry = end
    if command is not None and command.strip():
        yield HistoryEntry(command, timestamp), end_of_entry


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

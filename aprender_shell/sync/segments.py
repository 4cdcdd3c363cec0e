"""A segment: one sealed file of entries a device published at once, chained to the one before.

The payload (JSON, then sealed for its device and number: sealing.py)::

    {"v": 1, "dev": "<device>", "seq": 7, "prev": "<digest of segment 6>", "host": "laptop",
     "knows": ["<device>:3"],
     "entries": [{"k": "r", "n": 41, "c": "git status", "cwd": "/src", "exit": 0,
                  "prev": "git add .", "sh": "zsh", "host": "laptop", "t": 1700000000},
                 {"k": "forget", "pattern": "ssh db", "mode": "contains", "t": 1700000100},
                 {"k": "leave", "t": 1700000200}, {"k": "join", "t": 1700000300}]}

``n`` numbers a device's records from 1, so every record is known by device and number.
``knows`` names the tombstones (by device and segment number) the writer had applied when it
wrote the segment: its records were run after those forgets, so they are learned; a record in
a segment that does not know a tombstone was run before it, and the tombstone covers it. No
clock is compared, so a device whose clock is a day off forgets exactly as the others.
``prev`` makes the segments of a device one chain: a segment that does not name the one applied
before it (a device's files rolled back, or a segment replayed in its place) is refused.

A compacted segment (version 2, compaction.py) also says ``"replaces": [a, b]``: it holds what
the device's segments ``a`` to ``b`` held (less what a tombstone covers), they are removed, and
its ``prev`` names segment ``a - 1``. A device that had applied some of them takes it without
the chain check and learns only the records numbered past the last it applied; its forget
entries keep the ``"id"`` of the segment that first published them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from aprender_shell.limits import MAX_COMMAND_CHARS, SHELLS
from aprender_shell.model.learned.journal import Record
from aprender_shell.model.store.corpus import MAX_AGENT_CHARS
from aprender_shell.sync.sealing import SEGMENT_KIND, SealError, seal, unseal

SEGMENT_VERSION = 1
COMPACTED_VERSION = 2  # a segment replacing others: older versions say to upgrade
RECORD = "r"
FORGET = "forget"
LEAVE = "leave"
JOIN = "join"  # a device that left is back
FORGET_MODES = ("exact", "contains", "regex")
# The most entries one segment holds (a corpus of 500,000 commands is published in several).
MAX_ENTRIES = 20_000


@dataclass
class Segment:
    device: str
    seq: int
    prev: str
    host: str
    entries: list[dict[str, Any]] = field(default_factory=list)
    knows: list[str] = field(default_factory=list)
    replaces: tuple[int, int] | None = None  # the segments a compacted one stands for


def digest(data: bytes) -> str:
    """What the next segment of the same device names as its ``prev``."""
    return hashlib.sha256(data).hexdigest()[:32]


def encode(key: bytes, segment: Segment) -> bytes:
    payload: dict[str, Any] = {
        "v": SEGMENT_VERSION, "dev": segment.device, "seq": segment.seq, "prev": segment.prev,
        "host": segment.host, "knows": segment.knows, "entries": segment.entries}
    if segment.replaces is not None:
        payload["v"], payload["replaces"] = COMPACTED_VERSION, list(segment.replaces)
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return seal(key, SEGMENT_KIND, segment.device, segment.seq,
                text.encode("utf-8", "surrogatepass"))


def decode(key: bytes, device: str, seq: int, data: bytes) -> Segment:
    """The segment sealed in ``data``; ``SealError`` saying why it is refused."""
    plain = unseal(key, SEGMENT_KIND, device, seq, data)
    try:
        payload = json.loads(plain.decode("utf-8", "surrogatepass"))
    except ValueError:
        raise SealError("authentic but unreadable (written by a broken version?)") from None
    if not isinstance(payload, dict) or payload.get("v") not in (SEGMENT_VERSION,
                                                                  COMPACTED_VERSION):
        raise SealError("written by a newer aprender-shell: upgrade this one")
    replaces = payload.get("replaces") if payload["v"] == COMPACTED_VERSION else None
    if replaces is not None:
        if (not isinstance(replaces, list) or len(replaces) != 2
                or not all(_is_int(number) for number in replaces)
                or not 1 <= replaces[0] <= replaces[1] == seq - 1):
            raise SealError("authentic but inconsistent")
        replaces = (replaces[0], replaces[1])
    entries = payload.get("entries")
    if (payload.get("dev") != device or payload.get("seq") != seq
            or not isinstance(entries, list) or not isinstance(payload.get("prev"), str)):
        raise SealError("authentic but inconsistent")
    host = payload.get("host")
    knows = payload.get("knows")
    return Segment(device, seq, payload["prev"], host if isinstance(host, str) else "",
                   [entry for entry in entries if isinstance(entry, dict)],
                   [k for k in knows if isinstance(k, str)] if isinstance(knows, list) else [],
                   replaces)


def record_entry(record: Record, number: int, host: str) -> dict[str, Any]:
    """The entry publishing a journal record of this device."""
    entry: dict[str, Any] = {"k": RECORD, "n": number}
    for name in ("c", "cwd", "exit", "prev", "sh", "t", "agent"):
        if record.get(name) is not None:
            entry[name] = record[name]
    entry["host"] = record.get("host") or host
    return entry


def journal_record(entry: dict[str, Any], device: str) -> Record | None:
    """The journal record of another device's entry, or None when it is malformed."""
    command = entry.get("c")
    number = entry.get("n")
    if not isinstance(command, str) or not command.strip() or len(command) > MAX_COMMAND_CHARS:
        return None
    if not _is_int(number):
        return None
    record: Record = {"c": command}
    if entry.get("sh") in SHELLS:
        record["sh"] = entry["sh"]
    for name in ("cwd", "prev", "host"):
        if isinstance(entry.get(name), str):
            record[name] = entry[name]
    for name in ("exit", "t"):
        if _is_int(entry.get(name)):
            record[name] = entry[name]
    agent = entry.get("agent")  # an agent's run there is suggested here only when asked for
    if isinstance(agent, str) and 0 < len(agent) <= MAX_AGENT_CHARS:
        record["agent"] = agent
    record["dev"] = device
    record["seq"] = number
    return record


def forget_entry(entry: dict[str, Any], device: str, seq: int) -> dict[str, Any] | None:
    """A tombstone as kept in the state (``id``: its device and segment), or None when
    malformed."""
    pattern, mode = entry.get("pattern"), entry.get("mode")
    if not isinstance(pattern, str) or not pattern or mode not in FORGET_MODES:
        return None
    # A compacted segment keeps the id its tombstones were first published under.
    kept = entry.get("id")
    first = (kept if isinstance(kept, str) and kept.startswith(f"{device}:")
             and kept[len(device) + 1 :].isdigit() and int(kept[len(device) + 1 :]) <= seq
             else tombstone_id(device, seq))
    return {"id": first, "pattern": pattern, "mode": mode,
            "t": entry["t"] if _is_int(entry.get("t")) else None}


def tombstone_id(device: str, seq: int) -> str:
    return f"{device}:{seq}"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

"""Publishing: seal what this device learned since it last published into new segments.

What was published is remembered as digests of journal records (state.published), so a record
is published once whichever way the journal was rewritten since (an ``update`` marking it seen,
a fold keeping it, a merge adding others' records around it). Records merged from other devices
(they carry ``"dev"``) are theirs to publish, never ours.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from aprender_shell.model.learned.journal import Journal, Record
from aprender_shell.sync.layout import segment_name, write_once
from aprender_shell.sync.segments import MAX_ENTRIES, Segment, digest, encode, record_entry
from aprender_shell.sync.state import SyncState


def record_digest(record: Record) -> str:
    # "seen" is set in place when 'update' finds the record in a history file: same record.
    kept = {name: value for name, value in record.items() if name != "seen"}
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()[:24]


def own_records(model_path: Path, generation: str) -> list[Record]:
    """This device's records in the journal, oldest first."""
    return [r for r in Journal(model_path, generation).records() if "dev" not in r]


def pending(records: Sequence[Record], published: Counter[str]) -> tuple[list[Record],
                                                                        Counter[str]]:
    """The records not yet published, and the digests of all of them (the next ``published``)."""
    seen: Counter[str] = Counter()
    todo = []
    for record in records:
        key = record_digest(record)
        seen[key] += 1
        if seen[key] > published.get(key, 0):
            todo.append(record)
    return todo, seen


def publish_records(
    folder: Path, key: bytes, state: SyncState, records: Iterable[Record],
    committed: Callable[[Sequence[Record]], None],
) -> int:
    """Seal ``records`` into new segments of this device, calling ``committed`` with each
    segment's records once it is written (the caller saves the state there: a number is never
    used twice); returns how many were published. ``records`` is read a segment at a time:
    a whole corpus (``sync join``) is never held as records at once."""
    published = 0
    remaining = iter(records)
    while chunk := list(itertools.islice(remaining, MAX_ENTRIES)):
        first = state.records_published + 1
        entries = [record_entry(r, first + i, state.host) for i, r in enumerate(chunk)]
        publish_entries(folder, key, state, entries)
        state.records_published += len(chunk)
        committed(chunk)
        published += len(chunk)
    return published


def publish_entries(folder: Path, key: bytes, state: SyncState,
                    entries: list[dict[str, Any]]) -> None:
    """Write one segment holding ``entries`` (next number, chained to the last one)."""
    knows = [str(tombstone["id"]) for tombstone in state.tombstones if "id" in tombstone]
    segment = Segment(state.device, state.next_seq, state.last_digest, state.host, entries,
                      knows)
    data = encode(key, segment)
    write_once(folder / state.device / segment_name(segment.seq), data)
    state.next_seq += 1
    state.last_digest = digest(data)


def this_host() -> str:
    return os.uname().nodename

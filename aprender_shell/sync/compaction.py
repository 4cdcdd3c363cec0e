"""Compaction of this device's own segments, so a year of use is not a folder of thousands.

A server publishes what was recorded at most every ``watch.PUBLISH_INTERVAL``: many small
segments. Once the end of this device's chain holds ``COMPACT_AT`` small ones (under
``SMALL_BYTES`` each), they are read back and written again as few: the first names the
segments it replaces (segments.py, ``replaces``) and chains to the one before them, the rest
chain to it. Records a tombstone known here covers are left out (every device forgets them
anyway); forget, leave and join entries stay, in order, tombstones under the id they were
first published with. Then the replaced files are removed. Only this device writes its folder,
so no sync engine sees a conflict; a device that applied some of the replaced segments learns
only the records numbered past the last it applied (merge.py), so nothing is applied twice or
lost. Numbers are never reused: the new segments take the next ones.

A compaction cut short (killed between writing and removing) leaves both: a later one reads
each record number once.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aprender_shell.sync import SyncError
from aprender_shell.sync.layout import SEGMENT_NAME, read_segment, segment_name, write_once
from aprender_shell.sync.publish import publish_entries
from aprender_shell.sync.sealing import SealError
from aprender_shell.sync.segments import (
    FORGET,
    MAX_ENTRIES,
    RECORD,
    Segment,
    decode,
    digest,
    encode,
    tombstone_id,
)
from aprender_shell.sync.state import SyncState

# This many small segments at the end of the chain are compacted into few.
COMPACT_AT = 32
# A segment under this size is small (a sealed record is about 150 bytes).
SMALL_BYTES = 256 << 10

Matchers = Sequence[tuple[dict[str, Any], Callable[[str], bool]]]


def compactable(folder: Path, state: SyncState) -> list[int]:
    """The small segments ending this device's chain, if there are enough to compact."""
    try:
        names = os.listdir(folder / state.device)
    except OSError:
        return []
    numbers = [int(found.group(1)) for name in names if (found := SEGMENT_NAME.match(name))]
    run: list[int] = []
    for seq in sorted(numbers, reverse=True):
        expected = (run[-1] - 1) if run else state.next_seq - 1
        if seq != expected:
            break
        try:
            size = os.stat(folder / state.device / segment_name(seq)).st_size
        except OSError:
            break
        if size >= SMALL_BYTES:
            break
        run.append(seq)
    run.reverse()
    return run if len(run) >= COMPACT_AT else []


def compact_own(folder: Path, key: bytes, state: SyncState, run: Sequence[int],
                tombstones: Matchers, committed: Callable[[], None]) -> int:
    """Replace the segments ``run`` (consecutive, ending the chain) with few; returns how many
    files were removed (0 when one of them cannot be read back: nothing changes)."""
    if not run:
        return 0
    first, last = run[0], run[-1]  # first: of what the new segments stand for
    entries: list[dict[str, Any]] = []
    prev = ""
    numbered = 0
    try:
        for seq in run:
            segment = decode(key, state.device, seq, read_segment(folder, state.device, seq))
            if seq == run[0]:
                prev = segment.prev
                if segment.replaces is not None:  # a compacted one: so is the new one
                    first = segment.replaces[0]
            known = set(segment.knows)
            for entry in segment.entries:
                kind = entry.get("k")
                if kind == RECORD:
                    number = entry.get("n")
                    if not isinstance(number, int) or number <= numbered:
                        continue  # twice (a compaction cut short): once is enough
                    numbered = number
                    command = entry.get("c")
                    if isinstance(command, str) and any(
                            tomb["id"] not in known and match(command)
                            for tomb, match in tombstones):
                        continue  # forgotten everywhere
                elif kind == FORGET and "id" not in entry:
                    entry = {**entry, "id": tombstone_id(state.device, seq)}
                entries.append(entry)
    except (OSError, SyncError, SealError):
        return 0  # a file of ours we cannot read back is left as it is
    knows = [str(tombstone["id"]) for tombstone in state.tombstones if "id" in tombstone]
    head = Segment(state.device, state.next_seq, prev, state.host, entries[:MAX_ENTRIES], knows,
                   (first, last))
    data = encode(key, head)
    write_once(folder / state.device / segment_name(head.seq), data)
    state.next_seq += 1
    state.last_digest = digest(data)
    committed()
    for start in range(MAX_ENTRIES, len(entries), MAX_ENTRIES):
        publish_entries(folder, key, state, entries[start : start + MAX_ENTRIES])
        committed()
    removed = 0
    for seq in run:
        with contextlib.suppress(FileNotFoundError):
            (folder / state.device / segment_name(seq)).unlink()
            removed += 1
    return removed

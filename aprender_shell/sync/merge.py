"""Merging: read the other devices' new segments in order and learn their records.

Each device's segments are applied in number order, each once: a segment must authenticate for
its place (sealing.py) and name the digest of the one applied before it. The first that does
not (cut short, tampered with, another key, a replay, a rollback) is refused and named, and
that device waits there: nothing after it is learned until it is whole, so nothing is lost and
nothing is learned twice. Every other device still merges.

Segments are read one at a time and handed to a sink (intake.py), so a merge holds one
segment's records as dicts, never every device's at once. Records enter the journal through the
writer protocol, with their device, number and host; the fold then puts them in the model like
the shells' own records. A record this device's ``history_filter`` or the secrets filter keeps
out, or one a tombstone covers, is never learned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aprender_shell.model.learned.journal import Journal, Record
from aprender_shell.sync import SyncError
from aprender_shell.sync.layout import Listing, read_segment, segment_name
from aprender_shell.sync.sealing import SealError
from aprender_shell.sync.segments import (
    FORGET,
    JOIN,
    LEAVE,
    RECORD,
    Segment,
    decode,
    digest,
    forget_entry,
    journal_record,
)
from aprender_shell.sync.state import Peer, SyncState


@dataclass
class Incoming:
    """What the other devices' new segments hold (the state's peers already advanced)."""

    taken: int = 0  # records handed to the sink
    tombstones: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    malformed: int = 0


# Takes one segment's records and the tombstones their writer had applied (segments.py's
# "knows"); it may keep them however it likes once it returns.
Sink = Callable[[list[Record], frozenset[str]], None]


def read_incoming(folder: Path, key: bytes, state: SyncState, listing: Listing,
                  sink: Sink) -> Incoming:
    """Read every device's segments past those applied, one at a time, handing each one's
    records to ``sink``; advances ``state.peers``."""
    incoming = Incoming()
    for device, numbers in sorted(listing.devices.items()):
        if device == state.device:
            continue
        peer = state.peers.get(device, Peer())
        if numbers and numbers[-1] < peer.seq:
            incoming.refused.append(
                f"device {device}: its segments end at {numbers[-1]} but {peer.seq} were "
                "applied here (its files were rolled back); its new ones wait"
            )
        expected = peer.seq + 1
        for seq in numbers:
            if seq < expected:
                continue
            where = f"{device}/{segment_name(seq)}"
            missing = (f"{device}/{segment_name(expected)} is missing (not synced yet?): "
                       f"{where} and later ones wait for it")
            try:
                data = read_segment(folder, device, seq)
                segment = decode(key, device, seq, data)
            except FileNotFoundError:
                break  # removed since the listing (the folder vanishing): read next time
            except (OSError, SyncError, SealError) as error:
                reason = error.strerror if isinstance(error, OSError) else str(error)
                incoming.refused.append(missing if seq != expected else (
                    f"{where} refused: {reason} (another key, tampering, or a file moved or "
                    "cut short); nothing learned from it"))
                break
            # A compacted segment stands for segments this device applied some of.
            within = (segment.replaces is not None
                      and segment.replaces[0] <= peer.seq <= segment.replaces[1])
            if seq != expected and not (segment.replaces is not None
                                        and segment.replaces[0] <= expected):
                incoming.refused.append(missing)
                break
            if not within and segment.prev != peer.digest:
                incoming.refused.append(f"{where} refused: it does not follow the segment "
                                        f"{peer.seq} applied here (replayed or rolled back)")
                break
            _take(segment, peer, incoming, sink)
            peer.host = segment.host or peer.host
            peer.seq, peer.digest = seq, digest(data)
            expected = seq + 1
        if device in state.peers or peer.seq:
            state.peers[device] = peer
    return incoming


def _take(segment: Segment, peer: Peer, incoming: Incoming, sink: Sink) -> None:
    device = segment.device
    records: list[Record] = []
    floor = peer.upto or peer.records  # (a state from before ``upto``: as many as numbered)
    for entry in segment.entries:
        kind = entry.get("k")
        if kind == RECORD:
            record = journal_record(entry, device)
            if record is None:
                incoming.malformed += 1
                continue
            if record["seq"] <= floor:
                continue  # applied already, from a segment a compacted one replaces
            peer.upto = max(peer.upto, record["seq"])
            records.append(record)
            peer.records += 1
            stamp = record.get("t")
            if isinstance(stamp, int):
                peer.last_t = stamp if peer.last_t is None else max(peer.last_t, stamp)
        elif kind == FORGET:
            tombstone = forget_entry(entry, device, segment.seq)
            if tombstone is None:
                incoming.malformed += 1
            else:
                incoming.tombstones.append(tombstone)
        elif kind == LEAVE:
            peer.left = True
        elif kind == JOIN:
            peer.left = False
        else:
            incoming.malformed += 1
    segment.entries = []  # its dicts go as the records are taken
    if records:
        incoming.taken += len(records)
        sink(records, frozenset(segment.knows))


def learn(model_path: Path, records: Sequence[Record]) -> None:
    """Append ``records`` to the journal as the one writer, folding when it grew past the
    bound (``update``'s compaction); a running server reopens the model at its next request."""
    from aprender_shell.model.memory import MemoryLimit
    from aprender_shell.model.training.update.compaction import compact, needs_compaction
    from aprender_shell.model.training.writer import index_of, writer

    if not records:
        return
    with writer(model_path) as w:
        index = index_of(model_path)
        journal = Journal(model_path, index.generation)
        with w.replacing(index.generation, "merging") as state:
            if state.generation not in (None, index.generation):
                raise SyncError("the model was retrained while merging: run 'aprender-shell "
                                "sync now' again")
            present = {(r.get("dev"), r.get("seq")) for r in state.records if "dev" in r}
            merged = state.records + [
                r for r in records if (r.get("dev"), r.get("seq")) not in present
            ]
            journal.write(merged, state.marks)
        limit = MemoryLimit.choose(None, index.memory_limit)
        if needs_compaction(merged, limit):
            compact(w, index, journal, limit, None)

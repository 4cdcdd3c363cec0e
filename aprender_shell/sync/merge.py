"""Merging: read the other devices' new segments in order and learn their records.

Each device's segments are applied in number order, each once: a segment must authenticate for
its place (sealing.py) and name the digest of the one applied before it. The first that does
not (cut short, tampered with, another key, a replay, a rollback) is refused and named, and
that device waits there: nothing after it is learned until it is whole, so nothing is lost and
nothing is learned twice. Every other device still merges.

Records enter the journal through the writer protocol, with their device, number and host;
the fold then puts them in the model like the shells' own records. A record this device's
``history_filter`` or the secrets filter keeps out, or one a tombstone covers, is never learned.
"""

from __future__ import annotations

import contextlib
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

    records: list[Record] = field(default_factory=list)
    # For each record: the tombstones its writer had applied (segments.py's "knows").
    knows: list[frozenset[str]] = field(default_factory=list)
    tombstones: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    malformed: int = 0


def read_incoming(folder: Path, key: bytes, state: SyncState, listing: Listing) -> Incoming:
    """Read every device's segments past those applied; advances ``state.peers``."""
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
            if seq != expected:
                incoming.refused.append(f"{device}/{segment_name(expected)} is missing (not "
                                        f"synced yet?): {where} and later ones wait for it")
                break
            try:
                data = read_segment(folder, device, seq)
                segment = decode(key, device, seq, data)
            except FileNotFoundError:
                break  # removed since the listing (the folder vanishing): read next time
            except (OSError, SyncError, SealError) as error:
                reason = error.strerror if isinstance(error, OSError) else str(error)
                incoming.refused.append(f"{where} refused: {reason} (another key, tampering, "
                                        "or a file moved or cut short); nothing learned from it")
                break
            if segment.prev != peer.digest:
                incoming.refused.append(f"{where} refused: it does not follow the segment "
                                        f"{peer.seq} applied here (replayed or rolled back)")
                break
            _take(segment, peer, incoming)
            peer.host = segment.host or peer.host
            peer.seq, peer.digest = seq, digest(data)
            expected += 1
        if device in state.peers or peer.seq:
            state.peers[device] = peer
    return incoming


def _take(segment: Segment, peer: Peer, incoming: Incoming) -> None:
    device = segment.device
    knows = frozenset(segment.knows)
    for entry in segment.entries:
        kind = entry.get("k")
        if kind == RECORD:
            record = journal_record(entry, device)
            if record is None:
                incoming.malformed += 1
                continue
            incoming.records.append(record)
            incoming.knows.append(knows)
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


Matcher = Callable[[str], bool]


def admitted(
    records: Sequence[Record], knows: Sequence[frozenset[str]],
    tombstones: Sequence[tuple[dict[str, Any], Matcher]],
) -> tuple[list[Record], int]:
    """The records this device may learn, and how many it keeps out."""
    from aprender_shell.history.privacy import default_gate

    gate = default_gate()
    with contextlib.suppress(Exception):
        gate.check()  # an unreadable filter keeps everything out below (fail closed)
    kept: list[Record] = []

    verdicts: dict[str, bool] = {}  # the filters judge each distinct command once

    def allowed(command: str, known: frozenset[str]) -> bool:
        verdict = verdicts.get(command)
        if verdict is None:
            try:
                verdict = gate.reason(command, reread=False) is None
            except Exception:  # noqa: BLE001 - the filter cannot be read: learn nothing
                verdict = False
            verdicts[command] = verdict
        if not verdict:
            return False
        # A tombstone its writer had not applied yet covers it: it was run before the forget.
        return not any(tomb["id"] not in known and match(command) for tomb, match in tombstones)

    for record, known in zip(records, knows):
        if not allowed(record["c"], known):
            continue
        previous = record.get("prev")
        if isinstance(previous, str) and not allowed(previous, known):
            record["prev"] = None
        kept.append(record)
    return kept, len(records) - len(kept)


def learn(model_path: Path, records: Sequence[Record]) -> None:
    """Append ``records`` to the journal as the one writer, folding when it grew past the
    bound (``update``'s compaction); a running server reopens the model at its next request."""
    from aprender_shell.model.memory import MemoryLimit
    from aprender_shell.model.training.update import compact, index_of, needs_compaction
    from aprender_shell.model.training.writer import writer

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

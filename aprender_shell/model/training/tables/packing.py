"""Packing a trained model's tables into segments that fit its memory limit.

Sorted records are cut into segments of at most the limit's segment size (command segments at
family boundaries where they can be); prefixes whose matches span segments get their best
matches listed (the ``hot`` table); the corpus is stored in chunks that each fit a segment.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from aprender_shell.history.formats import HistoryEntry
from aprender_shell.model import scoring
from aprender_shell.model.store.corpus import encode_chunk
from aprender_shell.model.store.index import CorpusChunk, corpus_chunk_limit
from aprender_shell.model.store.segments import (
    CommandStats,
    encode_candidates_payload,
    encode_segment,
    record_size,
)


def pack_commands(
    records: Iterable[tuple[str, bytes]],
    ranks: dict[str, float],
    segment_bytes: int,
    family_of: dict[str, str],
) -> Iterator[tuple[str, bytes]]:
    """Group sorted command records into segments, cutting at family boundaries when possible;
    each segment (its first key and data) as soon as it is cut."""
    current: list[tuple[str, bytes]] = []
    size = 0
    family = None
    made = False

    def segment() -> tuple[str, bytes]:
        ranked = sorted(range(len(current)), key=lambda i: -ranks[current[i][0]])
        return current[0][0], encode_segment(current, ranked)

    for key, payload in records:
        this_family = family_of[key]
        cost = record_size(key, payload) + 4
        new_family = this_family != family
        if current and (size + cost > segment_bytes or (new_family and size >= segment_bytes // 4)):
            yield segment()
            made = True
            current, size = [], 0
        current.append((key, payload))
        size += cost
        family = this_family
    if current:
        yield segment()
    elif not made:
        yield "", encode_segment([], [])


def pack_table(
    records: Iterable[tuple[str, bytes]], segment_bytes: int
) -> Iterator[tuple[str, bytes]]:
    """Sorted records cut into segments of at most ``segment_bytes``, each as soon as it is cut."""
    current: list[tuple[str, bytes]] = []
    size = 0
    for key, payload in records:
        cost = record_size(key, payload)
        if current and size + cost > segment_bytes:
            yield current[0][0], encode_segment(current)
            current, size = [], 0
        current.append((key, payload))
        size += cost
    if current:
        yield current[0][0], encode_segment(current)


def _common_prefix(a: str, b: str) -> str:
    length = 0
    for x, y in zip(a, b):
        if x != y:
            break
        length += 1
    return a[:length]


def hot_prefixes(
    ordered: list[str],
    starts: Sequence[str],
    ranks: dict[str, float],
    frozen: dict[str, CommandStats],
) -> list[tuple[str, bytes]]:
    """Best matches for each prefix whose matches span several command segments (``starts``:
    each segment's first key).

    A prefix spans segments ``i`` and ``i + 1`` exactly when it is a prefix of both the last
    key of ``i`` and the first key of ``i + 1``; every such prefix is listed.
    """
    if len(starts) < 2:
        return []
    prefixes: set[str] = set()
    for number in range(1, len(starts)):
        first = starts[number]
        last = ordered[bisect.bisect_left(ordered, first) - 1]
        common = _common_prefix(last, first)
        prefixes.update(common[:length] for length in range(len(common) + 1))
    by_rank = sorted(ordered, key=lambda text: -ranks[text])
    records = []
    for prefix in sorted(prefixes):
        lo = bisect.bisect_left(ordered, prefix)
        hi = lo
        # Widen by galloping, then binary search, to find the end of the prefix's range.
        step = 1
        while hi + step <= len(ordered) and ordered[hi + step - 1].startswith(prefix):
            hi += step
            step *= 2
        while hi < len(ordered) and ordered[hi].startswith(prefix):
            hi += 1
        wanted = scoring.RETRIEVED_CANDIDATES
        if hi - lo > 4096:
            best = _first_matching(by_rank, prefix, wanted)
        else:
            best = heapq.nlargest(wanted, ordered[lo:hi], key=ranks.__getitem__)
        records.append((prefix, encode_candidates_payload([(t, frozen[t]) for t in best])))
    return records


def _first_matching(by_rank: list[str], prefix: str, limit: int) -> list[str]:
    found = []
    for text in by_rank:
        if text.startswith(prefix):
            found.append(text)
            if len(found) == limit:
                break
    return found


def add_corpus(
    builder: Any, entries: Iterable[HistoryEntry], segment_bytes: int
) -> list[CorpusChunk]:
    """Store the command sequence in compressed chunks that each fit in a segment."""
    chunks: list[CorpusChunk] = []
    limit = corpus_chunk_limit(segment_bytes)

    def store(part: Sequence[HistoryEntry]) -> None:
        data, raw_size = encode_chunk(part)
        if (len(data) > segment_bytes or raw_size > limit) and len(part) > 1:
            store(part[: len(part) // 2])
            store(part[len(part) // 2 :])
            return
        name = f"corpus/{len(chunks):04d}"
        builder.add_model(name, data)
        chunks.append(CorpusChunk(name, raw_size))

    chunk: list[HistoryEntry] = []
    size = 0
    for entry in entries:
        chunk.append(entry)
        size += len(entry.command) + 16
        if entry.context is not None:
            # What a row's context adds (its keys and fields): a chunk is cut by what it
            # stores, not re-encoded in halves until it fits.
            context = entry.context
            size += 60 + len(context.cwd or "") + len(context.host or "")
            size += len(context.prev or "") + len(context.agent or "")
        if size >= 4 * segment_bytes:
            store(chunk)
            chunk, size = [], 0
    if chunk or not chunks:
        store(chunk)
    return chunks

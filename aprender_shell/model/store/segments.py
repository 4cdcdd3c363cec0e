"""Binary layout of the model's bundle entries, read in place without decoding them whole.

A segment is a sorted table of records, each a UTF-8 key followed by a payload. Queries
binary-search the keys and unpack only the records they touch, so the bytes held by
``PagedBundle``'s cache are all the memory a segment costs.

Segment layout (little-endian)::

    u32 record_count
    u32 flags                     bit 0: a ranked-order array follows the offsets
    u32 offsets[record_count + 1] byte offsets of records, relative to the record area
    u32 ranked[record_count]      (if flagged) record indices, best static score first
    records                       each: u16 key_length, key (UTF-8), payload

Payloads:

- command record: ``CommandStats`` then u8 successor count, then for each successor a
  u16 text length, its text, u32 transition count and its ``CommandStats``.
- hot-prefix record: u8 candidate count, then for each a u16 text length, text, ``CommandStats``.
- n-gram record: u32 context total, u8 continuation count, then for each a u16 token length,
  the token, u32 count.

``CommandStats`` is ``u32 count, u32 last_position, f32 short_weight, f32 long_weight``.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Iterator, Mapping, Sequence

from aprender_shell.model.tuples import NamedTuple

_U32 = struct.Struct("<I")
_U16 = struct.Struct("<H")
_HEADER = struct.Struct("<II")
_STATS = struct.Struct("<IIff")
_NGRAM_HEAD = struct.Struct("<IB")
RANKED_FLAG = 1
MAX_KEY_BYTES = 0xFFFF


class CommandStats(NamedTuple):
    """How often and how recently a whole command was used, as of the end of training."""

    count: int  # type: ignore[assignment]  # shadows tuple.count, which nothing calls
    last_position: int
    short_weight: float
    long_weight: float


class Successor(NamedTuple):
    """A command seen right after another one, with how often that happened."""

    text: str
    transitions: int
    stats: CommandStats


class CommandRecord(NamedTuple):
    text: str
    stats: CommandStats
    successors: tuple[Successor, ...]


def _pack_text(text: str) -> bytes:
    raw = text.encode("utf-8", "surrogatepass")
    return _U16.pack(len(raw)) + raw


def _pack_stats(stats: CommandStats) -> bytes:
    return _STATS.pack(stats.count, stats.last_position, stats.short_weight, stats.long_weight)


def encode_command_payload(stats: CommandStats, successors: Sequence[Successor]) -> bytes:
    parts = [_pack_stats(stats), bytes([len(successors)])]
    for successor in successors:
        parts.append(_pack_text(successor.text))
        parts.append(_U32.pack(successor.transitions))
        parts.append(_pack_stats(successor.stats))
    return b"".join(parts)


class CommandPayloads:
    """Encodes command payloads as ``encode_command_payload`` does, from commands whose
    statistics are all known: each command's text and statistics are packed once, however
    many commands it follows."""

    def __init__(self, stats: Mapping[str, CommandStats]) -> None:
        self._stats = stats
        self._packed: dict[str, tuple[bytes, bytes]] = {}

    def _pieces(self, text: str) -> tuple[bytes, bytes]:
        pieces = self._packed.get(text)
        if pieces is None:
            pieces = self._packed[text] = (_pack_text(text), _pack_stats(self._stats[text]))
        return pieces

    def encode(self, text: str, successors: Sequence[tuple[str, int]]) -> bytes:
        """The payload of ``text`` followed by ``successors`` (text, transitions), best first."""
        # Only successors are kept packed: a command's own statistics are packed once anyway.
        own = self._packed.get(text)
        parts = [own[1] if own else _pack_stats(self._stats[text]), bytes((len(successors),))]
        for successor, transitions in successors:
            packed_text, packed_stats = self._pieces(successor)
            parts += (packed_text, _U32.pack(transitions), packed_stats)
        return b"".join(parts)


def encode_candidates_payload(candidates: Sequence[tuple[str, CommandStats]]) -> bytes:
    parts = [bytes([len(candidates)])]
    for text, stats in candidates:
        parts.append(_pack_text(text))
        parts.append(_pack_stats(stats))
    return b"".join(parts)


def encode_ngram_payload(total: int, continuations: Sequence[tuple[str, int]]) -> bytes:
    parts = [_NGRAM_HEAD.pack(total, len(continuations))]
    for token, count in continuations:
        parts.append(_pack_text(token))
        parts.append(_U32.pack(count))
    return b"".join(parts)


def record_size(key: str, payload: bytes) -> int:
    """Bytes a record adds to a segment (its offset entry and ranked entry included)."""
    return 2 + len(key.encode("utf-8", "surrogatepass")) + len(payload) + 8


def encode_segment(
    records: Sequence[tuple[str, bytes]], ranked: Sequence[int] | None = None
) -> bytes:
    """Serialise ``records`` (already sorted by key) into one segment."""
    body = bytearray()
    offsets = [0]
    for key, payload in records:
        body += _pack_text(key)
        body += payload
        offsets.append(len(body))
    flags = RANKED_FLAG if ranked is not None else 0
    head = bytearray(_HEADER.pack(len(records), flags))
    head += struct.pack(f"<{len(offsets)}I", *offsets)
    if ranked is not None:
        head += struct.pack(f"<{len(ranked)}I", *ranked)
    return bytes(head + body)


def _offsets_array(data: bytes, at: int, count: int) -> Sequence[int]:
    """The ``count`` u32 offsets at ``at`` of ``data``, indexable in place."""
    return memoryview(data)[at : at + 4 * count].cast("I")


def _offsets_unpacked(data: bytes, at: int, count: int) -> Sequence[int]:
    return struct.unpack_from(f"<{count}I", data, at)


# A memoryview reads the offsets in place, in the machine's byte order: little-endian only.
_offsets = _offsets_array if sys.byteorder == "little" and struct.calcsize("I") == 4 else (
    _offsets_unpacked)


class SegmentView:
    """Read-only access to one segment's records straight from its bytes."""

    __slots__ = ("data", "count", "_offsets_at", "_ranked_at", "_records_at")

    def __init__(self, data: bytes) -> None:
        if len(data) < _HEADER.size:
            raise ValueError("segment shorter than its header")
        self.data = data
        self.count, flags = _HEADER.unpack_from(data, 0)
        self._offsets_at = _HEADER.size
        after_offsets = self._offsets_at + 4 * (self.count + 1)
        self._ranked_at = after_offsets if flags & RANKED_FLAG else -1
        self._records_at: int = after_offsets + (4 * self.count if flags & RANKED_FLAG else 0)
        if self._records_at > len(data):
            raise ValueError("segment record table runs past its end")

    def _record_start(self, index: int) -> int:
        offset: int = _U32.unpack_from(self.data, self._offsets_at + 4 * index)[0]
        return self._records_at + offset

    def key(self, index: int) -> str:
        start = self._record_start(index)
        length = _U16.unpack_from(self.data, start)[0]
        return self.data[start + 2 : start + 2 + length].decode("utf-8", "surrogatepass")

    def payload_start(self, index: int) -> int:
        start = self._record_start(index)
        length: int = _U16.unpack_from(self.data, start)[0]
        return start + 2 + length

    def _lower_bound(self, target: bytes) -> int:
        """Index of the first record whose key's UTF-8 bytes are >= ``target``.

        UTF-8 (with surrogates passed through) orders bytes as the code points they encode,
        so comparing the stored bytes finds what comparing decoded keys would, without
        decoding a key at every step of the search.
        """
        data = self.data
        # The offsets as an array of native u32 (little-endian here), read by indexing, and
        # each key's u16 length from its two bytes: no struct call at any step of the search.
        offsets = _offsets(data, self._offsets_at, self.count)
        records_at = self._records_at + 2
        lo, hi = 0, self.count
        while lo < hi:
            mid = (lo + hi) // 2
            start = records_at + offsets[mid]
            if data[start : start + (data[start - 2] | data[start - 1] << 8)] < target:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def lower_bound(self, key: str) -> int:
        """Index of the first record whose key is >= ``key``."""
        return self._lower_bound(key.encode("utf-8", "surrogatepass"))

    def prefix_range(self, prefix: str) -> tuple[int, int]:
        """Indices ``[lo, hi)`` of the records whose key starts with ``prefix``."""
        if not prefix:
            return 0, self.count
        target = prefix.encode("utf-8", "surrogatepass")
        # No UTF-8 sequence holds the byte 0xFF: every key starting with ``prefix`` sorts
        # below ``prefix + 0xFF`` and every later key that does not start with it, above.
        return self._lower_bound(target), self._lower_bound(target + b"\xff")

    def find(self, key: str) -> int:
        """Index of the record with exactly ``key``, or -1."""
        target = key.encode("utf-8", "surrogatepass")
        index = self._lower_bound(target)
        if index < self.count:
            start = self._record_start(index)
            if self.data[start + 2 : start + 2 + _U16.unpack_from(self.data, start)[0]] == target:
                return index
        return -1

    def ranked(self) -> Iterator[int]:
        """Record indices in descending order of static score."""
        if self._ranked_at < 0:
            yield from range(self.count)
            return
        for position in range(self.count):
            yield _U32.unpack_from(self.data, self._ranked_at + 4 * position)[0]

    # Payload decoders --------------------------------------------------------------------

    def _text_at(self, offset: int) -> tuple[str, int]:
        length = _U16.unpack_from(self.data, offset)[0]
        end = offset + 2 + length
        return self.data[offset + 2 : end].decode("utf-8", "surrogatepass"), end

    def _stats_at(self, offset: int) -> tuple[CommandStats, int]:
        count, last, short, long_ = _STATS.unpack_from(self.data, offset)
        return CommandStats(count, last, short, long_), offset + _STATS.size

    def command_stats(self, index: int) -> CommandStats:
        return self._stats_at(self.payload_start(index))[0]

    def entry(self, index: int) -> tuple[str, CommandStats]:
        """A command record's key and statistics, read in one pass."""
        data = self.data
        start = self._records_at + _U32.unpack_from(data, self._offsets_at + 4 * index)[0]
        end = start + 2 + _U16.unpack_from(data, start)[0]
        count, last, short, long_ = _STATS.unpack_from(data, end)
        return data[start + 2 : end].decode("utf-8", "surrogatepass"), CommandStats(
            count, last, short, long_
        )

    def command(self, index: int) -> CommandRecord:
        offset = self.payload_start(index)
        stats, offset = self._stats_at(offset)
        successor_count = self.data[offset]
        offset += 1
        successors = []
        for _ in range(successor_count):
            text, offset = self._text_at(offset)
            transitions = _U32.unpack_from(self.data, offset)[0]
            succ_stats, offset = self._stats_at(offset + 4)
            successors.append(Successor(text, transitions, succ_stats))
        return CommandRecord(self.key(index), stats, tuple(successors))

    def successors(self, index: int) -> tuple[CommandStats, Iterator[Successor]]:
        """A command record's statistics and its successors, decoded one at a time as they
        are taken (``command`` decodes them all at once)."""
        stats, offset = self._stats_at(self.payload_start(index))
        return stats, self._successors_from(offset)

    def _successors_from(self, offset: int) -> Iterator[Successor]:
        count = self.data[offset]
        offset += 1
        for _ in range(count):
            text, offset = self._text_at(offset)
            transitions = _U32.unpack_from(self.data, offset)[0]
            stats, offset = self._stats_at(offset + 4)
            yield Successor(text, transitions, stats)

    def candidates(self, index: int) -> list[tuple[str, CommandStats]]:
        offset = self.payload_start(index)
        count = self.data[offset]
        offset += 1
        result = []
        for _ in range(count):
            text, offset = self._text_at(offset)
            stats, offset = self._stats_at(offset)
            result.append((text, stats))
        return result

    def ngram(self, index: int) -> tuple[int, list[tuple[str, int]]]:
        offset = self.payload_start(index)
        total, count = _NGRAM_HEAD.unpack_from(self.data, offset)
        offset += _NGRAM_HEAD.size
        result = []
        for _ in range(count):
            token, offset = self._text_at(offset)
            result.append((token, _U32.unpack_from(self.data, offset)[0]))
            offset += 4
        return total, result

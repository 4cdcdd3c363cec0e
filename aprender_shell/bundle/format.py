"""The ``.apbundle`` byte format: header, manifest, entry layout, checksums and compression.

FORMAT.md at the top of the repository is the specification; this module is its reference
implementation. Everything here works on bytes already read: the builder and the paging
reader decide how the bytes reach the disk or come off it.
"""

from __future__ import annotations

import struct
import sys
import zlib

from aprender_shell.bundle.jsontext import Decoder
from aprender_shell.bundle.values import Choice, Value
from aprender_shell.errors import BundleError, ChecksumError

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from typing import Any, ClassVar, Sequence

MAGIC = b"APBUNDLE"
# Format history:
#   1 — header + JSON manifest + 64-byte-aligned entries; CRC-32 of stored bytes; none/zlib.
# A reader refuses any version above the one it knows (the file comes from a newer release).
VERSION = 1
HEADER = struct.Struct("<8sII")
HEADER_SIZE = HEADER.size  # 16
ALIGNMENT = 64
# A manifest lists names and numbers only; anything this large is corruption, and refusing it
# before allocating keeps a damaged header from costing gigabytes.
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
# What opening a bundle holds, its manifest decoded (about four times the JSON, one record per
# entry), is counted against the paging limit: a bundle paged within ``max_memory`` bytes may
# declare a manifest of a sixteenth of it (128 KB at least, a few hundred entries). A crafted
# file with 100,000 entries otherwise held 90 MB under a 16 MB limit before any query.
MANIFEST_SHARE = 16
MIN_MANIFEST_ALLOWANCE = 128 * 1024
# The most one entry's manifest record takes beside its quoted name: its keys and four
# numbers of up to 19 digits.
ENTRY_RECORD_BYTES = 150
MAX_U32 = 0xFFFFFFFF
MAX_INT64 = 2**63 - 1


class Compression(Choice, str):
    """How an entry's bytes are stored in the file (equal to its value, as a string)."""

    NONE: ClassVar[Compression]
    ZLIB: ClassVar[Compression]
    value: str


Compression._define(NONE="none", ZLIB="zlib")


class ManifestTooLargeError(BundleError):
    """The bundle declares more entries than its paging limit can hold the manifest of;
    ``length`` is the manifest's size, ``allowance`` what the limit allows."""

    def __init__(self, message: str, length: int, allowance: int) -> None:
        super().__init__(message)
        self.length = length
        self.allowance = allowance


class EntryNotFoundError(BundleError, KeyError):
    """The bundle has no entry of the requested name."""

    def __init__(self, name: str, source: str = "the bundle") -> None:
        self.name = name
        BundleError.__init__(self, f"{source} has no entry named {name!r}")

    def __str__(self) -> str:
        # KeyError would quote the whole message; keep it one plain line like every BundleError.
        return str(self.args[0])


class Entry(Value):
    """One manifest record: where an entry's stored bytes are and how to turn them into data
    (a plain value class: ``bundle/values.py``)."""

    __slots__ = ("name", "offset", "size", "checksum", "compression", "raw_size")

    def __init__(self, name: str, offset: int, size: int, checksum: int,
                 compression: Compression, raw_size: int) -> None:
        self.name = name
        self.offset = offset  # absolute, from the start of the file
        self.size = size  # stored bytes in the file
        self.checksum = checksum  # CRC-32 of the stored bytes
        self.compression = compression
        self.raw_size = raw_size  # bytes after decompression (== size when not compressed)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "offset": self.offset,
            "size": self.size,
            "raw_size": self.raw_size,
            "compression": self.compression.value,
            "checksum": self.checksum,
        }


def align(position: int) -> int:
    """The first multiple of ``ALIGNMENT`` at or after ``position``."""
    return -(-position // ALIGNMENT) * ALIGNMENT


def checksum(data: bytes | bytearray | memoryview, start: int = 0) -> int:
    """CRC-32 (the zlib / ISO-HDLC polynomial) of ``data``, continuing from ``start``."""
    return zlib.crc32(data, start) & MAX_U32


def store(data: bytes, compression: Compression, level: int) -> tuple[bytes, Compression]:
    """The bytes to write for ``data`` and the compression they really use.

    zlib is dropped for an entry it does not shrink, so incompressible data costs nothing.
    """
    if compression is Compression.ZLIB:
        packed = zlib.compress(data, level)
        if len(packed) < len(data):
            return packed, Compression.ZLIB
    return data, Compression.NONE


def manifest_allowance(max_memory: int) -> int:
    """The most manifest bytes a bundle paged within ``max_memory`` bytes may declare."""
    return max(MIN_MANIFEST_ALLOWANCE, max_memory // MANIFEST_SHARE)


def manifest_bound(names: Sequence[str]) -> int:
    """At most how many bytes the manifest of entries named ``names`` takes."""
    import json

    return 32 + sum(
        len(json.dumps(name, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        + ENTRY_RECORD_BYTES
        for name in names
    )


def encode_manifest(entries: Sequence[Entry]) -> bytes:
    """The manifest JSON of ``entries``, UTF-8 encoded."""
    import json

    document = {"model_count": len(entries), "models": [entry.to_json() for entry in entries]}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def layout(
    records: Sequence[tuple[str, int, int, Compression, int]],
) -> tuple[bytes, list[Entry]]:
    """Place entries given as ``(name, stored_size, checksum, compression, raw_size)``.

    Returns the header and manifest, zero-padded up to the first entry's offset, and the
    entries with their offsets. The manifest holds the offsets and its length decides where
    the data starts, so the start is raised until the manifest fits before it (the manifest
    only grows as offsets grow, so this ends within a few rounds).
    """
    data_start = align(HEADER_SIZE)
    while True:
        entries: list[Entry] = []
        position = data_start
        for name, size, crc, compression, raw_size in records:
            position = align(position)
            entries.append(Entry(name, position, size, crc, compression, raw_size))
            position += size
        manifest = encode_manifest(entries)
        needed = align(HEADER_SIZE + len(manifest))
        if needed <= data_start:
            break
        data_start = needed
    if len(manifest) > MAX_MANIFEST_BYTES:
        raise BundleError(f"too many entries: the manifest would exceed {MAX_MANIFEST_BYTES} bytes")
    head = HEADER.pack(MAGIC, VERSION, len(manifest)) + manifest
    return head + bytes(data_start - len(head)), entries


def validate_name(name: object) -> str:
    """``name`` if it can name an entry: a non-empty string that encodes as UTF-8."""
    if not isinstance(name, str) or not name:
        raise BundleError(f"entry names must be non-empty strings, not {name!r}")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise BundleError(f"entry name {name!r} is not valid Unicode") from None
    return name


# Reading -------------------------------------------------------------------------------------


def decode_header(head: bytes, file_size: int, source: str) -> int:
    """Check the 16-byte header of a file of ``file_size`` bytes; return the manifest length."""
    if file_size == 0:
        raise BundleError(f"{source} is empty, not a bundle")
    if len(head) < HEADER_SIZE or file_size < HEADER_SIZE:
        if MAGIC.startswith(head[: len(MAGIC)]):
            raise BundleError(
                f"{source} is truncated: {file_size} bytes, shorter than a bundle header"
            )
        raise BundleError(f"{source} is not an aprender-shell bundle (wrong magic bytes)")
    magic, version, manifest_length = HEADER.unpack(head[:HEADER_SIZE])
    if magic != MAGIC:
        raise BundleError(f"{source} is not an aprender-shell bundle (wrong magic bytes)")
    if version > VERSION:
        raise BundleError(
            f"{source} is bundle format version {version}, written by a newer aprender-shell"
            f" (this one reads up to {VERSION}): upgrade aprender-shell"
        )
    if version < 1:
        raise BundleError(f"{source} has an invalid bundle format version {version}")
    if manifest_length > MAX_MANIFEST_BYTES:
        raise BundleError(
            f"{source} is corrupt: manifest length {manifest_length} exceeds the"
            f" {MAX_MANIFEST_BYTES}-byte limit"
        )
    if HEADER_SIZE + manifest_length > file_size:
        raise BundleError(
            f"{source} is truncated: the manifest needs {manifest_length} bytes but the file"
            f" has {file_size - HEADER_SIZE} after the header"
        )
    return int(manifest_length)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _reject_constant(token: str) -> Any:
    raise ValueError(f"{token} is not valid JSON")


_MANIFEST = Decoder(object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant)


def _field_int(record: dict[str, Any], key: str, where: str, source: str, limit: int) -> int:
    value = record.get(key)
    # bool is an int subclass in Python but never a valid count or offset.
    if not isinstance(value, int) or isinstance(value, bool):
        raise BundleError(
            f"{source} is corrupt: {where} field {key!r} must be an integer, not {value!r:.40}"
        )
    if not 0 <= value <= limit:
        raise BundleError(
            f"{source} is corrupt: {where} field {key!r} is out of range ({str(value)[:40]})"
        )
    return value


def decode_manifest(raw: bytes, file_size: int, source: str) -> list[Entry]:
    """Parse and check the manifest of a file of ``file_size`` bytes; entries in manifest order."""
    try:
        text = raw.decode("utf-8")
        document = _MANIFEST.loads(text)
    except (ValueError, RecursionError) as error:
        detail = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
        raise BundleError(
            f"{source} is corrupt: the manifest is not valid JSON ({detail})"
        ) from None
    if not isinstance(document, dict):
        raise BundleError(f"{source} is corrupt: the manifest is not a JSON object")
    models = document.get("models")
    if not isinstance(models, list):
        raise BundleError(f"{source} is corrupt: the manifest has no 'models' list")
    count = _field_int(document, "model_count", "manifest", source, MAX_U32)
    if count != len(models):
        raise BundleError(
            f"{source} is corrupt: model_count says {count} but the manifest lists {len(models)}"
        )
    data_start = HEADER_SIZE + len(raw)
    entries: list[Entry] = []
    names: set[str] = set()
    for number, record in enumerate(models):
        entries.append(_decode_entry(record, number, data_start, file_size, source))
        if entries[-1].name in names:
            raise BundleError(f"{source} is corrupt: entry name {entries[-1].name!r} appears twice")
        names.add(entries[-1].name)
    _check_no_overlap(entries, source)
    return entries


def _decode_entry(
    record: object, number: int, data_start: int, file_size: int, source: str
) -> Entry:
    where = f"entry {number}"
    if not isinstance(record, dict):
        raise BundleError(f"{source} is corrupt: {where} of the manifest is not a JSON object")
    name = record.get("name")
    if not isinstance(name, str) or not name:
        raise BundleError(f"{source} is corrupt: {where} has no name")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise BundleError(
            f"{source} is corrupt: {where} has a name that is not valid Unicode"
        ) from None
    where = f"entry {name!r}"
    offset = _field_int(record, "offset", where, source, MAX_INT64)
    size = _field_int(record, "size", where, source, MAX_INT64)
    crc = _field_int(record, "checksum", where, source, MAX_U32)
    raw_size = _field_int(record, "raw_size", where, source, MAX_INT64)
    method = record.get("compression")
    try:
        compression = Compression(method)
    except ValueError:
        raise BundleError(
            f"{source} uses compression {method!r:.40} for {where}, which this aprender-shell"
            " does not know: upgrade aprender-shell"
        ) from None
    if offset % ALIGNMENT:
        raise BundleError(
            f"{source} is corrupt: {where} offset {offset} is not {ALIGNMENT}-byte aligned"
        )
    if offset < data_start:
        raise BundleError(f"{source} is corrupt: {where} starts inside the header or manifest")
    if offset + size > file_size:
        raise BundleError(
            f"{source} is truncated or corrupt: {where} ends at byte {offset + size}"
            f" but the file has {file_size}"
        )
    if compression is Compression.NONE and raw_size != size:
        raise BundleError(
            f"{source} is corrupt: {where} is uncompressed but raw_size differs from size"
        )
    return Entry(name, offset, size, crc, compression, raw_size)


def _check_no_overlap(entries: list[Entry], source: str) -> None:
    end = 0
    previous = ""
    for entry in sorted((e for e in entries if e.size), key=lambda e: e.offset):
        if entry.offset < end:
            raise BundleError(
                f"{source} is corrupt: entries {previous!r} and {entry.name!r} overlap"
            )
        end = entry.offset + entry.size
        previous = entry.name


def decode_entry_data(entry: Entry, stored: bytes, source: str) -> bytes:
    """The data of ``entry`` from its stored bytes, after checking the CRC-32 (and inflating)."""
    if len(stored) != entry.size:
        raise BundleError(f"{source} is truncated inside entry {entry.name!r}")
    if checksum(stored) != entry.checksum:
        raise ChecksumError(
            entry.name,
            f"checksum mismatch in entry {entry.name!r} of {source}: the file is corrupt",
        )
    if entry.compression is Compression.NONE:
        return stored
    return _inflate(entry, stored, source)


def _inflate(entry: Entry, stored: bytes, source: str) -> bytes:
    inflater = zlib.decompressobj()
    try:
        # max_length bounds the output so a lying raw_size or a zlib bomb cannot allocate more
        # than the manifest promised (plus one byte to notice the excess).
        data = inflater.decompress(stored, min(entry.raw_size + 1, sys.maxsize))
    except zlib.error as error:
        raise BundleError(
            f"{source} is corrupt: entry {entry.name!r} does not inflate ({error})"
        ) from None
    if len(data) != entry.raw_size or not inflater.eof or inflater.unused_data:
        raise BundleError(
            f"{source} is corrupt: entry {entry.name!r} inflates to a different size than recorded"
        )
    return data

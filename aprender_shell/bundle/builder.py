"""Writing bundles (``BundleBuilder``) and holding one whole in memory (``ModelBundle``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, Iterable

from aprender_shell.bundle.format import (
    Compression,
    Entry,
    EntryNotFoundError,
    checksum,
    decode_entry_data,
    decode_header,
    decode_manifest,
    layout,
    store,
    validate_name,
)
from aprender_shell.errors import BundleError, EntryTooLargeError


@dataclass(frozen=True)
class BundleConfig:
    """How a bundle is written. Immutable; build it by keyword or builder-style.

    ``compression``: ``Compression.NONE`` or ``Compression.ZLIB`` (or "none"/"zlib", or a
    boolean: True is zlib). ``level``: the zlib level, 0 to 9. ``max_memory``: the paging
    limit the bundle is meant for, in bytes: ``build`` refuses an entry larger than it, which
    no ``PagedBundle`` with that limit could ever load (None: no such check).

    ``BundleConfig(compression=False, max_memory=10_000_000)`` and
    ``BundleConfig().with_compression(False).with_max_memory(10_000_000)`` are equal.
    """

    compression: Compression | bool | str = Compression.NONE
    level: int = 6
    max_memory: int | None = None

    def __post_init__(self) -> None:
        method: object = self.compression
        if isinstance(method, bool):
            method = Compression.ZLIB if method else Compression.NONE
        try:
            object.__setattr__(self, "compression", Compression(method))
        except ValueError:
            known = ", ".join(repr(c.value) for c in Compression)
            raise BundleError(
                f"unknown compression {self.compression!r}: use one of {known}, True or False"
            ) from None
        if not isinstance(self.level, int) or not 0 <= self.level <= 9:
            raise BundleError(f"zlib level must be an integer from 0 to 9, not {self.level!r}")
        limit = self.max_memory
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)
                                  or limit < 1):
            raise BundleError(f"max_memory must be a positive number of bytes, not {limit!r}")

    def with_compression(self, compression: Compression | bool | str) -> BundleConfig:
        """This config with ``compression`` (True or False, or a ``Compression``)."""
        return replace(self, compression=compression)

    def with_level(self, level: int) -> BundleConfig:
        """This config with zlib level ``level`` (0 to 9)."""
        return replace(self, level=level)

    def with_max_memory(self, max_memory: int | None) -> BundleConfig:
        """This config for a paging limit of ``max_memory`` bytes (see the class docstring)."""
        return replace(self, max_memory=max_memory)

    @property
    def method(self) -> Compression:
        """The compression as a ``Compression`` (``compression`` always holds one)."""
        return Compression(self.compression)


class BundleBuilder:
    """Collects named entries and writes them as one bundle file, atomically and privately."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._config = BundleConfig()
        self._models: dict[str, bytes] = {}

    def with_config(self, config: BundleConfig) -> BundleBuilder:
        """Use ``config`` for the file this builder writes; returns the builder for chaining."""
        self._config = config
        return self

    def add_model(self, name: str, data: bytes | bytearray | memoryview) -> BundleBuilder:
        """Add entry ``name`` holding ``data``; names must be unique. Returns the builder."""
        validate_name(name)
        if name in self._models:
            raise BundleError(f"the bundle already has an entry named {name!r}")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise BundleError(f"entry {name!r} must be bytes, not {type(data).__name__}")
        self._models[name] = bytes(data)
        return self

    def model_names(self) -> list[str]:
        """Names of the entries added so far, in order."""
        return list(self._models)

    @property
    def total_size(self) -> int:
        """The size in bytes of all entries' data added so far."""
        return sum(len(data) for data in self._models.values())

    def __len__(self) -> int:
        return len(self._models)

    def build(self) -> Path:
        """Write the bundle (mode 0600) by temp file and rename; the old file survives a crash."""
        write_bundle(self.path, self._models.items(), self._config)
        return self.path


def write_bundle(
    path: str | os.PathLike[str], models: Iterable[tuple[str, bytes]], config: BundleConfig
) -> None:
    """Write ``models`` (pairs of name and data) to ``path`` as a bundle, atomically."""
    stored: list[bytes] = []
    records: list[tuple[str, int, int, Compression, int]] = []
    for name, data in models:
        if config.max_memory is not None and len(data) > config.max_memory:
            raise EntryTooLargeError(
                f"entry {name!r} holds {len(data)} bytes, more than the {config.max_memory}-byte"
                " max_memory this bundle is built for: split it or raise max_memory"
            )
        packed, method = store(data, config.method, config.level)
        stored.append(packed)
        records.append((name, len(packed), checksum(packed), method, len(data)))
    head, entries = layout(records)
    # Imported here: fileio pulls in tempfile, which `suggest` (a reader) never needs.
    from aprender_shell.fileio import atomic_writer

    with atomic_writer(path, 0o600) as handle:
        handle.write(head)
        position = len(head)
        for entry, packed in zip(entries, stored):
            position = _write_entry(handle, position, entry, packed)


def _write_entry(handle: BinaryIO, position: int, entry: Entry, packed: bytes) -> int:
    # Padding between entries is zero bytes up to the entry's aligned offset.
    handle.write(bytes(entry.offset - position))
    handle.write(packed)
    return entry.offset + len(packed)


class ModelBundle:
    """A bundle held wholly in memory: build one to save, or load every entry of a file."""

    def __init__(self) -> None:
        self._models: dict[str, bytes] = {}

    def add_model(self, name: str, data: bytes | bytearray | memoryview) -> None:
        """Add entry ``name`` holding ``data`` (names are unique)."""
        validate_name(name)
        if name in self._models:
            raise BundleError(f"the bundle already has an entry named {name!r}")
        self._models[name] = bytes(data)

    def get_model(self, name: str) -> bytes:
        """The data of entry ``name``; ``EntryNotFoundError`` if there is none."""
        try:
            return self._models[name]
        except KeyError:
            raise EntryNotFoundError(name) from None

    def model_names(self) -> list[str]:
        """Entry names in the order they were added (the file's manifest order)."""
        return list(self._models)

    def model_size(self, name: str) -> int:
        """The size in bytes of entry ``name``'s data."""
        return len(self.get_model(name))

    @property
    def total_size(self) -> int:
        """The size in bytes of all entries' data together."""
        return sum(len(data) for data in self._models.values())

    def __len__(self) -> int:
        return len(self._models)

    def __contains__(self, name: object) -> bool:
        return name in self._models

    def save(self, path: str | os.PathLike[str], config: BundleConfig | None = None) -> None:
        """Write this bundle to ``path`` atomically (mode 0600)."""
        write_bundle(path, self._models.items(), config or BundleConfig())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ModelBundle:
        """Read every entry of the bundle at ``path``, verifying each checksum."""
        source = str(path)
        try:
            with open(path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                manifest_length = decode_header(handle.read(16), size, source)
                manifest = handle.read(manifest_length)
                entries = decode_manifest(manifest, size, source)
                bundle = cls()
                for entry in entries:
                    handle.seek(entry.offset)
                    bundle._models[entry.name] = decode_entry_data(
                        entry, handle.read(entry.size), source
                    )
        except FileNotFoundError:
            raise BundleError(f"no bundle at {source}") from None
        except IsADirectoryError:
            raise BundleError(f"{source} is a folder, not a bundle") from None
        except OSError as error:
            raise BundleError(f"cannot read {source}: {error.strerror or error}") from None
        return bundle

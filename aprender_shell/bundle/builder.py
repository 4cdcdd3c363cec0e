"""Writing bundles (``BundleBuilder``) and holding one whole in memory (``ModelBundle``)."""

from __future__ import annotations

import contextlib
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
from aprender_shell.fileio import NotRegularFileError, full_disk, open_regular, temp_path


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
    """Collects named entries and writes them as one bundle file, atomically and privately.

    By default the entries are held in memory until ``build``. ``streaming()`` makes the
    builder write each entry's stored bytes to a private file beside the bundle as it is added
    (mode 0600, named with this process's pid: ``build`` or ``close`` removes it, and the next
    writer of the folder removes one a killed process left), so that only the manifest is held;
    ``build`` then writes the same bytes the in-memory path writes.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._config = BundleConfig()
        self._models: dict[str, bytes] = {}
        self._spill: _Spill | None = None

    def with_config(self, config: BundleConfig) -> BundleBuilder:
        """Use ``config`` for the file this builder writes; returns the builder for chaining."""
        if self._spill is not None and len(self._spill):
            raise BundleError("a streaming builder's config is chosen before its first entry")
        self._config = config
        return self

    def streaming(self) -> BundleBuilder:
        """Write entries to a private file as they are added rather than hold them (see the
        class docstring); call before the first ``add_model``. Returns the builder."""
        if self._models:
            raise BundleError("a builder streams from its first entry: call streaming() first")
        if self._spill is None:
            self._spill = _Spill(self.path)
        return self

    def add_model(self, name: str, data: bytes | bytearray | memoryview) -> BundleBuilder:
        """Add entry ``name`` holding ``data``; names must be unique. Returns the builder."""
        validate_name(name)
        if name in self._models or (self._spill is not None and name in self._spill.names):
            raise BundleError(f"the bundle already has an entry named {name!r}")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise BundleError(f"entry {name!r} must be bytes, not {type(data).__name__}")
        if self._spill is not None:
            self._spill.add(name, bytes(data), self._config)
        else:
            self._models[name] = bytes(data)
        return self

    def model_names(self) -> list[str]:
        """Names of the entries added so far, in order."""
        return list(self._spill.names) if self._spill is not None else list(self._models)

    @property
    def total_size(self) -> int:
        """The size in bytes of all entries' data added so far."""
        if self._spill is not None:
            return self._spill.raw_total
        return sum(len(data) for data in self._models.values())

    def __len__(self) -> int:
        return len(self._spill) if self._spill is not None else len(self._models)

    def build(self) -> Path:
        """Write the bundle (mode 0600) by temp file and rename; the old file survives a crash."""
        if self._spill is not None:
            try:
                self._spill.write(self.path)
            finally:
                self.close()
        else:
            write_bundle(self.path, self._models.items(), self._config)
        return self.path

    def close(self) -> None:
        """Drop what a streaming builder wrote so far without writing the bundle (idempotent;
        ``build`` does it too)."""
        if self._spill is not None:
            self._spill.remove()


class _Spill:
    """A streaming builder's entries, stored (compressed when asked) in a private file beside
    the bundle, in the order added; only their manifest records stay in memory."""

    def __init__(self, target: Path) -> None:
        self.names: dict[str, None] = {}
        self.records: list[tuple[str, int, int, Compression, int]] = []
        self.raw_total = 0
        self._handle: BinaryIO | None = None
        self._closed = False
        self._target = target
        self._path = temp_path(target, f"entries{id(self):x}")

    def __len__(self) -> int:
        return len(self.records)

    def add(self, name: str, data: bytes, config: BundleConfig) -> None:
        self._check_open()
        if config.max_memory is not None and len(data) > config.max_memory:
            raise _too_large(name, len(data), config.max_memory)
        packed, method = store(data, config.method, config.level)
        try:
            handle = self._handle or self._open()
            handle.write(packed)
        except OSError as error:  # a full disk reads as atomic_writer's does: one line
            raise full_disk(error, self._target) from None
        self.names[name] = None
        self.records.append((name, len(packed), checksum(packed), method, len(data)))
        self.raw_total += len(data)

    def _open(self) -> BinaryIO:
        import fcntl

        self._target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(self._path, flags, 0o600)
        # Locked while this process lives, as atomic_writer's files are: the next writer
        # removes it only once its pid is dead and nobody holds it.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._handle = os.fdopen(fd, "w+b")
        return self._handle

    def write(self, path: Path) -> None:
        from aprender_shell.fileio import atomic_writer

        self._check_open()
        head, entries = layout(self.records)
        source = self._handle
        if source is not None:
            try:
                source.flush()
            except OSError as error:
                raise full_disk(error, self._target) from None
            source.seek(0)
        with atomic_writer(path, 0o600) as handle:
            handle.write(head)
            position = len(head)
            for entry in entries:
                # The spill holds the entries back to back, in manifest order.
                packed = source.read(entry.size) if source is not None and entry.size else b""
                position = _write_entry(handle, position, entry, packed)

    def _check_open(self) -> None:
        if self._closed:
            raise BundleError("this streaming builder was already built or closed: make another")

    def remove(self) -> None:
        self._closed = True
        if self._handle is not None:
            self._handle.close()
            self._handle = None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path)


def _too_large(name: str, size: int, max_memory: int) -> EntryTooLargeError:
    return EntryTooLargeError(
        f"entry {name!r} holds {size} bytes, more than the {max_memory}-byte"
        " max_memory this bundle is built for: split it or raise max_memory"
    )


def write_bundle(
    path: str | os.PathLike[str], models: Iterable[tuple[str, bytes]], config: BundleConfig
) -> None:
    """Write ``models`` (pairs of name and data) to ``path`` as a bundle, atomically."""
    stored: list[bytes] = []
    records: list[tuple[str, int, int, Compression, int]] = []
    for name, data in models:
        if config.max_memory is not None and len(data) > config.max_memory:
            raise _too_large(name, len(data), config.max_memory)
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
            with open_regular(path) as handle:
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
        except NotRegularFileError as error:
            raise BundleError(
                f"{source} is {error.kind}, not a regular file, so not a bundle"
            ) from None
        except OSError as error:
            raise BundleError(f"cannot read {source}: {error.strerror or error}") from None
        return bundle

"""``PagedBundle``: entries loaded on demand within a hard memory limit, evicted LRU or LFU."""

from __future__ import annotations

import os
import stat
from _thread import allocate_lock  # threading's Lock, without threading's import cost

from aprender_shell.bundle.cache import CachePolicy, EvictionStrategy, make_policy
from aprender_shell.bundle.format import (
    HEADER_SIZE,
    MANIFEST_SHARE,
    Entry,
    EntryNotFoundError,
    ManifestTooLargeError,
    decode_entry_data,
    decode_header,
    decode_manifest,
    manifest_allowance,
)
from aprender_shell.bundle.values import Value
from aprender_shell.errors import BundleError, EntryTooLargeError
from aprender_shell.fileio import READ_FLAGS, file_kind

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from typing import Any

# The library's own default, the design document's 10 MB; aprender-shell always passes its
# limit (model/memory.py) explicitly.
DEFAULT_MAX_MEMORY = 10_000_000
DEFAULT_PAGE_SIZE = 64 * 1024 * 1024
MIN_PAGE_SIZE = 4096
# Linux returns at most 0x7ffff000 bytes per read; staying under it keeps every pread whole.
MAX_PAGE_SIZE = 1 << 30
# Successors remembered per entry for prefetching; keeps the transition table bounded.
MAX_FOLLOWERS = 16

# The one function that reads entry bytes; tests wrap it to count exactly what a miss reads.
_pread = os.pread


class PagingConfig(Value):
    """Paging settings; invalid values raise ``BundleError`` at construction. Immutable.

    ``max_memory``: bytes of entry data the cache may hold, a hard limit.
    ``page_size``: the largest single read; bigger entries are read in ``page_size`` pieces.
    ``prefetch``: load the entries that usually follow the one just used, into free memory.
    ``prefetch_count``: how many likely successors to consider after each access.
    ``eviction``: ``EvictionStrategy.LRU`` or ``EvictionStrategy.LFU``.

    Build it by keyword, ``PagingConfig(max_memory=1024, prefetch=False)``, or builder-style,
    ``PagingConfig().with_max_memory(1024).with_prefetch(False)``: each ``with_*`` returns a
    new, checked config.
    """

    # A plain class rather than a dataclass: importing dataclasses costs a cold query 4 ms.
    __slots__ = ("max_memory", "page_size", "prefetch", "prefetch_count", "eviction")
    max_memory: int
    page_size: int
    prefetch: bool
    prefetch_count: int
    eviction: EvictionStrategy

    def __init__(
        self,
        max_memory: int = DEFAULT_MAX_MEMORY,
        page_size: int = DEFAULT_PAGE_SIZE,
        prefetch: bool = True,
        prefetch_count: int = 2,
        eviction: EvictionStrategy = EvictionStrategy.LRU,
    ) -> None:
        for field, value, minimum in (
            ("max_memory", max_memory, 1),
            ("page_size", page_size, MIN_PAGE_SIZE),
            ("prefetch_count", prefetch_count, 0),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                raise BundleError(
                    f"paging {field} must be an integer of at least {minimum}, not {value!r}"
                )
        if page_size > MAX_PAGE_SIZE:
            raise BundleError(f"paging page_size must be at most {MAX_PAGE_SIZE}, not {page_size}")
        if not isinstance(prefetch, bool):
            raise BundleError(f"paging prefetch must be True or False, not {prefetch!r}")
        if not isinstance(eviction, EvictionStrategy):
            raise BundleError(
                "paging eviction must be EvictionStrategy.LRU or EvictionStrategy.LFU,"
                f" not {eviction!r}"
            )
        values = (max_memory, page_size, prefetch, prefetch_count, eviction)
        for name, setting in zip(self.__slots__, values):
            object.__setattr__(self, name, setting)

    def with_max_memory(self, max_memory: int) -> PagingConfig:
        """This config with a limit of ``max_memory`` bytes of entry data."""
        return self._with(max_memory=max_memory)

    def with_page_size(self, page_size: int) -> PagingConfig:
        """This config reading at most ``page_size`` bytes per read."""
        return self._with(page_size=page_size)

    def with_prefetch(self, prefetch: bool) -> PagingConfig:
        """This config with prefetching on (True) or off (False)."""
        return self._with(prefetch=prefetch)

    def with_prefetch_count(self, prefetch_count: int) -> PagingConfig:
        """This config considering ``prefetch_count`` likely successors after each access."""
        return self._with(prefetch_count=prefetch_count)

    def with_eviction(self, eviction: EvictionStrategy) -> PagingConfig:
        """This config evicting by ``eviction`` (``EvictionStrategy.LRU`` or ``.LFU``)."""
        return self._with(eviction=eviction)

    def _with(self, **changes: Any) -> PagingConfig:
        settings = {name: getattr(self, name) for name in self.__slots__}
        settings.update(changes)
        return PagingConfig(**settings)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"PagingConfig is immutable: cannot set {name}")


class PagingStats(Value):
    """A consistent snapshot of a ``PagedBundle``'s cache counters (a plain value class:
    ``bundle/values.py``)."""

    __slots__ = ("hits", "misses", "evictions", "memory_used", "memory_limit",
                 "total_bytes_loaded", "cached_count", "prefetches")

    def __init__(self, hits: int, misses: int, evictions: int, memory_used: int,
                 memory_limit: int, total_bytes_loaded: int, cached_count: int,
                 prefetches: int) -> None:
        self.hits = hits
        self.misses = misses
        self.evictions = evictions
        self.memory_used = memory_used  # raw (decompressed) bytes held by the cache now
        self.memory_limit = memory_limit
        self.total_bytes_loaded = total_bytes_loaded  # raw bytes ever loaded, with prefetches
        self.cached_count = cached_count
        self.prefetches = prefetches  # entries loaded by prefetching (not counted as misses)

    __hash__ = None  # type: ignore[assignment]  # a snapshot to read, not a key

    @property
    def hit_rate(self) -> float:
        """Hits as a share of all ``get_model`` calls, from 0.0 to 1.0 (0.0 before any)."""
        calls = self.hits + self.misses
        return self.hits / calls if calls else 0.0


def _check_manifest_fits(length: int, max_memory: int, source: str) -> None:
    """Refuse, before reading it, a manifest larger than a bundle paged within ``max_memory``
    bytes may declare (``manifest_allowance``): it is held for as long as the bundle is open."""
    allowance = manifest_allowance(max_memory)
    if length > allowance:
        needed = length * MANIFEST_SHARE
        raise ManifestTooLargeError(
            f"{source} declares a {length // 1024} KB manifest, more than the "
            f"{allowance // 1024} KB a {max_memory / 2**20:.3g} MB memory limit allows (a "
            f"{MANIFEST_SHARE}th of it): it needs a limit of at least {needed / 2**20:.3g} MB",
            length,
            allowance,
        )


class PagedBundle:
    """A bundle whose entries are read from disk on demand, within a hard memory limit.

    Opening reads the header and manifest only. A miss reads that entry's bytes and nothing
    else (``os.pread`` at its offset), verifies its CRC-32 and, if needed, inflates it. Before
    loading, entries are evicted until the new one fits, so the raw bytes the cache holds never
    exceed ``max_memory``; an entry larger than the limit raises ``EntryTooLargeError``.

    Thread safety: one instance may be shared between threads. A single lock guards the cache
    and the counters (loads happen under it), and ``pread`` uses no shared file position.
    """

    def __init__(self, path: str, fd: int, entries: list[Entry], config: PagingConfig) -> None:
        self.path = path
        self.config = config
        self._fd: int | None = fd
        self._entries = {entry.name: entry for entry in entries}
        self._lock = allocate_lock()
        self._cache: dict[str, bytes] = {}
        self._policy: CachePolicy = make_policy(config.eviction)
        self._memory_used = 0
        self._hits = self._misses = self._evictions = 0
        self._loaded = self._prefetches = 0
        self._previous: str | None = None
        self._followers: dict[str, dict[str, int]] = {}

    @classmethod
    def open(cls, path: str | os.PathLike[str], config: PagingConfig | None = None) -> PagedBundle:
        """Open the bundle at ``path``, reading only its header and manifest."""
        source = os.fspath(path)
        try:
            fd = os.open(source, READ_FLAGS)
        except FileNotFoundError:
            raise BundleError(f"no bundle at {source}") from None
        except OSError as error:
            raise BundleError(f"cannot open {source}: {error.strerror or error}") from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise BundleError(
                    f"{source} is {file_kind(info.st_mode)}, not a regular file, so not a bundle"
                )
            size = info.st_size
            head = _pread(fd, HEADER_SIZE, 0)  # may be short: decode_header explains why
            manifest_length = decode_header(head, size, source)
            config = config or PagingConfig()
            _check_manifest_fits(manifest_length, config.max_memory, source)
            manifest = _read_at(fd, manifest_length, HEADER_SIZE, source)
            entries = decode_manifest(manifest, size, source)
            return cls(source, fd, entries, config)
        except OSError as error:
            os.close(fd)
            raise BundleError(f"cannot read {source}: {error.strerror or error}") from None
        except BaseException:
            os.close(fd)
            raise

    # Queries -----------------------------------------------------------------------------

    def get_model(self, name: str) -> bytes:
        """The data of entry ``name``, from the cache or loaded now (evicting others first)."""
        with self._lock:
            data = self._cache.get(name)
            if data is not None:
                self._hits += 1
                self._policy.touch(name)
            else:
                data = self._load(self._entry(name))
                self._misses += 1
            if self.config.prefetch:
                self._learn_and_prefetch(name)
            return data

    def prefetch_hint(self, name: str) -> bool:
        """Load ``name`` now if it fits in free memory (never evicting); True if it is cached."""
        with self._lock:
            if name in self._cache:
                return True
            entry = self._entry(name)
            if entry.raw_size > self.config.max_memory - self._memory_used:
                return False
            self._load(entry)
            self._prefetches += 1
            return True

    def is_cached(self, name: str) -> bool:
        """Whether entry ``name`` is in memory now."""
        with self._lock:
            return name in self._cache

    def evict(self, name: str) -> bool:
        """Drop entry ``name`` from memory; True if it was cached."""
        with self._lock:
            if name not in self._cache:
                return False
            self._drop(name)
            self._policy.discard(name)
            return True

    def clear_cache(self) -> None:
        """Drop every cached entry (counters are kept)."""
        with self._lock:
            self._cache.clear()
            self._policy.clear()
            self._memory_used = 0

    def model_names(self) -> list[str]:
        """Entry names in manifest order."""
        return list(self._entries)

    def model_size(self, name: str) -> int:
        """Entry ``name``'s data size in bytes (after decompression), without loading it."""
        return self._entry(name).raw_size

    @property
    def total_size(self) -> int:
        """The data size of all entries together, in bytes (after decompression)."""
        return sum(entry.raw_size for entry in self._entries.values())

    @property
    def memory_limit(self) -> int:
        """The most entry data, in bytes, the cache will ever hold."""
        return self.config.max_memory

    def stats(self) -> PagingStats:
        """A snapshot of the counters, all taken at one moment."""
        with self._lock:
            return PagingStats(
                hits=self._hits,
                misses=self._misses,
                evictions=self._evictions,
                memory_used=self._memory_used,
                memory_limit=self.config.max_memory,
                total_bytes_loaded=self._loaded,
                cached_count=len(self._cache),
                prefetches=self._prefetches,
            )

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    # Lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        """Release the file and the cache; later loads raise ``BundleError``."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            self._cache.clear()
            self._policy.clear()
            self._memory_used = 0

    def __enter__(self) -> PagedBundle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Internals (called with the lock held) -----------------------------------------------

    def _entry(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            raise EntryNotFoundError(name, self.path) from None

    def _load(self, entry: Entry) -> bytes:
        limit = self.config.max_memory
        if entry.raw_size > limit:
            raise EntryTooLargeError(
                f"entry {entry.name!r} of {self.path} needs {entry.raw_size} bytes but the"
                f" memory limit is {limit}: raise the memory limit"
            )
        if self._fd is None:
            raise BundleError(f"{self.path} is closed")
        # Evict first, so the held bytes stay within the limit even while this entry loads.
        while self._memory_used + entry.raw_size > limit:
            self._drop(self._policy.pop_victim())
            self._evictions += 1
        stored = _read_entry(self._fd, entry, self.config.page_size, self.path)
        data = decode_entry_data(entry, stored, self.path)
        self._cache[entry.name] = data
        self._policy.admit(entry.name)
        self._memory_used += entry.raw_size
        self._loaded += entry.raw_size
        return data

    def _drop(self, name: str) -> None:
        self._memory_used -= len(self._cache.pop(name))

    def _learn_and_prefetch(self, name: str) -> None:
        previous, self._previous = self._previous, name
        if previous is not None and previous != name:
            followers = self._followers.setdefault(previous, {})
            if name not in followers and len(followers) >= MAX_FOLLOWERS:
                del followers[min(followers, key=followers.__getitem__)]
            followers[name] = followers.get(name, 0) + 1
        likely = self._followers.get(name)
        if not likely or not self.config.prefetch_count:
            return
        ranked = sorted(likely, key=likely.__getitem__, reverse=True)
        for follower in ranked[: self.config.prefetch_count]:
            entry = self._entries[follower]
            # A guess only ever uses free memory: it never evicts an entry someone asked for.
            free = self.config.max_memory - self._memory_used
            if follower in self._cache or entry.raw_size > free:
                continue
            try:
                self._load(entry)
            except (BundleError, OSError):
                continue  # a bad entry is reported when it is really asked for, not on a guess
            self._prefetches += 1


def _read_at(fd: int, size: int, offset: int, source: str) -> bytes:
    try:
        data = _pread(fd, size, offset)
    except OSError as error:
        raise BundleError(f"cannot read {source}: {error.strerror or error}") from None
    if len(data) != size:
        raise BundleError(f"{source} is truncated (it changed while being read)")
    return data


def _read_entry(fd: int, entry: Entry, page_size: int, source: str) -> bytes:
    if entry.size <= page_size:
        return _read_at(fd, entry.size, entry.offset, source)
    pieces = [
        _read_at(fd, min(page_size, entry.size - start), entry.offset + start, source)
        for start in range(0, entry.size, page_size)
    ]
    return b"".join(pieces)

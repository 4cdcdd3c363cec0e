"""The ``.apbundle`` library: many named binary entries in one file, paged within a memory limit.

- ``BundleBuilder`` / ``ModelBundle`` write bundles (atomically, mode 0600); ``ModelBundle.load``
  reads one whole.
- ``PagedBundle.open(path, PagingConfig(...))`` reads entries on demand, verifies each
  CRC-32 and evicts (LRU or LFU) so the bytes held never exceed ``max_memory``.

The byte format is specified in FORMAT.md. Importing this package loads only the standard
library's _json scanner (jsontext.py), struct, zlib, os and _thread (no enum, threading or
json: values.Choice stands for Enum), so CLI start-up stays fast.
"""

from __future__ import annotations

from aprender_shell.bundle.cache import CachePolicy, EvictionStrategy, LFUPolicy, LRUPolicy
from aprender_shell.bundle.format import ALIGNMENT, MAGIC, VERSION, Compression, EntryNotFoundError
from aprender_shell.bundle.paging import PagedBundle, PagingConfig, PagingStats
from aprender_shell.errors import BundleError, ChecksumError, EntryTooLargeError

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from typing import Any

    from aprender_shell.bundle.builder import BundleBuilder, BundleConfig, ModelBundle

_WRITERS = ("BundleBuilder", "BundleConfig", "ModelBundle")


def __getattr__(name: str) -> Any:
    # The writers load on first use: a process that only reads (every query) skips them.
    if name in _WRITERS:
        from aprender_shell.bundle import builder

        return getattr(builder, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "ALIGNMENT",
    "MAGIC",
    "VERSION",
    "BundleBuilder",
    "BundleConfig",
    "BundleError",
    "CachePolicy",
    "ChecksumError",
    "Compression",
    "EntryNotFoundError",
    "EntryTooLargeError",
    "EvictionStrategy",
    "LFUPolicy",
    "LRUPolicy",
    "ModelBundle",
    "PagedBundle",
    "PagingConfig",
    "PagingStats",
]

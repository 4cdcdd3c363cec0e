"""Eviction policies: which cached entry goes first when memory is needed. All operations O(1).

A policy tracks keys only; ``PagedBundle`` holds the data and counts the bytes. The two
policies differ only in what they pick as the victim (as in cachetools), so one contract test
suite runs against both.

Containers are created with ``dict()`` / ``OrderedDict()`` calls rather than literals so a test
can substitute counting containers and prove that no operation's cost grows with the cache.
"""

from __future__ import annotations

from collections import OrderedDict

from aprender_shell.bundle.values import Choice

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import ClassVar


class EvictionStrategy(Choice):
    """Which entry a full cache gives up: least recently or least frequently used."""

    LRU: ClassVar[EvictionStrategy]
    LFU: ClassVar[EvictionStrategy]


EvictionStrategy._define(LRU="lru", LFU="lfu")


class CachePolicy:
    """The order in which cached keys are evicted."""

    def admit(self, key: str) -> None:
        """Start tracking ``key``, just loaded (it must not be tracked already)."""
        raise NotImplementedError

    def touch(self, key: str) -> None:
        """Record a use of tracked ``key``; ``KeyError`` if it is not tracked."""
        raise NotImplementedError

    def discard(self, key: str) -> None:
        """Stop tracking ``key``; no effect if it is not tracked."""
        raise NotImplementedError

    def pop_victim(self) -> str:
        """Stop tracking and return the key to evict next; ``KeyError`` when empty."""
        raise NotImplementedError

    def clear(self) -> None:
        """Stop tracking every key."""
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def __contains__(self, key: object) -> bool:
        raise NotImplementedError


class LRUPolicy(CachePolicy):
    """Evicts the least recently used key: one OrderedDict, oldest first."""

    def __init__(self) -> None:
        self._order: OrderedDict[str, None] = OrderedDict()

    def admit(self, key: str) -> None:
        if key in self._order:
            raise ValueError(f"{key!r} is already cached")
        self._order[key] = None

    def touch(self, key: str) -> None:
        self._order.move_to_end(key)

    def discard(self, key: str) -> None:
        self._order.pop(key, None)

    def pop_victim(self) -> str:
        if not self._order:
            raise KeyError("pop_victim from an empty cache")
        key, _ = self._order.popitem(last=False)
        return key

    def clear(self) -> None:
        self._order.clear()

    def newest_first(self) -> Iterator[str]:
        """The tracked keys, the most recently used first (the reverse of eviction order)."""
        return reversed(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, key: object) -> bool:
        return key in self._order


class _Bucket:
    """The keys used exactly ``count`` times, oldest first; a node in a list ordered by count."""

    __slots__ = ("count", "keys", "prev", "next")

    def __init__(self, count: int) -> None:
        self.count = count
        self.keys: OrderedDict[str, None] = OrderedDict()
        self.prev: _Bucket = self
        self.next: _Bucket = self


class LFUPolicy(CachePolicy):
    """Evicts the least frequently used key, the oldest of those on a tie.

    Keys sit in count buckets kept in a circular list ordered by count, so the victim is the
    first key of the first bucket and a use moves a key to the neighbouring bucket: no step
    ever scans the keys or the counts.
    """

    def __init__(self) -> None:
        self._root = _Bucket(0)  # sentinel: root.next is the lowest count
        self._where: dict[str, _Bucket] = dict()  # a call, not {}: see the module docstring

    def admit(self, key: str) -> None:
        if key in self._where:
            raise ValueError(f"{key!r} is already cached")
        first = self._root.next
        bucket = first if first.count == 1 else self._insert_after(self._root, 1)
        bucket.keys[key] = None
        self._where[key] = bucket

    def touch(self, key: str) -> None:
        bucket = self._where[key]
        following = bucket.next
        if following.count != bucket.count + 1:
            following = self._insert_after(bucket, bucket.count + 1)
        del bucket.keys[key]
        following.keys[key] = None
        self._where[key] = following
        if not bucket.keys:
            self._unlink(bucket)

    def discard(self, key: str) -> None:
        bucket = self._where.pop(key, None)
        if bucket is not None:
            del bucket.keys[key]
            if not bucket.keys:
                self._unlink(bucket)

    def pop_victim(self) -> str:
        bucket = self._root.next
        if bucket is self._root:
            raise KeyError("pop_victim from an empty cache")
        key, _ = bucket.keys.popitem(last=False)
        del self._where[key]
        if not bucket.keys:
            self._unlink(bucket)
        return key

    def clear(self) -> None:
        self._root.next = self._root.prev = self._root
        self._where.clear()

    def use_count(self, key: str) -> int | None:
        """How often ``key`` was used since it was loaded (None if it is not cached)."""
        bucket = self._where.get(key)
        return bucket.count if bucket is not None else None

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, key: object) -> bool:
        return key in self._where

    @staticmethod
    def _insert_after(bucket: _Bucket, count: int) -> _Bucket:
        node = _Bucket(count)
        node.prev, node.next = bucket, bucket.next
        bucket.next.prev = node
        bucket.next = node
        return node

    @staticmethod
    def _unlink(bucket: _Bucket) -> None:
        bucket.prev.next = bucket.next
        bucket.next.prev = bucket.prev


def make_policy(strategy: EvictionStrategy) -> CachePolicy:
    """A fresh, empty policy for ``strategy``."""
    if strategy is EvictionStrategy.LFU:
        return LFUPolicy()
    return LRUPolicy()

"""Eviction policies: one contract suite for every policy, then what makes each one different."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, ClassVar

import pytest

from aprender_shell.bundle import cache as cache_module
from aprender_shell.bundle.cache import CachePolicy, LFUPolicy, LRUPolicy


class PolicyContract:
    """What every policy promises; subclasses set ``policy_type``."""

    policy_type: ClassVar[type[CachePolicy]]

    def make(self, *keys: str) -> CachePolicy:
        policy = self.policy_type()
        for key in keys:
            policy.admit(key)
        return policy

    def test_tracks_admitted_keys(self) -> None:
        policy = self.make("a", "b")
        assert len(policy) == 2 and "a" in policy and "c" not in policy

    def test_every_key_is_evicted_exactly_once(self) -> None:
        policy = self.make(*(f"k{n}" for n in range(50)))
        for n in range(0, 50, 3):
            policy.touch(f"k{n}")
        victims = [policy.pop_victim() for _ in range(50)]
        assert sorted(victims) == sorted(f"k{n}" for n in range(50))
        assert len(policy) == 0

    def test_empty_policy_has_no_victim(self) -> None:
        with pytest.raises(KeyError):
            self.make().pop_victim()

    def test_without_uses_the_oldest_goes_first(self) -> None:
        policy = self.make("a", "b", "c")
        assert [policy.pop_victim() for _ in range(3)] == ["a", "b", "c"]

    def test_discard_removes_and_ignores_unknown_keys(self) -> None:
        policy = self.make("a", "b")
        policy.discard("a")
        policy.discard("zzz")
        assert "a" not in policy and policy.pop_victim() == "b"

    def test_touch_of_unknown_key_is_an_error(self) -> None:
        with pytest.raises(KeyError):
            self.make("a").touch("b")

    def test_admit_twice_is_an_error(self) -> None:
        with pytest.raises(ValueError):
            self.make("a").admit("a")

    def test_clear_forgets_everything(self) -> None:
        policy = self.make("a", "b")
        policy.touch("a")
        policy.clear()
        assert len(policy) == 0 and "a" not in policy
        policy.admit("c")
        assert policy.pop_victim() == "c"

    def test_readmitted_key_starts_fresh(self) -> None:
        policy = self.make("a", "b")
        policy.touch("a")
        policy.touch("a")
        policy.discard("a")
        policy.admit("a")
        policy.touch("b")
        assert policy.pop_victim() == "a"


class TestLRUContract(PolicyContract):
    policy_type = LRUPolicy


class TestLFUContract(PolicyContract):
    policy_type = LFUPolicy


def test_lru_keeps_the_recently_used() -> None:
    policy = LRUPolicy()
    for key in "abc":
        policy.admit(key)
    for _ in range(5):
        policy.touch("b")  # frequent, but long ago
    policy.touch("a")
    policy.touch("c")
    assert policy.pop_victim() == "b"


def test_lru_lists_its_keys_newest_first_the_reverse_of_eviction() -> None:
    policy = LRUPolicy()
    for key in "abcd":
        policy.admit(key)
    policy.touch("b")
    assert list(policy.newest_first()) == ["b", "d", "c", "a"]
    assert policy.pop_victim() == "a"


def test_lfu_keeps_the_frequently_used() -> None:
    policy = LFUPolicy()
    for key in "abc":
        policy.admit(key)
    for _ in range(5):
        policy.touch("a")
    policy.touch("b")
    policy.touch("c")  # most recent, but used less than a
    assert [policy.pop_victim() for _ in range(3)] == ["b", "c", "a"]
    assert policy.use_count("a") is None


def test_lfu_counts_uses() -> None:
    policy = LFUPolicy()
    policy.admit("a")
    policy.touch("a")
    policy.touch("a")
    assert policy.use_count("a") == 3 and policy.use_count("b") is None


class _Counter:
    operations = 0


def _counting(base: type) -> type:
    """A container type that counts every method call and every item it iterates over."""

    def wrap(name: str) -> Any:
        method = getattr(base, name)

        def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            _Counter.operations += 1
            result = method(self, *args, **kwargs)
            if name in ("__iter__", "keys", "values", "items"):
                return _counted_iter(result)
            return result

        return counted

    names = [
        "__getitem__", "__setitem__", "__delitem__", "__contains__", "__iter__", "__len__",
        "get", "pop", "popitem", "setdefault", "keys", "values", "items", "clear", "copy",
    ]
    if base is OrderedDict:
        names.append("move_to_end")
    return type(f"Counting{base.__name__}", (base,), {name: wrap(name) for name in names})


def _counted_iter(items: Any) -> Any:
    for item in items:
        _Counter.operations += 1
        yield item


def _operations_per_eviction(
    policy_type: type[CachePolicy], size: int, monkeypatch: pytest.MonkeyPatch
) -> int:
    monkeypatch.setattr(cache_module, "OrderedDict", _counting(OrderedDict))
    monkeypatch.setattr(cache_module, "dict", _counting(dict), raising=False)
    policy = policy_type()
    for n in range(size):
        policy.admit(f"k{n}")
        if n % 3 == 0:
            policy.touch(f"k{n}")  # a mix of use counts, so LFU has several buckets
    _Counter.operations = 0
    rounds = 1000
    for n in range(rounds):
        policy.pop_victim()
        policy.admit(f"new{n}")
        policy.touch(f"k{size - 1 - n}")
        policy.discard(f"k{n * 7 % size}")
    return _Counter.operations // rounds


@pytest.mark.parametrize("policy_type", [LRUPolicy, LFUPolicy])
def test_eviction_cost_does_not_grow_with_cache_size(
    policy_type: type[CachePolicy], monkeypatch: pytest.MonkeyPatch
) -> None:
    small = _operations_per_eviction(policy_type, 10_000, monkeypatch)
    large = _operations_per_eviction(policy_type, 100_000, monkeypatch)
    assert 0 < small <= 20  # the counting containers are really in use, and few ops each round
    assert large == small

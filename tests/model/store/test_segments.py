"""A segment's key look-ups agree with a plain sorted list of the decoded keys."""

from __future__ import annotations

import bisect
import random

from aprender_shell.model.store.segments import SegmentView, encode_segment

# Ordering traps: multi-byte UTF-8, a lone surrogate (stored with surrogatepass), the highest
# code point, and keys that are prefixes of one another.
ALPHABET = ["a", "b", "g", " ", "-", "é", "ß", "中", "\ud800", "\U0010ffff", "\U0001f600", "\x00"]


def _keys(rng: random.Random, count: int) -> list[str]:
    keys = {"".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 6))) for _ in range(count)}
    return sorted(keys)


def test_lookups_match_the_decoded_order() -> None:
    rng = random.Random(11)
    for _ in range(40):
        keys = _keys(rng, 200)
        view = SegmentView(encode_segment([(key, b"") for key in keys]))
        for probe in _keys(rng, 60) + keys[:20]:
            assert view.lower_bound(probe) == bisect.bisect_left(keys, probe)
            expected = [i for i, key in enumerate(keys) if key.startswith(probe)]
            lo, hi = view.prefix_range(probe)
            assert list(range(lo, hi)) == expected, probe
            assert view.find(probe) == (keys.index(probe) if probe in keys else -1)
            assert [view.key(i) for i in range(lo, hi)] == [keys[i] for i in expected]


def test_an_empty_segment_finds_nothing() -> None:
    view = SegmentView(encode_segment([]))
    assert view.prefix_range("git") == (0, 0)
    assert view.prefix_range("") == (0, 0)
    assert view.find("") == -1

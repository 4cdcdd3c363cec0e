"""Decoding a history a chunk at a time gives what decoding it line by line gives."""

from __future__ import annotations

import random

import pytest

from aprender_shell.history import formats
from aprender_shell.history.formats import _lines, _parse_records

PIECES = [
    b": 1700000000:0;", b"#1700000001", b"ls -l", b"\\", b"\r", b"\n", b"\n", b"\n",
    b"\xc3\xa9", b"\x83\xa3", b"\xff", b"  ", b"\xe6\x97\xa5", b"- cmd: x", b"  when: 5",
]


def _histories(count: int) -> list[bytes]:
    rng = random.Random(4)
    return [b"".join(rng.choice(PIECES) for _ in range(rng.randint(0, 60))) for _ in range(count)]


@pytest.mark.parametrize("fmt", ["zsh", "plain", "bash"])
def test_chunk_boundaries_change_nothing(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    histories = _histories(300)
    whole = [_parse_records(data, fmt) for data in histories]
    for chunk in (1, 5, 17):
        monkeypatch.setattr(formats, "_DECODE_CHUNK", chunk)
        assert [_parse_records(data, fmt) for data in histories] == whole


def test_offsets_are_bytes_past_each_line() -> None:
    data = "echo é\n: 1700000000:0;ls \u65e5\r\nlast".encode()
    records = _parse_records(data, "zsh")
    assert [e.command for e in records.entries] == ["echo é", "ls \u65e5", "last"]
    assert records.ends == [end for _, end in _lines(data)] == [8, 31, 35]
    broken = b"ok\n\xff\xfe bad\nfine\n"
    assert _parse_records(broken, "bash").ends == [3, 10, 15]
    assert [e.command for e in _parse_records(broken, "bash").entries] == [
        "ok", "\ufffd\ufffd bad", "fine"
    ]

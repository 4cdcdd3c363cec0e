"""Hostile protocol lines: a seeded generator and the checks every answer must pass.

Each generated line is one request as a client could send it (bytes, no newline inside): lone
surrogates (escaped in JSON and raw in the bytes), NUL and other control bytes, invalid UTF-8,
nesting far past Python's recursion limit, every field with every wrong type, huge numbers,
huge fields, oversized lines, truncated JSON, and broken line-form requests.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

from aprender_shell.service.protocol.schema import MAX_LINE_BYTES

KEYS = (
    "prefix", "record", "id", "k", "prev", "cwd", "shell", "exit", "stats", "status", "agent",
    "feedback", "shown", "saved", "right", "accepted", "ignored",
)
SURROGATES = ("\\ud800", "\\udfff", "\\udc80", "\\ud83d", "\\ud800\\ud800")
RAW_SURROGATE = "\ud800".encode("utf-8", "surrogatepass")  # b"\xed\xa0\x80": not UTF-8
WEIRD_VALUES: tuple[str, ...] = (
    "null", "true", "false", "0", "-1", "1.5", "-0.0", "1e400", "-1e400", "NaN", "Infinity",
    "-Infinity", "9" * 4000, "-" + "9" * 400, "[]", "{}", '""', '"zsh"', '"git"', "[1,2]",
    '["a",1]', '[null]', '{"a":1}', '"\\u0000"', '"\\u001b]0;pwned\\u0007"', '"\\ud800"',
    '"a\\udfffb"', '"' + "x" * 300 + '"', "2147483648", "-9223372036854775809",
    "18446744073709551616",
)
GOOD_JSON = (b'{"prefix":"git ","k":3}', b'{"record":"ls -la","cwd":"/tmp","exit":0}')


def hostile_lines(count: int, seed: int) -> list[bytes]:
    """``count`` hostile request lines (without newlines), the same ones for the same seed."""
    rng = random.Random(seed)
    makers = [
        _surrogate_json, _wrong_types, _deep_nesting, _control_bytes, _invalid_utf8,
        _huge_field, _truncated_json, _line_form, _random_bytes, _duplicate_and_mixed,
    ]
    lines = []
    for index in range(count):
        line = makers[index % len(makers)](rng)
        lines.append(line.replace(b"\n", b"\\n"))
    return lines


def _string(rng: random.Random) -> str:
    """A JSON string literal (with its quotes) holding something unpleasant."""
    parts = [
        rng.choice(SURROGATES), "\\u0000", "\\u001b[2J", "\\u0007", "git ", "\\\\", "\\t",
        "\\u2028", "\\uffff", "\\ud83d\\ude00", "é", "\\r", "%s", "$(rm -rf ~)",
    ]
    return '"' + "".join(rng.choice(parts) for _ in range(rng.randint(1, 6))) + '"'


def _surrogate_json(rng: random.Random) -> bytes:
    kind = rng.choice(("prefix", "record", "status", "stats"))
    fields = {kind: _string(rng) if kind in ("prefix", "record") else "true"}
    for key in rng.sample(("id", "cwd", "shell", "prev"), rng.randint(1, 3)):
        fields[key] = f"[{_string(rng)}, {_string(rng)}]" if key == "prev" else _string(rng)
    return _object(fields).encode("utf-8")


def _wrong_types(rng: random.Random) -> bytes:
    fields = {key: rng.choice(WEIRD_VALUES) for key in rng.sample(KEYS, rng.randint(1, 5))}
    if rng.random() < 0.7:
        kind = rng.choice(("prefix", "record", "feedback"))
        fields.setdefault(kind, '"git"')
    return _object(fields).encode("utf-8")


def _deep_nesting(rng: random.Random) -> bytes:
    depth = rng.choice((50, 900, 1100, 5000, 30000))
    opener, closer = rng.choice((("[", "]"), ('{"a":', "}")))
    nested = opener * depth + "1" + closer * depth
    where = rng.choice(("alone", "prefix", "id", "prev", "k", "unclosed"))
    if where == "alone":
        return nested.encode()
    if where == "unclosed":
        return (opener * depth).encode()
    return _object({where: nested, "prefix": '"g"'} if where != "prefix" else {where: nested}
                   ).encode()


def _control_bytes(rng: random.Random) -> bytes:
    good = rng.choice(GOOD_JSON + (b"suggest\t1\t\t\t\tgit", b"record\tzsh\t/\t0\tls"))
    cut = rng.randint(0, len(good))
    junk = bytes(rng.choice((0, 1, 7, 8, 13, 27, 127, 0x9B)) for _ in range(rng.randint(1, 8)))
    return good[:cut] + junk + good[cut:]


def _invalid_utf8(rng: random.Random) -> bytes:
    bad = rng.choice((RAW_SURROGATE, b"\xff", b"\xc0\xaf", b"\xe2\x82", b"\xf4\x90\x80\x80"))
    shape = rng.choice((
        b'{"prefix":"%s"}', b'{"record":"%s"}', b'{"prefix":"g","id":"%s"}',
        b"suggest\t%s\t\t\t\tgit", b"suggest\t1\t\t\t\t%s", b"record\t\t\t\t%s", b"%s",
    ))
    return shape.replace(b"%s", bad)


def _huge_field(rng: random.Random) -> bytes:
    size = rng.choice((2001, 5000, MAX_LINE_BYTES - 40, MAX_LINE_BYTES + 1, 3 * MAX_LINE_BYTES))
    text = rng.choice(("a", "é", "\\u0000", "\\ud800", " ")) * (size // 2)
    key = rng.choice(("prefix", "record", "cwd", "id"))
    if key in ("cwd", "id"):
        return _object({key: f'"{text}"', "prefix": '"g"'}).encode()
    if rng.random() < 0.3:
        form = "suggest\t1\t\t\t\t" if key == "prefix" else "record\t\t\t\t"
        return (form + text).encode()
    if rng.random() < 0.2:
        prev = ",".join(['"git status"'] * (size // 13))
        return _object({"prefix": '"g"', "prev": f"[{prev}]"}).encode()
    return _object({key: f'"{text}"'}).encode()


def _truncated_json(rng: random.Random) -> bytes:
    good = rng.choice(GOOD_JSON + (b'{"status":true,"id":7}', b'{"stats":true}'))
    return rng.choice((good[: rng.randint(0, len(good) - 1)], good + b"}", b"[" + good + b"]",
                       good[1:], b"", b"   ", b"\r", b"null", b"42", b'"prefix"'))


def _line_form(rng: random.Random) -> bytes:
    verb = rng.choice(("suggest", "record", "record-agent", "feedback"))
    values = ["", "1", "²", "٣", "-1", "9" * 5000, "1e3", "zsh", "tcsh", "\\", "\\q", "\\x41",
              "\\t", "a\\", "\x00", "\x1b]0;t\x07", "é", "-", "--5", "0x10", " 3"]
    fields = [rng.choice(values) for _ in range(rng.choice((0, 1, 3, 4, 5, 6, 9)))]
    if rng.random() < 0.1:
        fields += ["git"] * rng.choice((100, 5000))
    return "\t".join([verb, *fields]).encode("utf-8")


def _random_bytes(rng: random.Random) -> bytes:
    start = rng.choice((
        b"", b"{", b"suggest\t", b"record\t", b"record-agent\t", b"feedback\t", b'{"prefix":',
    ))
    return start + bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))


def _duplicate_and_mixed(rng: random.Random) -> bytes:
    return rng.choice((
        b'{"prefix":"g","prefix":"h"}', b'{"prefix":"g","record":"ls"}',
        b'{"stats":true,"status":true}', b'{"status":1}', b'{"stats":"yes"}',
        b'{"prefix":"g","k":5,"k":"5"}', b'{"unknown":1}', b'{}', b'{"id":"\\ud800"}',
        b'{"prefix":"g","id":"\\ud800"}', b'{"record":"ls","exit":1e400}',
        b'{"record":"ls","exit":99999999999999999999}', b'{"prefix":"","k":100,"prev":[]}',
        b'{"feedback":true,"ignored":["git"]*3}', b'{"feedback":true,"shown":-1}',
        b'{"feedback":true,"ignored":' + b'["x"' + b',"x"' * 40 + b"]}",
        b'{"record":"ls","agent":""}', b'{"record":"ls","agent":"' + b"a" * 100 + b'"}',
    ))


def _object(fields: dict[str, str]) -> str:
    return "{" + ",".join(f'"{key}":{value}' for key, value in fields.items()) + "}"


def is_line_form(line: bytes) -> bool:
    return line.startswith((b"suggest\t", b"record\t", b"record-agent\t", b"feedback\t"))


def check_answer(request: bytes, answer: bytes) -> Any:
    """Assert ``answer`` is one well-formed answer line to ``request`` in the request's form;
    return the decoded JSON answer, or the line-form fields."""
    assert b"\n" not in answer, (request[:200], answer[:200])
    text = answer.decode("utf-8")  # strict: never a lone surrogate or a broken byte
    assert "internal error" not in text, (request[:200], text[:300])
    if is_line_form(request):
        fields = text.split("\t")
        assert fields[0] in ("suggestions", "quiet", "ok", "error"), (request[:200], text[:300])
        if fields[0] == "error":
            assert len(fields) == 3, text
        assert not any(ord(c) < 32 or ord(c) == 127 for c in text if c != "\t"), text
        return fields
    decoded = json.loads(text)
    assert isinstance(decoded, dict), text
    kinds = {"suggestions", "ok", "error", "stats", "status"} & set(decoded)
    assert len(kinds) == 1, (request[:200], text[:300])
    return decoded


def assert_serves(answer_of: Callable[[bytes], bytes]) -> None:
    """Assert that good requests, JSON and line form, still get right answers."""
    answer = json.loads(answer_of(b'{"prefix":"git ","k":3,"id":"after"}'))
    assert answer["id"] == "after", answer
    assert answer["suggestions"], answer
    assert all(item["text"].startswith("git ") for item in answer["suggestions"]), answer
    line = answer_of(b"suggest\tafter\t2\tzsh\t\tgit ").decode("utf-8")
    assert line.startswith("suggestions\tafter\tgit "), line

"""The read path's JSON decoder (bundle/jsontext.py) reads what the json package reads, the same
way, and refuses what it refuses."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from aprender_shell.bundle.jsontext import Decoder, loads

DOCUMENTS = [
    '{"c":"git status","sh":"zsh","cwd":"/home/\u00e9t\u00e9","exit":0,"t":1796668358}',
    ' [1, -2, 3.5, 1e400, -0.0, "", null, true, false, {"a": {"b": []}}] \r\n',
    '"\\ud800 lone surrogate, \\u00e9 and \\n"',
    "0",
    "[-Infinity, Infinity]",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_it_decodes_as_json_does_from_text_and_from_utf8(text: str) -> None:
    assert repr(loads(text)) == repr(json.loads(text))
    assert repr(loads(text.encode("utf-8", "surrogatepass"))) == repr(json.loads(text))


def test_nan_is_read_as_json_reads_it() -> None:
    assert math.isnan(loads("NaN"))


@pytest.mark.parametrize("text", [
    "", "  ", "[1] x", "[1]]", '{"a":1,}', "[1,", '{"a" 1}', "nul", '"\x01"', "\ufeff[1]",
    b'{"c":"git \xc3"}',  # a torn UTF-8 character
])
def test_what_json_refuses_it_refuses_with_a_value_error(text: str | bytes) -> None:
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError):
        loads(text)


def test_hooks_apply_as_in_json() -> None:
    def unique(pairs: list[tuple[str, object]]) -> dict[str, object]:
        keys = [key for key, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate key")
        return dict(pairs)

    def no_constant(token: str) -> object:
        raise ValueError(f"{token} is not valid JSON")

    strict = Decoder(object_pairs_hook=unique, parse_constant=no_constant)
    assert strict.loads('{"a": [1, {"b": 2}]}') == {"a": [1, {"b": 2}]}
    with pytest.raises(ValueError, match="duplicate key"):
        strict.loads('{"a": 1, "a": 2}')
    with pytest.raises(ValueError, match="NaN is not valid JSON"):
        strict.loads("[NaN]")


def test_deep_nesting_is_a_recursion_error_as_in_json() -> None:
    with pytest.raises(RecursionError):
        loads("[" * 100_000)


def test_a_malformed_document_is_a_value_error_before_json_is_imported() -> None:
    # The C scanner looks its error class up among the modules already imported.
    code = ("import sys; from aprender_shell.bundle.jsontext import loads\n"
            "assert 'json.decoder' not in sys.modules\n"
            "try:\n    loads('{\"a\": 1,}')\nexcept ValueError as error:\n    print(error)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Expecting property name enclosed in double quotes")


def test_only_text_is_read() -> None:
    with pytest.raises(TypeError):
        loads(None)  # type: ignore[arg-type]

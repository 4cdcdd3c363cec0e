"""Hostile request lines against one in-process ``Session`` on a real model.

Every line gets exactly one answer line, valid UTF-8, in the request's own form (JSON or the
line form), and the session keeps answering good requests right after.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aprender_shell.model.query.predictor import Predictor
from aprender_shell.service.protocol.schema import MAX_LINE_BYTES
from aprender_shell.service.session import Session
from tests.faults.hostile import assert_serves, check_answer, hostile_lines
from tests.service.conftest import train


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train(tmp_path_factory.mktemp("model") / "model.apbundle")


@pytest.fixture
def session(model_file: Path) -> Session:
    return Session(lambda: Predictor.open(model_file), model_path=model_file)


def test_a_lone_surrogate_in_the_id_gets_an_error_not_a_crash(session: Session) -> None:
    answer = session.handle_bytes(b'{"prefix":"g","id":"\\ud800"}')
    decoded = check_answer(b"{", answer)
    assert decoded == {"error": "'id' holds an invalid character (lone surrogate)"}
    assert_serves(session.handle_bytes)


@pytest.mark.parametrize(
    "line",
    [
        "suggest\t1\t\u00b2\t\t\tgit".encode(),
        b"suggest\t1\t" + b"9" * 5000 + b"\t\t\tgit",
        "record\t\t\t\u0663\tls".encode(),
        b"record\t\t\t" + b"1" * 5000 + b"\tls",
    ],
    ids=["superscript-k", "k-of-5000-digits", "arabic-digit-exit", "exit-of-5000-digits"],
)
def test_line_form_numbers_python_would_choke_on_are_errors(
    session: Session, line: bytes
) -> None:
    fields = check_answer(line, session.handle_bytes(line))
    assert fields[0] == "error"
    assert "whole number" in fields[2]
    assert_serves(session.handle_bytes)


def test_errors_answer_in_the_form_of_the_request(session: Session) -> None:
    oversized = b"suggest\t7\t\t\t\t" + b"a" * (MAX_LINE_BYTES + 10)
    assert session.handle_bytes(oversized).startswith(b"error\t7\trequest line longer than")
    not_utf8 = b"suggest\t8\t\t\t\tgit \xff"
    assert session.handle_bytes(not_utf8) == b"error\t8\trequest is not valid UTF-8"
    assert session.handle_bytes(b'{"prefix":"\xff"}') == b'{"error":"request is not valid UTF-8"}'


def test_an_exception_inside_a_request_is_an_error_answer_in_its_form(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom \ud800 \x1b[2J")

    monkeypatch.setattr(Session, "handle", explode)
    json_answer = session.handle_bytes(b'{"prefix":"g","id":3}')
    assert json.loads(json_answer)["error"].startswith("internal error: RuntimeError: boom")
    json_answer.decode("utf-8")
    line_answer = session.handle_bytes(b"suggest\t3\t\t\t\tg").decode("utf-8")
    assert line_answer.startswith("error\t3\tinternal error: RuntimeError: boom")
    assert "\x1b" not in line_answer


def test_a_thousand_generated_hostile_lines(session: Session) -> None:
    lines = hostile_lines(1500, seed=8)
    kinds: dict[str, int] = {}
    for number, line in enumerate(lines):
        answer = check_answer(line, session.handle_bytes(line))
        kind = answer[0] if isinstance(answer, list) else next(iter(answer))
        kinds[kind] = kinds.get(kind, 0) + 1
        if number % 100 == 99:
            assert_serves(session.handle_bytes)
    # The generator reaches both the validation and the model, in both forms.
    assert kinds["error"] > 500 and kinds.get("suggestions", 0) > 50, kinds
    assert_serves(session.handle_bytes)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_any_bytes_get_one_answer_line(session: Session, line: bytes) -> None:
    line = line.replace(b"\n", b"")
    check_answer(line, session.handle_bytes(line))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(["prefix", "record", "id", "k", "prev", "cwd", "shell",
                                        "exit", "stats", "status", "agent", "feedback", "shown",
                                        "saved", "right", "accepted", "ignored"]),
                       json_values, max_size=6))
def test_any_json_object_with_protocol_keys_gets_one_answer(
    session: Session, request_: dict[str, object]
) -> None:
    line = json.dumps(request_).encode("ascii")  # ascii: surrogates travel as \\udXXX escapes
    check_answer(line, session.handle_bytes(line))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["suggest", "record", "record-agent", "feedback"]),
       st.lists(st.text(alphabet=st.characters(blacklist_characters="\n\t")), max_size=8))
def test_any_line_form_request_gets_one_line_form_answer(
    session: Session, verb: str, fields: list[str]
) -> None:
    line = "\t".join([verb, *fields]).encode("utf-8", "surrogatepass")
    check_answer(line, session.handle_bytes(line))

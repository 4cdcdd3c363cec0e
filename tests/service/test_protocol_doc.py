"""PROTOCOL.md stays true: its exchanges are answered as written, its limits and fields are the
code's. Every exchange runs, in the document's order, against one session on a real model."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from aprender_shell import limits
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.service.folding import Folder
from aprender_shell.service.protocol import schema
from aprender_shell.service.server import Server
from aprender_shell.service.session import Session
from aprender_shell.sync.watch import SyncWatch
from tests.service.conftest import train

DOCUMENT = Path(__file__).resolve().parents[2] / "PROTOCOL.md"
TEXT = DOCUMENT.read_text(encoding="utf-8")
TAB = "⇥"  # how the document writes a tab
LIMITS = ("MAX_LINE_BYTES", "MAX_ID_CHARS", "DEFAULT_K", "MAX_K", "MAX_PREV", "MAX_COMMAND_CHARS")


def exchanges() -> list[tuple[str, str]]:
    """Each request line of the document's ``exchange`` blocks with the answer written under it."""
    pairs = []
    for block in re.findall(r"```exchange\n(.*?)```", TEXT, re.S):
        lines = block.splitlines()
        assert len(lines) % 2 == 0, block
        for request, answer in zip(lines[::2], lines[1::2]):
            assert request.startswith("> ") and answer.startswith("< "), (request, answer)
            pairs.append((request[2:].replace(TAB, "\t"), answer[2:].replace(TAB, "\t")))
    return pairs


def same_but_scores(answer: str) -> str:
    # Scores and p depend on the model's tuning and calibration, not the protocol's to fix.
    return re.sub(r'"(score|p)":[0-9.e-]+', r'"\1":S', answer)


def table(heading: str) -> list[str]:
    """The first column of the table under ``heading``, backquotes taken off."""
    section = TEXT.split(heading, 1)[1].split("\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [row.split("|")[1].strip().strip("`") for row in rows]


@pytest.fixture
def session(tmp_path: Path) -> Session:
    model = train(tmp_path / "model.apbundle")
    return Session(lambda: Predictor.open(model), model_path=model)


def test_every_exchange_is_answered_as_written(session: Session) -> None:
    found = exchanges()
    assert len(found) >= 20
    with session:
        for request, written in found:
            answered = session.handle_line(request)
            assert same_but_scores(answered) == same_but_scores(written), request


def test_the_limits_written_are_the_code_s() -> None:
    written = {name: int(value) for value, name in
               re.findall(r"\*\*(\d+)[^*]*\*\* \(`([A-Z_]+)`", TEXT)}
    assert set(written) == set(LIMITS)
    for name, value in written.items():
        assert getattr(schema, name) == value, name
    assert schema.DEFAULT_K == limits.DEFAULT_K and schema.MAX_K == limits.MAX_K
    assert "`-(2**63 - 1)` to `2**63 - 1`" in TEXT and schema.MAX_ID_INT == 2**63 - 1


def test_every_kind_of_request_has_its_section_and_no_other() -> None:
    documented = re.findall(r"^### `([a-z]+)`", TEXT, re.M)
    assert documented == ["prefix", "record", "feedback", "forget", "search", "stats", "status"]
    assert set(documented) == set(schema.KINDS)


def test_the_version_written_is_the_one_status_answers(session: Session) -> None:
    assert TEXT.startswith(f"# The aprender-shell protocol, version {schema.PROTOCOL_VERSION}\n")
    with session:
        assert session.handle({"status": True})["status"]["protocol"] == schema.PROTOCOL_VERSION


def test_the_stats_fields_written_are_the_answer_s(session: Session) -> None:
    with session:
        answered = session.handle({"stats": True})["stats"]
    assert table("### `stats`") == list(answered)


def test_the_status_fields_written_are_the_answer_s(session: Session, tmp_path: Path) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(tmp_path / "s.sock"))
    try:
        server = Server(session, listener)  # adds the server's own figures
        Folder(session, tmp_path / "m.apbundle", None, lambda line: None)  # and its folds'
        syncs = SyncWatch(tmp_path / "m.apbundle", session.predictor, lambda line: None)
        session.status_extras.append(syncs.status)  # and its syncs' (as serve() does)
        answered = session.handle({"status": True})["status"]
        server.stop("done")
        server.serve_forever()  # returns at once, closing what it opened
    finally:
        listener.close()
    broken = Session(lambda: Predictor.open(tmp_path / "none.apbundle"))
    without_model = broken.handle({"status": True})["status"]
    assert "model_error" in without_model and "stats" not in without_model
    assert set(table("### `status`")) == set(answered) | set(without_model)

"""A server's first answer waits for the newest FOLD_RECORDS of the journal only, as a cold
``suggest`` does; the older unfolded records within its bound are read right after it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from aprender_shell.model.learned.journal import journal_path
from aprender_shell.model.learned.newest import FOLD_RECORDS, fold_bound
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.paths import history_filter_path
from aprender_shell.service.server import Opening
from aprender_shell.service.session import Session
from tests.service.conftest import texts, train, wait_for

OLDEST = "ssh oldest-box uptime"


def long_journal(model: Path) -> list[str]:
    """A model whose bound is past FOLD_RECORDS, and a journal within that bound whose oldest
    record is a command the newest FOLD_RECORDS never ran."""
    train(model, [f"make target{n % 300}" for n in range(FOLD_RECORDS * 20)])
    with Predictor.open(model) as predictor:
        generation = predictor.index.generation
        assert fold_bound(predictor.index.total_commands) > FOLD_RECORDS + 100
    commands = [OLDEST] + [f"kubectl logs pod{n}" for n in range(FOLD_RECORDS + 50)]
    lines = [json.dumps({"journal": 1, "generation": generation})]
    lines += [json.dumps({"c": c, "cwd": "/src", "t": 1_700_000_000 + n})
              for n, c in enumerate(commands)]
    journal_path(model).write_text("\n".join(lines) + "\n")
    return commands


def test_the_first_open_reads_the_newest_and_the_rest_follows_the_first_answer(
    tmp_path: Path,
) -> None:
    model = tmp_path / "model.apbundle"
    commands = long_journal(model)
    logged: list[str] = []
    opening = Opening(model, None, logged.append)
    session = opening.session = Session(opening.open, model_path=model)
    with session:
        opening.complete()  # nothing answered yet: nothing more read
        first = session.handle({"prefix": "kubectl logs pod", "k": 3})
        assert first["suggestions"], first
        assert session.predictor().replayed == FOLD_RECORDS
        assert OLDEST not in texts(session.handle({"prefix": "ssh old"}))
        opening.complete()
        assert session.predictor().replayed == len(commands)
        assert OLDEST in texts(session.handle({"prefix": "ssh old"}))
        assert logged == [f"read the journal's {len(commands)} unfolded records, after "
                          "answering from the newest"]
        opening.complete()  # once only
        assert len(logged) == 1


def test_a_real_server_answers_then_reads_the_rest(tmp_path: Path, run_server) -> None:
    model = tmp_path / "model.apbundle"
    commands = long_journal(model)
    server = run_server(model)
    newest = commands[-1]
    assert newest in texts(server.request({"prefix": newest}))
    wait_for(lambda: "unfolded records, after answering" in server.log(),
             what="the rest of the journal to be read")
    assert OLDEST in texts(server.request({"prefix": "ssh old"}))
    status = server.request({"status": True})["status"]
    assert status["stats"]["replayed_records"] == len(commands)
    assert server.terminate() == 0


def test_a_history_filter_waits_for_the_first_answer_and_is_still_reported(
    model: Path, run_server
) -> None:
    # Its patterns compile with re2, whose import (about 5 ms) a start need not wait for.
    path = history_filter_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("^ssh .*prod\n[bad\n")
    started = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "aprender_shell", "server", "run",
         "--model", str(model), "--idle-timeout", "0.5"],
        capture_output=True, text=True, timeout=120,
    )
    assert started.returncode == 0, started.stderr[-2000:]
    assert "aprender_shell.service.server" in started.stderr
    assert " re2\n" not in started.stderr  # nothing answered, no pattern compiled
    server = run_server(model)
    assert texts(server.request({"prefix": "git"}))
    wait_for(lambda: "line 2" in server.log(), what="the bad filter line to be logged")
    with server.client() as client:
        assert client.request({"record": "ssh admin@db.prod"}) == {"ok": True}
        assert texts(client.request({"prefix": "ssh"})) == []  # the good line applies


def test_a_server_nobody_asks_reads_the_rest_by_itself(tmp_path: Path, run_server) -> None:
    # Nobody waits then, and what is past the bound must still be folded without a request.
    model = tmp_path / "model.apbundle"
    commands = long_journal(model)
    server = run_server(model)
    wait_for(lambda: f"read the journal's {len(commands)} unfolded records" in server.log(),
             what="the rest of the journal to be read without a request")
    assert OLDEST in texts(server.request({"prefix": "ssh old"}))
    assert server.terminate() == 0


def test_the_first_answer_does_not_wait_for_the_journal_s_compaction(
    model: Path, run_server
) -> None:
    # Finding a journal clean reads and re-encodes every record, and a rewrite fsyncs twice:
    # at 500 records, about a third of an interpreter start before the first answer.
    with Predictor.open(model) as predictor:
        generation = predictor.index.generation
    journal_path(model).write_text(
        json.dumps({"journal": 1, "generation": generation}) + "\n"
        + json.dumps({"c": "make deploy", "cwd": "/srv", "t": 1_700_000_000}) + "\n"
        + '{"c":"torn')  # a crash mid-append: compaction cuts it
    before = journal_path(model).read_bytes()
    server = run_server(model)
    assert "make deploy" in texts(server.request({"prefix": "make d"}))
    assert journal_path(model).read_bytes() == before  # answered first
    assert server.terminate() == 0
    after = journal_path(model).read_bytes()
    assert b"make deploy" in after and b"torn" not in after  # compacted as it stopped

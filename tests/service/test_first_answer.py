"""A server's first answer waits for the newest FOLD_RECORDS of the journal only, as a cold
``suggest`` does; the older unfolded records within its bound are read right after it."""

from __future__ import annotations

import json
from pathlib import Path

from aprender_shell.model.learned.journal import journal_path
from aprender_shell.model.learned.newest import FOLD_RECORDS, fold_bound
from aprender_shell.model.query.predictor import Predictor
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

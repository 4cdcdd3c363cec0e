"""Live learning folds into the model by itself: a real server folds its journal past the
bound while clients record, a ``kill -9`` at every step of a fold loses nothing, and a cold
``suggest`` or ``stats`` replays at most the bound however long the journal grew."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from aprender_shell.model.learned.journal import journal_path
from aprender_shell.model.learned.newest import FOLD_CEILING, FOLD_RECORDS, fold_bound
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.model.training.fold import KILL_AT_ENV, PAUSE_AT_ENV, STEPS
from aprender_shell.service.orphan import CHECK_INTERVAL
from tests.service.conftest import WAIT, ServerProcess, aprender, texts, train, wait_for
from tests.service.test_durability import kept, recording


def journal_records(model: Path) -> int:
    return len(journal_path(model).read_bytes().splitlines()) - 1


def write_journal(model: Path, commands: list[str]) -> None:
    with Predictor.open(model) as predictor:
        generation = predictor.index.generation
    lines = [json.dumps({"journal": 1, "generation": generation})]
    lines += [json.dumps({"c": c, "cwd": "/src", "prev": "git status", "t": 1_700_000_000 + n})
              for n, c in enumerate(commands)]
    journal_path(model).write_text("\n".join(lines) + "\n")


def record_many(server: ServerProcess, commands: list[str]) -> None:
    with server.client() as client:
        for command in commands:
            assert client.request({"record": command, "cwd": "/srv", "prev": ["git status"]}) \
                == {"ok": True}


def test_the_server_folds_past_the_bound_while_clients_record(model: Path, run_server) -> None:
    server = run_server(model)
    size = model.stat().st_size
    commands = [f"deploy --target host{n} --verbose" for n in range(FOLD_RECORDS + 200)]
    record_many(server, commands)
    wait_for(lambda: server.request({"status": True})["status"]["folds"] >= 1,
             what="the server to fold its journal")
    # The model grew, the journal holds only what came after the fold began.
    assert model.stat().st_size > size
    assert journal_records(model) < FOLD_RECORDS
    newest = "deploy --target host-last --verbose"
    record_many(server, [newest])
    assert newest in texts(server.request({"prefix": "deploy --target host-l"}))
    counts = Counter(kept(model))
    assert all(counts[command] == 1 for command in [*commands, newest])  # once each
    # A restarted server (and a cold suggest) answers from the folded model.
    assert server.terminate() == 0
    last = commands[-1]
    cold = aprender("suggest", "--model", str(model), last[:-2])
    assert last in cold.stdout, cold.stderr


@pytest.mark.parametrize("at", STEPS)
def test_kill_9_at_every_step_of_a_fold_loses_nothing(
    model: Path, run_server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, at: str
) -> None:
    before = kept(model)
    commands = [f"ssh host{n} uptime" for n in range(FOLD_RECORDS + 10)]
    write_journal(model, commands)
    monkeypatch.setenv(KILL_AT_ENV, at)
    # The server starts a fold at once (its journal is past the bound). One that dies past
    # "staged" (under the journal's lock) holds there first, its model retrained, while a
    # client records: records appended after the fold read the journal, which the mark and
    # the cut must keep; a client records again after it died. Recording only then (before:
    # as fast as the server answered, for as long as the niced fold took to die) keeps the
    # journal the next fold must fold to a few hundred records; under load it had grown to
    # tens of thousands, and that fold outran its minute.
    hook = tmp_path / "hook"
    hook.mkdir()
    holds = STEPS.index(at) > STEPS.index("staged")
    if holds:
        monkeypatch.setenv(PAUSE_AT_ENV, f"staged:{hook}")
    server = run_server(model)
    during: list[str] = []
    if holds:
        wait_for((hook / "paused").exists, what="the fold to stage its model")
        with recording(server, "make target") as during:
            wait_for(lambda: len(during) > 20, what="records while the fold is staged")
        (hook / "resume").touch()
    wait_for(lambda: f"fold ended with status {-signal.SIGKILL}" in server.log(),
             what=f"the fold to die at {at}")
    with recording(server, "make later") as after:
        wait_for(lambda: len(after) > 20, what="records after the kill")
    acknowledged = during + after
    assert server.request({"status": True})["status"]["folds"] == 0
    newest = acknowledged[-1]
    assert newest in texts(server.request({"prefix": newest}))
    server.process.kill()
    server.process.wait(WAIT)
    expected = sorted(before + commands + acknowledged)
    assert sorted(kept(model)) == expected, at  # nothing lost, nothing twice
    # The next fold (no hook now) starts from what the killed one left.
    monkeypatch.delenv(KILL_AT_ENV)
    monkeypatch.delenv(PAUSE_AT_ENV, raising=False)
    assert subprocess.run([sys.executable, "-m", "aprender_shell.model.training.fold", str(model)],
                          capture_output=True, timeout=WAIT).returncode == 0
    assert sorted(kept(model)) == expected
    assert journal_records(model) == 0
    assert [p.name for p in model.parent.glob(".*.tmp")] == []


def test_kill_9_of_the_server_during_a_fold_loses_nothing(model: Path, run_server) -> None:
    before = kept(model)
    commands = [f"cargo build -p crate{n}" for n in range(FOLD_RECORDS * 3)]
    write_journal(model, commands)
    server = run_server(model)
    wait_for(lambda: "folding" in server.log(), what="a fold to start")
    server.process.kill()
    server.process.wait(WAIT)
    restarted = run_server(model)  # waits for the orphaned fold's lock, or folds again
    wait_for(lambda: journal_records(model) < FOLD_RECORDS, what="the journal to be folded")
    assert sorted(kept(model)) == sorted(before + commands)
    assert restarted.terminate() == 0


def test_a_cold_suggest_replays_at_most_the_bound(model: Path) -> None:
    commands = [f"kubectl logs pod{n}" for n in range(FOLD_RECORDS * 5)]
    write_journal(model, commands)
    stats = aprender("stats", "--model", str(model))
    assert stats.returncode == 0, stats.stderr
    assert f"Journal read:    the newest {FOLD_RECORDS} records" in stats.stdout
    newest = aprender("suggest", "--model", str(model), f"kubectl logs pod{len(commands) - 1}")
    assert f"kubectl logs pod{len(commands) - 1}" in newest.stdout
    # Nothing is dropped: the journal keeps what was not replayed, for the next fold.
    assert journal_records(model) == len(commands)


def test_a_forget_after_a_fold_still_holds(model: Path, run_server) -> None:
    secret = "ssh old-box-to-forget"
    commands = [f"echo step{n}" for n in range(FOLD_RECORDS + 20)]
    write_journal(model, [secret, *commands])
    server = run_server(model)
    wait_for(lambda: server.request({"status": True})["status"]["folds"] >= 1,
             what="the server to fold its journal")
    assert secret in kept(model)
    forgot = aprender("forget", "--model", str(model), secret)
    assert forgot.returncode == 0, forgot.stderr
    assert secret not in kept(model)
    assert secret not in texts(server.request({"prefix": "ssh old"}))
    record_many(server, [f"echo more{n}" for n in range(FOLD_RECORDS + 20)])
    wait_for(lambda: server.request({"status": True})["status"]["folds"] >= 2,
             what="a second fold")
    assert secret not in kept(model)
    assert secret not in texts(server.request({"prefix": "ssh old"}))
    assert os.path.exists(model)


def test_what_was_learned_live_answers_the_same_after_a_fold(model: Path, run_server) -> None:
    server = run_server(model)
    with server.client() as client:
        for n in range(FOLD_RECORDS // 2 + 10):
            for command in ("terraform plan", "terraform apply -auto-approve",
                            f"kubectl get pods -n team{n}"):
                assert client.request({"record": command}) == {"ok": True}
    asks = [{"prefix": "terraform a", "prev": ["terraform plan"]}, {"prefix": "kubectl get"},
            {"prefix": "", "prev": ["terraform plan"]},
            {"prefix": "terraform ", "prev": ["kubectl get pods -n team3"]}]
    def lines(answer: dict[str, Any]) -> list[str]:
        # whole lines: 260 "kubectl get pods -n teamN" also make a partial ghost of their start
        return [item["text"] for item in answer["suggestions"] if not item.get("partial")]

    before = [lines(server.request(ask))[:1] for ask in asks]
    assert before[0] == ["terraform apply -auto-approve"]
    assert before[1] == [f"kubectl get pods -n team{FOLD_RECORDS // 2 + 9}"]  # the newest
    wait_for(lambda: server.request({"status": True})["status"]["folds"] >= 1,
             what="the server to fold its journal")
    assert journal_records(model) < FOLD_RECORDS
    after = [lines(server.request(ask))[:1] for ask in asks]
    assert after[:3] == before[:3]
    # What always followed the kubectl commands: the model's successors know it too.
    assert after[3] == ["terraform plan"]


def test_a_server_lets_a_share_of_a_large_model_pile_up_before_folding(
    tmp_path: Path, run_server
) -> None:
    # Each fold retrains the whole model: a model of 12,000 commands folds past a tenth of
    # them (fold_bound), not every FOLD_RECORDS, so a year of folds costs linear work.
    model = train(tmp_path / "large.apbundle", [f"make build{n % 300}" for n in range(12_000)])
    bound = fold_bound(12_000)
    assert FOLD_RECORDS < bound < FOLD_CEILING
    commands = [f"deploy --target host{n} --verbose" for n in range(bound - 300)]
    write_journal(model, commands)
    server = run_server(model)
    # The server replays the whole unfolded journal, not only the newest FOLD_RECORDS: the
    # rest once it answered its first request (service/server.py, Opening).
    server.request({"prefix": "deploy"})
    wait_for(lambda: "unfolded records, after answering" in server.log(),
             what="the rest of the journal to be read")
    assert commands[0] in texts(server.request({"prefix": "deploy --target host0 "}))

    def status() -> dict[str, Any]:
        return server.request({"status": True})["status"]  # type: ignore[no-any-return]

    wait_for(lambda: status()["uptime"] > 3 * CHECK_INTERVAL, what="a few fold checks")
    assert (status()["folds"], status()["folding"]) == (0, False)
    assert journal_records(model) == len(commands)
    more = [f"helm upgrade release{n}" for n in range(400)]
    record_many(server, more)
    wait_for(lambda: status()["folds"] >= 1, what="the server to fold past the bound")
    counts = Counter(kept(model))
    assert all(counts[command] == 1 for command in [*commands, *more])

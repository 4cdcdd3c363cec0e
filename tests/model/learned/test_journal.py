"""The journal file: appended before acknowledged, versioned, torn lines ignored, rewritable."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from aprender_shell.history.formats import HistoryEntry
from aprender_shell.model.learned.journal import (
    JOURNAL_VERSION,
    Journal,
    JournalError,
    journal_path,
)
from aprender_shell.model.learned.records import record_line
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.model.training.train import train_model

COMMANDS = ["git status", "git add .", "git commit -m fix", "ls -la", "make test"] * 6


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "model.apbundle"
    train_model([HistoryEntry(c) for c in COMMANDS], path)
    return path


def lines(model: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in journal_path(model).read_text().splitlines()]


def texts(predictor: Predictor, prefix: str) -> list[str]:
    return [s.text for s in predictor.suggest(prefix, k=10)]


def test_a_record_is_in_the_file_when_record_returns(model: Path) -> None:
    with Predictor.open(model) as predictor:
        predictor.record("terraform plan", cwd="/infra", exit_status=0, prev=["cd /infra"])
        # No save, no close: another reader already sees it.
        header, record = lines(model)
        assert header == {"journal": JOURNAL_VERSION,
                          "generation": predictor.index.generation}
        assert record["c"] == "terraform plan" and record["cwd"] == "/infra"
        assert record["prev"] == "cd /infra" and record["exit"] == 0
        with Predictor.open(model) as other:
            assert texts(other, "terr") == ["terraform plan"]
    assert oct(journal_path(model).stat().st_mode & 0o777) == "0o600"


def test_a_torn_last_line_is_ignored_and_cut_before_the_next_append(model: Path) -> None:
    with Predictor.open(model) as predictor:
        predictor.record("helm list")
    with open(journal_path(model), "ab") as handle:
        handle.write(b'{"c":"helm unin')  # a power loss tore this write
    with Predictor.open(model) as predictor:
        assert texts(predictor, "helm") == ["helm list"]
        predictor.record("helm upgrade")
    assert [line.get("c") for line in lines(model)[1:]] == ["helm list", "helm upgrade"]


def test_a_newer_journal_version_is_refused_with_one_clear_line(model: Path) -> None:
    journal_path(model).write_text(json.dumps({"journal": JOURNAL_VERSION + 1,
                                               "generation": "x"}) + "\n")
    with pytest.raises(JournalError) as raised:
        Predictor.open(model)
    message = str(raised.value)
    assert "newer aprender-shell" in message and "\n" not in message
    assert journal_path(model).read_text().startswith('{"journal": 2')  # left untouched


def test_a_version_0_journal_is_read_and_upgraded_by_compaction(model: Path) -> None:
    with Predictor.open(model) as predictor:
        generation = predictor.index.generation
    old = [{"g": generation, "c": "cargo build", "cwd": None, "exit": 0, "prev": None, "t": 1},
           {"g": "an-older-model", "c": "cargo clean", "t": 1},
           {"g": generation, "c": "cargo test", "cwd": "/src", "exit": 0, "prev": "cargo build",
            "t": 2}]
    journal_path(model).write_text("".join(json.dumps(line) + "\n" for line in old))
    with Predictor.open(model) as predictor:
        assert sorted(texts(predictor, "cargo")) == ["cargo build", "cargo test"]
        assert predictor.compact_journal() == 2
    header, *records = lines(model)
    assert header["journal"] == JOURNAL_VERSION and header["generation"] == generation
    assert [r["c"] for r in records] == ["cargo build", "cargo test"]
    assert all("g" not in r for r in records)


def test_an_older_models_journal_is_replaced_at_the_first_append(model: Path) -> None:
    with Predictor.open(model) as predictor:
        predictor.record("brew upgrade")
    train_model([HistoryEntry(c) for c in COMMANDS], model)  # a new generation
    with Predictor.open(model) as predictor:
        assert texts(predictor, "brew") == []
        predictor.record("nix build")
        assert [line.get("c") for line in lines(model)[1:]] == ["nix build"]


def test_a_stale_writer_never_wipes_the_new_models_journal(model: Path) -> None:
    from aprender_shell.model.learned.journal import StaleJournalError

    old = Predictor.open(model)
    try:
        train_model([HistoryEntry(c) for c in COMMANDS], model)
        with Predictor.open(model) as fresh:
            fresh.record("nix build")
        with pytest.raises(StaleJournalError):
            old.record("nix flake update")
    finally:
        old.close()
    assert [line.get("c") for line in lines(model)[1:]] == ["nix build"]


def test_rewrite_removes_matching_records_under_the_writers_lock(model: Path) -> None:
    with Predictor.open(model) as predictor:
        for command in ("ssh prod", "ls", "ssh staging", "make"):
            predictor.record(command)
        removed = predictor.journal.rewrite(lambda record: not record["c"].startswith("ssh"))
        assert removed == 2
        # The writer's descriptor points at the replaced file: it reopens and appends.
        predictor.record("make test")
    assert [line.get("c") for line in lines(model)[1:]] == ["ls", "make", "make test"]
    with Predictor.open(model) as predictor:
        assert texts(predictor, "ssh") == []
        predictor.record("ssh prod", prev=["make test"])
        predictor.record("uptime", prev=["ssh prod"])

    def without_ssh(record: dict[str, object]) -> dict[str, object]:
        if str(record.get("prev", "")).startswith("ssh"):
            del record["prev"]
        return record

    with Predictor.open(model) as predictor:
        removed = predictor.journal.rewrite(lambda r: not r["c"].startswith("ssh"), without_ssh)
    assert removed == 1
    assert [(r.get("c"), r.get("prev")) for r in lines(model)[1:]][-1] == ("uptime", None)


def test_a_failed_write_is_taken_back_and_raised(model: Path, tmp_path: Path) -> None:
    journal = Journal(model, "g")
    journal.append(record_line("ls", None, None, None))
    size = os.stat(journal.path).st_size

    # RLIMIT_FSIZE makes the next write fail part-way, like a disk that fills mid-line.
    import resource
    import signal

    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 10, hard))
    try:
        with pytest.raises(JournalError, match="could not save the command to .*: File too large"):
            journal.append(record_line("a command longer than ten bytes", None, None, None))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert os.stat(journal.path).st_size == size  # no torn line left to swallow the next one
    journal.append(record_line("pwd", None, None, None))
    assert [r["c"] for r in journal.read().records] == ["ls", "pwd"]
    journal.close()


def test_the_journal_is_not_followed_through_a_symlink(model: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("")
    os.symlink(target, journal_path(model))
    with Predictor.open(model) as predictor, pytest.raises(JournalError):
        predictor.record("ls")
    assert target.read_text() == ""


def test_compaction_keeps_every_record_however_many(model: Path) -> None:
    # It dropped all but the newest 200,000 (acknowledged ones too); folding bounds the file.
    with Predictor.open(model) as predictor:
        generation = predictor.index.generation
    count = 200_010
    with open(journal_path(model), "w") as handle:
        handle.write(json.dumps({"journal": 1, "generation": generation}) + "\n")
        handle.writelines(f'{{"c":"echo {n}","t":1}}\n' for n in range(count))
    assert Journal(model, generation).compact() == count
    assert lines(model)[1]["c"] == "echo 0" and len(lines(model)) == count + 1


def test_a_journal_marked_by_a_fold_cut_short_belongs_to_the_new_model(model: Path) -> None:
    journal = Journal(model, "old")
    journal.write([{"c": f"echo {n}"} for n in range(5)], None, ("new", 3))
    assert [r["c"] for r in Journal(model, "new").records()] == ["echo 3", "echo 4"]
    assert [r["c"] for r in Journal(model, "old").records()] == [f"echo {n}" for n in range(5)]
    assert [r["c"] for r in Journal(model, "other").records()] == []
    Journal(model, "new").append({"c": "echo 5"})  # appended to, not started afresh
    assert [r["c"] for r in Journal(model, "new").records()] == ["echo 3", "echo 4", "echo 5"]

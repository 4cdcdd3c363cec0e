"""``update`` costs what is new: it folds new history commands into the journal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aprender_shell.history.files import read_history
from aprender_shell.history.marks import mark_history
from aprender_shell.model.learned import newest
from aprender_shell.model.learned.journal import journal_path
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.model.training.train import train_model
from aprender_shell.model.training.update import compaction, reconcile, update_model
from aprender_shell.model.training.update.retraining import reset_journal

TRAINED = ["git status", "git add .", "git commit -m fix", "ls -la", "make test"] * 20


def write_history(path: Path, commands: list[str]) -> None:
    path.write_text("".join(command + "\n" for command in commands))


def append_history(path: Path, commands: list[str]) -> None:
    with open(path, "a") as handle:
        handle.write("".join(command + "\n" for command in commands))


@pytest.fixture
def trained(tmp_path: Path) -> tuple[Path, Path]:
    history = tmp_path / ".bash_history"
    write_history(history, TRAINED)
    model = tmp_path / "model.apbundle"
    entries = read_history(history)
    train_model(entries, model, history_marks=[mark_history(history, entries).to_dict()])
    return model, history


def records(model: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in journal_path(model).read_text().splitlines()[1:]]


def texts(model: Path, prefix: str, **context: object) -> list[str]:
    with Predictor.open(model) as predictor:
        return [s.text for s in predictor.suggest(prefix, k=10, **context)]  # type: ignore[arg-type]


def test_update_reads_neither_the_corpus_nor_retrains(
    trained: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    model, history = trained
    before = model.read_bytes()

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("update did work proportional to the trained history")

    monkeypatch.setattr(compaction, "read_entries", refuse)
    monkeypatch.setattr("aprender_shell.model.training.train.train_model", refuse)
    append_history(history, ["cargo build --release", "cargo test"])
    result = update_model(model)
    assert result.new_commands == 2 and result.compacted is None
    assert model.read_bytes() == before  # the bundle is not rewritten
    assert result.total_commands == len(TRAINED) + 2
    assert texts(model, "cargo") [:2] == ["cargo test", "cargo build --release"]
    with Predictor.open(model) as predictor:
        stats = predictor.stats()
    assert stats.total_commands == len(TRAINED) + 2
    # The marks moved to the journal: the same lines are not learned twice.
    assert not update_model(model).changed
    append_history(history, ["cargo test"])
    assert update_model(model).new_commands == 1
    assert [r["c"] for r in records(model)] == ["cargo build --release", "cargo test",
                                                "cargo test"]


def test_commands_recorded_live_then_written_to_the_history_count_once(
    trained: tuple[Path, Path],
) -> None:
    model, history = trained
    with Predictor.open(model) as predictor:
        predictor.record("cargo build", cwd="/src")
        predictor.record("cargo test", cwd="/src", prev=["cargo build"])
        predictor.record("vim notes.txt")  # typed in a shell that keeps no history file
    # The shell writes its history at exit: both commands, plus one typed elsewhere.
    append_history(history, ["cargo build", "cargo test", "cargo fmt"])
    result = update_model(model)
    assert result.new_commands == 3 and result.already_recorded == 2
    assert result.total_commands == len(TRAINED) + 4
    journal = records(model)
    assert [(r["c"], r.get("seen"), r.get("src")) for r in journal] == [
        ("cargo build", True, None),
        ("cargo test", True, None),
        ("vim notes.txt", None, None),
        ("cargo fmt", None, "history"),
    ]
    with Predictor.open(model) as predictor:
        assert predictor.stats().total_commands == len(TRAINED) + 4
        counts = dict(predictor.stats().top_commands)
    assert "cargo build" not in counts or counts["cargo build"] == 1
    # A seen record is never matched again: the next run of the same command is new.
    append_history(history, ["cargo test"])
    assert update_model(model).already_recorded == 0
    assert [r["c"] for r in records(model)][-1] == "cargo test"


def test_a_live_record_matches_only_a_history_line_of_about_its_time() -> None:
    from aprender_shell.history.formats import HistoryEntry

    day = 24 * 3600
    live = [{"c": "make", "t": 1_000_000}, {"c": "make", "t": 1_000_000 + 3 * day}]
    folded, matched = reconcile(
        live, [HistoryEntry("make", 1_000_000 + 3 * day - 5), HistoryEntry("make", 999)]
    )
    # The first live record is days older than the history line: another run of make.
    assert matched == 1 and live[1]["seen"] is True and "seen" not in live[0]
    assert folded == [{"c": "make", "src": "history", "t": 999}]


def test_update_compacts_once_the_journal_outgrows_its_bound(
    trained: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    model, history = trained
    monkeypatch.setattr(compaction, "COMPACT_MAX_RECORDS", 3)
    monkeypatch.setattr(newest, "FOLD_SHARE", 10**9)  # no share of the model on top of it
    with Predictor.open(model) as predictor:
        old_generation = predictor.index.generation
        predictor.record("helm list")
    append_history(history, ["kubectl get pods", "kubectl logs web", "helm list", "k9s"])
    result = update_model(model)
    assert result.compacted is not None
    assert result.total_commands == len(TRAINED) + 4
    with Predictor.open(model) as predictor:
        assert predictor.index.generation != old_generation
        assert predictor.stats().total_commands == len(TRAINED) + 4
        assert predictor.stats().learned_commands == 0  # all in the bundle now
    assert records(model) == []
    assert texts(model, "kubectl")[:2] == ["kubectl logs web", "kubectl get pods"]
    # The marks went into the new model: nothing is new, nothing counted twice.
    assert not update_model(model).changed
    assert not list(model.parent.glob(".*.tmp"))


def test_train_starts_the_journal_afresh_but_keeps_a_newer_models_records(
    trained: tuple[Path, Path],
) -> None:
    model, history = trained
    with Predictor.open(model) as predictor:
        predictor.record("helm list")
    train_model([], model)
    with Predictor.open(model) as fresh:
        fresh.record("nix build")  # a server that reloaded before 'train' reset the journal
    reset_journal(model)
    assert [r["c"] for r in records(model)] == ["nix build"]


def test_train_keeps_live_records_its_histories_do_not_hold_yet(
    trained: tuple[Path, Path],
) -> None:
    from aprender_shell.model.training.update.retraining import retrain

    model, history = trained
    with Predictor.open(model) as predictor:
        predictor.record("cargo build")  # the shell wrote it to its history since
        predictor.record("vim notes.txt")  # a shell that keeps no history file
    append_history(history, ["cargo build"])
    entries = read_history(history)
    marks = [mark_history(history, entries).to_dict()]
    retrain(model, [history], lambda target: train_model(entries, target, history_marks=marks))
    assert [r["c"] for r in records(model)] == ["vim notes.txt"]
    with Predictor.open(model) as predictor:
        assert predictor.stats().total_commands == len(TRAINED) + 2
        assert [s.text for s in predictor.suggest("vim")] == ["vim notes.txt"]
    assert not list(model.parent.glob(".*.tmp"))


def test_update_compacts_by_the_limit_the_model_was_trained_for(tmp_path: Path) -> None:
    # One rule for which limit applies: the model's own when none is given. update used to
    # decide by the 16 MB default (a small model's journal then outgrew what its server holds
    # long before compacting) while rebuilding with the model's own.
    from aprender_shell.model.memory import MemoryLimit

    history = tmp_path / ".bash_history"
    write_history(history, TRAINED)
    model = tmp_path / "model.apbundle"
    entries = read_history(history)
    small = MemoryLimit(MemoryLimit.MIN)
    marks = [mark_history(history, entries).to_dict()]
    train_model(entries, model, memory_limit=small, history_marks=marks)
    append_history(history, [f"ssh host{n:04d}.example.com uptime" for n in range(300)])
    result = update_model(model)
    assert result.compacted is not None
    assert result.compacted.memory_limit == small
    with Predictor.open(model) as predictor:
        assert predictor.stats().memory_limit == small.size
        assert predictor.stats().total_commands == len(TRAINED) + 300

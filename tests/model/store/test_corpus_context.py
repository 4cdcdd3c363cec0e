"""Corpus rows keep what the shells recorded about each run (index version 4).

Before version 4 a corpus row was ``[command, timestamp]``: the first fold threw away the
folder, exit status, host and shell of every command the shells recorded, and with them what
the model and Ctrl-R's filters knew of it. Now a row may carry them; every field is checked
when read, and a version 3 model is read as before.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

from aprender_shell.bundle import ModelBundle
from aprender_shell.history.formats import Context, HistoryEntry
from aprender_shell.model.learned.journal import journal_path
from aprender_shell.model.memory import MemoryLimit
from aprender_shell.model.store.corpus import read_corpus
from aprender_shell.model.store.tables import open_model_bundle, read_index
from aprender_shell.model.training.train import train_model
from tests.model.hostile import corpus_names, edit_index, rewrite, trained
from tests.model.store.test_hostile_models import aprender, assert_one_line_error


def corpus_of(model: Path) -> list[HistoryEntry]:
    with open_model_bundle(model, MemoryLimit.default().paging) as bundle:
        return read_corpus(bundle, read_index(bundle, model), model)


def fold(model: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aprender_shell.model.training.fold", str(model)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def write_journal(model: Path, records: list[dict[str, Any]]) -> None:
    generation = json.loads(ModelBundle.load(model).get_model("index"))["generation"]
    lines = [json.dumps({"journal": 1, "generation": generation})]
    lines += [json.dumps(record) for record in records]
    journal_path(model).write_text("\n".join(lines) + "\n")


RECORDS: list[dict[str, Any]] = [
    {"c": "make test", "cwd": "/src/app", "exit": 2, "host": "laptop", "sh": "zsh",
     "prev": "git status", "t": 1_700_000_100},
    {"c": "cargo build", "cwd": "/src/lib", "exit": 0, "host": "server", "sh": "fish",
     "agent": "claude", "t": 1_700_000_101},
    {"c": "ls -la", "t": 1_700_000_102},  # recorded with nothing else known
    # A record update made of a history file's line.
    {"c": "htop", "src": "history", "t": 1_700_000_103},
    # Fields of the wrong type (a hand-edited journal) are left out, the rest kept.
    {"c": "git push", "cwd": 7, "exit": True, "host": "laptop", "sh": "tcsh",
     "t": 1_700_000_104},
]


def test_a_fold_keeps_each_records_context_in_the_corpus(tmp_path: Path) -> None:
    model = train_model(
        [HistoryEntry("git status", 1_700_000_000)] * 5, tmp_path / "model.apbundle"
    ).model_path
    write_journal(model, RECORDS)
    fold(model)
    entries = corpus_of(model)
    assert [entry.command for entry in entries[-5:]] == [r["c"] for r in RECORDS]
    # A record names the command before it in its shell, kept where that is not the row
    # before it (the first record's prev is); a shell's record without one is its shell's
    # first (""); a record of no shell that names none follows the row before it.
    assert [entry.context for entry in entries[-5:]] == [
        Context("/src/app", 2, "laptop", "zsh"),
        Context("/src/lib", 0, "server", "fish", "claude", prev=""),  # its shell's first
        None,
        None,
        Context(host="laptop"),
    ]
    assert all(entry.context is None for entry in entries[:-5])  # the history file's lines
    # A second fold reads them back and keeps them again.
    write_journal(model, [{"c": "echo hi", "cwd": "/tmp", "t": 1_700_000_200}])
    fold(model)
    again = corpus_of(model)
    assert [entry.context for entry in again[-6:]] == [
        *(entry.context for entry in entries[-5:]),
        Context("/tmp"),
    ]


def test_a_history_file_model_stores_rows_without_context(tmp_path: Path) -> None:
    model = trained(tmp_path / "model.apbundle", ["git status", "ls"] * 10)
    for name in corpus_names(model):
        rows = json.loads(zlib.decompress(ModelBundle.load(model).get_model(name)))
        assert all(len(row) == 2 for row in rows)


@pytest.fixture(scope="module")
def folded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = trained(tmp_path_factory.mktemp("context") / "model.apbundle")
    write_journal(model, RECORDS)
    fold(model)
    return model


@pytest.fixture
def model(tmp_path: Path, folded: Path) -> Path:
    path = tmp_path / "model.apbundle"
    shutil.copyfile(folded, path)
    return path


def with_last_row(model: Path, row: Any) -> Path:
    """The model with one more row in its last corpus chunk (the index's size updated)."""
    name = corpus_names(model)[-1]
    rows = json.loads(zlib.decompress(ModelBundle.load(model).get_model(name)))
    raw = json.dumps([*rows, row]).encode()
    rewrite(model, {name: zlib.compress(raw)})
    return edit_index(model, lambda index: index["corpus"][-1].update(raw_size=len(raw)))


HOSTILE_CONTEXTS = {
    "not an object": ["git status", 1, ["cwd", "/src"]],
    "empty": ["git status", 1, {}],
    "unknown key": ["git status", 1, {"cwd": "/src", "uid": 0}],
    "exit a string": ["git status", 1, {"exit": "0"}],
    "exit a bool": ["git status", 1, {"exit": True}],
    "exit huge": ["git status", 1, {"exit": 2**40}],
    "cwd empty": ["git status", 1, {"cwd": ""}],
    "cwd too long": ["git status", 1, {"cwd": "/" * 5000}],
    "host a number": ["git status", 1, {"host": 3}],
    "shell unknown": ["git status", 1, {"sh": "tcsh"}],
    "agent a list": ["git status", 1, {"agent": ["x"]}],
    "prev a number": ["git status", 1, {"prev": 1}],
    "prev too long": ["git status", 1, {"prev": "x" * 2001}],
    "four fields": ["git status", 1, {"cwd": "/src"}, None],
}


@pytest.mark.parametrize("row", HOSTILE_CONTEXTS.values(), ids=list(HOSTILE_CONTEXTS))
def test_a_hostile_context_in_a_corpus_row_is_one_line(model: Path, row: Any) -> None:
    assert aprender(model, "stats").returncode == 0
    with_last_row(model, row)
    assert aprender(model, "suggest", "git ").returncode == 0  # queries never read the corpus
    assert_one_line_error(aprender(model, "stats"), "damaged corpus entry")


def test_a_version_3_model_is_read_as_before(tmp_path: Path) -> None:
    model = trained(tmp_path / "model.apbundle")
    edit_index(model, lambda index: index.update(version=3))
    assert aprender(model, "stats").returncode == 0
    before = corpus_of(model)
    assert before and all(entry.context is None for entry in before)
    # Version 3 wrote no context: a row with one is damage there.
    with_last_row(model, ["git status", 1, {"cwd": "/src"}])
    assert_one_line_error(aprender(model, "stats"), "damaged corpus entry")


def garbage_tables(model: Path, table: str) -> Path:
    names = json.loads(ModelBundle.load(model).get_model("index"))["tables"][table]["names"]
    assert names
    # A record count that claims more than the segment holds, then noise.
    return rewrite(model, {name: bytes(range(256)) * 8 for name in names})


def test_garbage_folder_and_run_tables_are_one_line(model: Path) -> None:
    garbage_tables(model, "dir")
    assert aprender(model, "suggest", "git ").returncode == 0  # no folder: not read
    result = aprender(model, "suggest", "--cwd", "/src/app", "git ")
    assert_one_line_error(result, "corrupt")


def test_garbage_run_records_are_one_line(model: Path, tmp_path: Path) -> None:
    garbage_tables(model, "run")
    done = subprocess.run(
        [sys.executable, "-m", "aprender_shell", "suggest", "--batch", "--model", str(model)],
        # "make test" is in the run table (the agent's "cargo build" is kept out of it).
        input='{"prefix": "make ", "shell": "zsh"}\n', capture_output=True, text=True,
        timeout=120,
    )
    assert "corrupt" in done.stdout and "Traceback" not in done.stdout + done.stderr, done


def suggest_batch(model: Path, request: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aprender_shell", "suggest", "--batch", "--model", str(model)],
        input=request + "\n", capture_output=True, text=True, timeout=120,
    )


def test_garbage_host_records_are_one_line(model: Path) -> None:
    # "git push" ran on the laptop, not here: the model's host table (version 5) holds it.
    garbage_tables(model, "host")
    done = suggest_batch(model, '{"prefix": "git p"}')
    assert "corrupt" in done.stdout and "Traceback" not in done.stdout + done.stderr, done
    # Version 4 had no host table: one listed there is not read.
    edit_index(model, lambda index: index.update(version=4))
    done = suggest_batch(model, '{"prefix": "git p"}')
    assert "git push" in done.stdout and "corrupt" not in done.stdout, done


def test_a_forgotten_command_leaves_the_rows_it_ran_before(tmp_path: Path) -> None:
    model = trained(tmp_path / "model.apbundle", ["git status", "ls"] * 10)
    # Two shells interleave: the second row's prev is stored, as it is not the row before.
    write_journal(model, [
        {"c": "ssh pi@192.168.1.20", "prev": "ls", "cwd": "/", "t": 1},
        {"c": "make", "prev": "ls", "cwd": "/src", "t": 2},
        {"c": "uptime", "prev": "ssh pi@192.168.1.20", "cwd": "/", "t": 3},
    ])
    fold(model)

    def stored() -> bytes:
        bundle = ModelBundle.load(model)
        return b"".join(bundle.get_model(name) for name in bundle.model_names())

    assert b"192.168.1.20" in b"".join(
        zlib.decompress(ModelBundle.load(model).get_model(name)) for name in corpus_names(model)
    )
    done = aprender(model, "forget", "ssh pi@192.168.1.20")
    assert done.returncode == 0, done.stderr
    assert b"192.168.1.20" not in stored()
    assert b"192.168.1.20" not in b"".join(
        zlib.decompress(ModelBundle.load(model).get_model(name)) for name in corpus_names(model)
    )
    assert [entry.command for entry in corpus_of(model)][-2:] == ["make", "uptime"]


def test_a_predecessor_the_filter_keeps_out_is_not_kept(tmp_path: Path) -> None:
    from aprender_shell.paths import history_filter_path

    model = trained(tmp_path / "model.apbundle", ["git status", "ls"] * 10)
    write_journal(model, [
        {"c": "vault login team-secret-name", "prev": "ls", "t": 1},
        {"c": "make", "prev": "ls", "cwd": "/src", "t": 2},
        {"c": "uptime", "prev": "vault login team-secret-name", "t": 3},
    ])
    # Added after the shells recorded them: the next retrain keeps them out, as commands and
    # as what ran before another.
    history_filter_path().parent.mkdir(parents=True, exist_ok=True)
    history_filter_path().write_text("team-secret-name\n")
    fold(model)
    corpus = b"".join(
        zlib.decompress(ModelBundle.load(model).get_model(name)) for name in corpus_names(model)
    )
    assert b"team-secret-name" not in corpus
    assert [entry.command for entry in corpus_of(model)][-2:] == ["make", "uptime"]


def test_stats_counts_the_folder_and_run_segments_train_reported(tmp_path: Path) -> None:
    from aprender_shell.model.query.predictor import Predictor

    report = train_model(
        [HistoryEntry(f"make target{n}", n, Context(f"/src/p{n % 9}", n % 2, "pc", "zsh"))
         for n in range(200)],
        tmp_path / "model.apbundle",
    )
    tables = json.loads(ModelBundle.load(report.model_path).get_model("index"))["tables"]
    assert {"dir", "run"} <= set(tables)
    with Predictor.open(report.model_path) as predictor:
        assert predictor.stats().segments == report.segments

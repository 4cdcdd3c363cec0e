"""Training within a memory budget gives the model an unbounded one gives: the n-gram count
spilled to sorted runs on disk makes the same records (ties in first-counted order too), its
runs private and gone once read; a fold's corpus held as columns reads back as the rows it was
made of."""

from __future__ import annotations

import stat
from collections import Counter
from pathlib import Path

from aprender_shell.history.formats import Context, HistoryEntry
from aprender_shell.model.training.entries import Entries
from aprender_shell.model.training.tables.ngrams import ngram_table
from benchmarks.sessions import generate_sessions


def _uses() -> Counter[str]:
    commands = [item.command for item in generate_sessions(3000, seed=3)]
    # Ties among continuations of one context, first counted in different runs.
    commands += [f"tie{n % 7} next{n}" for n in range(300)]
    return Counter(commands)


def test_a_spilled_ngram_count_makes_the_records_an_unbounded_one_makes(tmp_path: Path) -> None:
    uses = _uses()
    folder = tmp_path / "data"
    folder.mkdir()
    beside = folder / "model.apbundle"
    whole, vocabulary = ngram_table(uses, 3, 10**9, beside)
    expected = list(whole)
    assert list(folder.iterdir()) == []  # all in memory: nothing written
    records, spilled_vocabulary = ngram_table(uses, 3, 20_000, beside)
    runs = list(folder.iterdir())
    assert len(runs) > 5  # the count went to disk, run after run
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in runs)
    assert list(records) == expected and spilled_vocabulary == vocabulary
    assert list(folder.iterdir()) == []  # read, then removed


def test_a_corpus_held_as_columns_reads_back_its_rows() -> None:
    here = Context("/src", 0, "laptop", "zsh", None, None)
    rows = [
        HistoryEntry("git status", 1_700_000_000, here),
        HistoryEntry("make", None, None),
        HistoryEntry("git status", 1_700_000_009, Context("/src", 0, "laptop", "zsh", None, None)),
        HistoryEntry("claude-run", 5, Context(None, 1, None, None, "claude", "make")),
        HistoryEntry("ls", -3, Context(prev="")),
    ]
    held = Entries(rows)
    assert list(held) == rows and list(held) == rows  # as often as training reads it
    assert len(held) == 5 and held.commands[0] is held.commands[2]  # one string each
    people = held.without_agents()
    assert [entry.command for entry in people] == ["git status", "make", "git status", "ls"]
    assert held.last_person() == "ls"
    assert Entries(rows[:3]).without_agents().commands == ["git status", "make", "git status"]


def _model_entries(path: Path) -> dict[str, bytes]:
    import json

    from aprender_shell.bundle import ModelBundle

    bundle = ModelBundle.load(path)
    found = {name: bundle.get_model(name) for name in bundle.model_names()}
    index = json.loads(found["index"])
    index.pop("trained_at")
    found["index"] = json.dumps(index, sort_keys=True).encode()
    return found


def test_a_folds_corpus_is_cleaned_where_it_lies_into_the_same_model(tmp_path: Path) -> None:
    from aprender_shell.model.memory import MemoryLimit
    from aprender_shell.model.training.train import train_model

    secret = "export AWS_SECRET_ACCESS_KEY=abcdefghijklmnopqrstuv1234"
    rows: list[HistoryEntry] = []
    before = ""
    for number, item in enumerate(generate_sessions(2500, seed=4)):
        command = item.command
        context = Context(item.cwd, item.exit_status, "laptop", "zsh", None, before)
        if number % 41 == 0:
            command = secret  # a secret, and the predecessor of the next row
        elif number % 43 == 0:
            command += "\n"  # kept without its newline
        elif number % 47 == 0:
            command = "   "  # blank: dropped
        elif number % 53 == 0:
            context = Context(None, 0, None, "zsh", "claude", None)  # an agent's
        rows.append(HistoryEntry(command, item.timestamp, context if number % 5 else None))
        before = command
    limit = MemoryLimit.parse("0.5")  # its n-grams spill too
    copied, in_place = tmp_path / "copied.apbundle", tmp_path / "in_place.apbundle"
    train_model(Entries(rows), copied, memory_limit=limit, generation="0" * 32)
    corpus = Entries(rows)
    corpus.consumable = True  # as a fold hands its corpus over
    report = train_model(corpus, in_place, memory_limit=limit, generation="0" * 32)
    assert _model_entries(in_place) == _model_entries(copied)
    assert report.secrets_dropped == len(range(0, 2500, 41))
    # The columns themselves were cleaned: no second copy was made.
    assert secret not in corpus.commands and "   " not in corpus.commands
    assert not any(command.endswith("\n") for command in corpus.commands)
    assert len(corpus) == report.commands + sum(
        1 for entry in corpus if entry.context is not None and entry.context.agent)

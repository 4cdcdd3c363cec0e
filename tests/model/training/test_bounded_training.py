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

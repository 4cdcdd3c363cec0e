"""The model's run and host tables are asked once per command, not per candidate and keystroke.

Every keystroke scores a few dozen candidates, each asking its share of runs on this host; the
next keystroke asks for mostly the same ones. Read from the table each time, that search cost a
keystroke more than everything else the host preference does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aprender_shell.model.learned.overlay import Overlay
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.model.store.runs import RunTables
from tests.model.hostile import trained
from tests.model.store.test_corpus_context import RECORDS, fold, write_journal


@pytest.fixture
def folded(tmp_path: Path) -> Path:
    """A model whose host table holds "git push" (run on the laptop, not here)."""
    model = trained(tmp_path / "model.apbundle")
    write_journal(model, RECORDS)
    fold(model)
    return model


def test_the_next_keystroke_reads_no_host_or_run_record_again(
    folded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    for name in ("hosts", "runs"):
        table_read = getattr(RunTables, name)

        def counted(
            self: RunTables, command: str, read: Callable[..., object] = table_read,
            name: str = name,
        ) -> object:
            reads.append(f"{name} {command}")
            return read(self, command)

        monkeypatch.setattr(RunTables, name, counted)
    with Predictor.open(folded) as predictor:
        first = predictor.suggest("git p", 5, cwd="/src/app", shell="zsh")
        assert any(f"hosts {s.text}" in reads for s in first)  # the table is asked
        read_first = len(reads)
        again = predictor.suggest("git p", 5, cwd="/src/app", shell="zsh")
        assert again == first
        assert reads[read_first:] == []


def test_a_days_commands_stay_cached_past_a_few_hundred(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A day's typing asks for a few thousand commands' runs; a cache cleared at 256 searched
    # the table again for three in four, and a folded model answered 1.3x slower than before.
    model = trained(tmp_path / "model.apbundle")
    commands = [f"make target-{number}" for number in range(600)]
    write_journal(model, [{"c": command, "sh": "zsh", "exit": 0, "t": 1_700_000_000 + number}
                          for number, command in enumerate(commands)])
    fold(model)
    reads: list[str] = []
    table_read = RunTables.runs

    def counted(self: RunTables, command: str) -> object:
        reads.append(command)
        return table_read(self, command)

    monkeypatch.setattr(RunTables, "runs", counted)
    with Predictor.open(model) as predictor:
        first = [predictor.run_counts(command) for command in commands]
        assert all(counts is not None and counts.shells[0] == 1 for counts in first)
        assert len(reads) == len(commands)
        again = [predictor.run_counts(command) for command in commands[:100]]
        assert again == first[:100]
        assert reads[len(commands):] == []


def test_no_host_share_is_asked_when_no_command_ran_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every run was on this host: every candidate's share would be None (no preference), so a
    # keystroke does not ask for it per candidate.
    model = trained(tmp_path / "model.apbundle")
    asked: list[str] = []
    host_share = Overlay.host_share

    def counted(self: Overlay, command: str) -> float | None:
        asked.append(command)
        return host_share(self, command)

    monkeypatch.setattr(Overlay, "host_share", counted)
    with Predictor.open(model) as predictor:
        predictor.record("git status", cwd="/src", shell="zsh")
        found = predictor.explain("git ", 5, cwd="/src", shell="zsh")
        assert found and all("host" not in parts for _, parts in found)
    assert asked == []
    # One run from another host, and the preference is asked for again.
    write_journal(model, [{"c": "git fetch --all", "host": "desktop", "exit": 0, "t": 1}])
    with Predictor.open(model) as predictor:
        found = predictor.explain("git f", 5)
        parts = next(parts for s, parts in found if s.text == "git fetch --all")
        assert asked and parts["host"] < 0


def test_a_process_remembers_as_many_failing_commands_as_its_limit_allows() -> None:
    # The failing commands are held outside the paged segments: at 1 MiB all 4,096 took about
    # 185 KiB (tests/model/test_memory.py), so a small limit keeps the newest; 16 MB, all.
    from aprender_shell.model.query.runs import MAX_FAILING, Outcomes, failing_kept

    rows = [(f"tool --bad{n}", True) for n in range(MAX_FAILING)]
    small = Outcomes(rows, failing_kept(1 << 20))
    assert len(list(small)) == 256
    assert small.factor(f"tool --bad{MAX_FAILING - 1}") == 0.0  # the newest: still never offered
    assert small.factor("tool --bad0") == 1.0  # the oldest forgotten
    default = Outcomes(rows, failing_kept(16 << 20))
    assert all(default.factor(text) == 0.0 for text, _ in rows)

"""Learned commands: every operation O(1) or O(log n), the whole within its byte budget."""

from __future__ import annotations

import gc
import json
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from aprender_shell.history.formats import HistoryEntry
from aprender_shell.model.learned.journal import journal_path
from aprender_shell.model.learned.overlay import Overlay
from aprender_shell.model.memory import MemoryLimit
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.model.training.train import train_model

MIB = 1 << 20


def calls(action: Callable[[], object]) -> int:
    """How many Python and C functions ``action`` calls: a count of work, not a time."""
    count = 0

    def profile(frame: object, event: str, arg: object) -> None:
        nonlocal count
        count += 1

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return count


def distinct(count: int) -> list[str]:
    return [f"ssh host{n:06d} uptime" for n in range(count)]


def write_journal(model: Path, commands: list[str]) -> None:
    with Predictor.open(model) as predictor:
        generation = predictor.index.generation
    header = {"journal": 1, "generation": generation}
    body = "".join(json.dumps({"c": c, "prev": "ls", "cwd": f"/d{n % 500}", "t": 1}) + "\n"
                   for n, c in enumerate(commands))
    journal_path(model).write_text(json.dumps(header) + "\n" + body)


def test_forgetting_does_not_scan_what_is_learned() -> None:
    """Past the budget each new command forgets one: the work per command stays flat."""
    def learn(count: int) -> int:
        overlay = Overlay(0, max_bytes=256 * 1024)
        return calls(lambda: [overlay.learn(c, "ls", "/src") for c in distinct(count)])

    small, large = learn(4_000), learn(40_000)
    assert large < 12 * small  # linear: 10x the commands, 10x the work (a scan: 100x)


def test_a_cold_open_with_40000_learned_commands_costs_what_it_reads(tmp_path: Path) -> None:
    model = tmp_path / "model.apbundle"
    train_model([HistoryEntry(c) for c in ["git status", "ls -la", "make"] * 20], model)

    def cold(count: int) -> int:
        write_journal(model, distinct(count))

        def open_and_suggest() -> None:
            with Predictor.open(model) as predictor:
                predictor.suggest("ssh host0", k=5)
                predictor.suggest("", k=5, prev=["ls"], cwd="/d1")

        return calls(open_and_suggest)

    small, large = cold(4_000), cold(40_000)
    assert large < 12 * small


def test_the_overlay_stays_within_its_share_of_the_memory_limit() -> None:
    max_bytes = MemoryLimit(4 * MIB).learned
    gc.collect()
    tracemalloc.start()
    try:
        overlay = Overlay(0, max_bytes)
        for number, command in enumerate(distinct(40_000)):
            overlay.learn(command, f"cd /project{number % 3000}", f"/home/me/src/p{number % 3000}")
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert overlay.bytes <= max_bytes
    assert held <= max_bytes, f"{held} bytes held for {max_bytes} bytes allowed"
    assert overlay.forgotten > 0 and len(overlay) > 1000
    # The most recent survive, the oldest went first.
    assert overlay.stats("ssh host039999 uptime") is not None
    assert overlay.stats("ssh host000000 uptime") is None


def test_the_model_opened_with_a_large_journal_stays_within_the_limit(tmp_path: Path) -> None:
    model = tmp_path / "model.apbundle"
    train_model([HistoryEntry(c) for c in ["git status", "ls -la", "make"] * 20], model)
    write_journal(model, distinct(40_000))
    gc.collect()
    tracemalloc.start()
    try:
        predictor = Predictor.open(model, MemoryLimit(MIB))
        predictor.suggest("ssh host03", k=5)
        gc.collect()
        _, peak = tracemalloc.get_traced_memory()
        learned = predictor.stats().learned_commands
        predictor.close()
    finally:
        tracemalloc.stop()
    # The limit plus the overhead test_memory.py states (index, one query's objects).
    assert peak <= MIB + 256 * 1024, peak
    assert learned > 300  # what fits: the most recent of the 40,000


def test_prefix_matching_across_blocks_finds_every_match_in_order() -> None:
    overlay = Overlay(0, max_bytes=64 * MIB)
    commands = [f"git checkout branch-{n:05d}" for n in range(3000)] + ["git status", "ls"]
    for command in reversed(commands):
        overlay.learn(command, None, None)
    everything = len(commands)
    found = overlay.matching("git checkout branch-01", everything)
    assert found == [f"git checkout branch-{n:05d}" for n in range(1000, 2000)]
    assert overlay.matching("git s", everything) == ["git status"]
    assert overlay.matching("zzz", everything) == []
    assert len(overlay.matching("", everything)) == len(commands)


def test_past_the_limit_the_most_recently_used_matches_are_taken() -> None:
    overlay = Overlay(0, max_bytes=64 * MIB)
    for n in range(3000):
        overlay.learn(f"git checkout branch-{n:05d}", None, None)
    overlay.learn("git checkout branch-00007", None, None)  # used again: now the latest
    overlay.learn("ls", None, None)
    assert overlay.matching("git checkout branch-0299", 10) == [
        f"git checkout branch-{n:05d}" for n in range(2990, 3000)
    ]
    latest = overlay.matching("git checkout", 3)
    assert latest == [
        "git checkout branch-00007", "git checkout branch-02999", "git checkout branch-02998",
    ]
    assert overlay.matching("", 2) == ["ls", "git checkout branch-00007"]

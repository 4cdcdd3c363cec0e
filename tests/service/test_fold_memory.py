"""The fold child and the memory limit: a real server's fold says how much memory it took against
the limit (measured by the child itself, from its peak resident size), and a fold whose counts
spill to sorted runs on disk loses nothing when it is killed there, its runs private files the
next writer removes."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from aprender_shell.model.learned.newest import FOLD_RECORDS
from aprender_shell.model.training.fold import PAUSE_AT_ENV, SPILLED, STREAMED
from tests.service.conftest import WAIT, wait_for
from tests.service.test_durability import kept, recording
from tests.service.test_fold import journal_records, write_journal

NOTE = re.compile(
    r"fold memory: peak (?P<peak>[0-9.]+) MB, (?P<grown>[0-9.]+) MB above the "
    r"(?P<floor>[0-9.]+) MB its code takes; memory limit (?P<limit>[0-9.]+) MB: "
    r"(?P<held>held|NOT held)"
)


def test_a_fold_says_how_much_memory_it_took_against_the_limit(model: Path, run_server) -> None:
    write_journal(model, [f"rsync -a build{n}/ backup:/srv" for n in range(FOLD_RECORDS + 10)])
    server = run_server(model, "--memory-limit", "16")
    wait_for(lambda: server.request({"status": True})["status"]["folds"] >= 1,
             what="the server to fold its journal")
    found = NOTE.search(server.log())
    assert found is not None, server.log()
    assert float(found["limit"]) == 16
    peak, grown, floor = (float(found[name]) for name in ("peak", "grown", "floor"))
    assert peak >= floor > 0 and abs(peak - floor - grown) < 0.2
    # A small model's fold holds a 16 MB limit, and says so.
    assert grown <= 16 and found["held"] == "held"


@pytest.mark.parametrize(("at", "spilled"), [
    (SPILLED, (".*ngrams*.tmp", ".*entries*.tmp")),
    # The new model's segments, written as they are cut by the streaming bundle builder.
    (STREAMED, (".*entries*.tmp",)),
])
def test_kill_9_while_a_fold_spills_loses_nothing(
    model: Path, run_server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, at: str,
    spilled: tuple[str, ...],
) -> None:
    before = kept(model)
    commands = [f"ssh host{n} uptime" for n in range(FOLD_RECORDS + 10)]
    write_journal(model, commands)
    hook = tmp_path / "hook"
    hook.mkdir()
    monkeypatch.setenv(PAUSE_AT_ENV, f"{at}:{hook}")
    # At the smallest limit the fold's n-gram count outgrows its share at once: it spills.
    server = run_server(model, "--memory-limit", "0.125")
    with recording(server, "make target") as acknowledged:
        wait_for(lambda: (hook / "paused").exists(), what="the fold to spill")
        # What it spilled (its first sorted run, the segments written so far) is on disk,
        # readable by the user alone.
        for pattern in spilled:
            runs = list(model.parent.glob(pattern))
            assert runs, (pattern, sorted(path.name for path in model.parent.iterdir()))
            assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in runs)
        found = re.search(r"\(pid (\d+)\)", server.log())
        assert found is not None, server.log()
        os.kill(int(found[1]), signal.SIGKILL)
        wait_for(lambda: f"fold ended with status {-signal.SIGKILL}" in server.log(),
                 what="the fold to die while it spills")
        count = len(acknowledged)
        wait_for(lambda: len(acknowledged) > count + 20, what="records after the kill")
    assert server.request({"status": True})["status"]["folds"] == 0
    server.process.kill()
    server.process.wait(WAIT)
    expected = sorted(before + commands + acknowledged)
    assert sorted(kept(model)) == expected  # nothing lost, nothing twice
    monkeypatch.delenv(PAUSE_AT_ENV)
    done = subprocess.run(
        [sys.executable, "-m", "aprender_shell.model.training.fold", str(model), "0.125"],
        capture_output=True, text=True, timeout=WAIT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(kept(model)) == expected
    assert journal_records(model) == 0
    # The killed fold's runs went with the next writer, and this fold removed its own.
    assert [path.name for path in model.parent.glob(".*.tmp")] == []


def test_a_fold_that_tunes_its_weights_holds_16_mb(tmp_path: Path) -> None:
    # 3,000 commands, each with a folder, exit status, host and shell, and records to fold: past
    # the size where training replays the history's end to tune its weights (MIN_COMMANDS),
    # whose features were the fold's largest transient. It took 18.6 MB above its code.
    from benchmarks.fold import context_model

    model = tmp_path / "data" / "model.apbundle"
    model.parent.mkdir()
    context_model(model, 3000)
    done = subprocess.run(
        [sys.executable, "-m", "aprender_shell.model.training.fold", str(model), "16"],
        capture_output=True, text=True, timeout=WAIT * 4,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"folded {FOLD_RECORDS} records")
    found = NOTE.search(done.stderr)
    assert found is not None, done.stderr
    assert found["held"] == "held" and float(found["grown"]) <= 16, found[0]
    assert [path.name for path in model.parent.glob(".*.tmp")] == []

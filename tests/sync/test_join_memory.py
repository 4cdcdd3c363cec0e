"""``sync join`` publishes a long history a segment at a time, never the whole corpus at once.

The peak resident memory of each process is the kernel's (``wait4``), measured from outside:
by a small parent of its own, since a child's peak starts at its parent's (the test process
may have grown large by then)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sync.conftest import Devices
from tests.sync.test_merge_memory import commands

RECORDS = 200_000
_MEASURE = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss * 1024)\n"
)


def peak_rss(home: Path, *args: str) -> int:
    """Run the command line under ``home``; its peak resident memory in bytes."""
    env = {**os.environ, "APRENDER_SHELL_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, sys.executable, "-m", "aprender_shell", *args],
        env=env, capture_output=True, text=True, timeout=600, check=True,
    )
    status, peak = done.stdout.split()
    assert status == "0", (args, done.stderr)
    return int(peak)


@pytest.mark.xfail(strict=True, reason=(
    "known, not fixed: training now holds its history as columns (53 MB at 200,000 commands, "
    "was 73), and the join did not get leaner with it (58 to 62 MB, above a forget --dry-run "
    "holding the whole corpus, 50 MB): what the join holds is not yet found"))
def test_joining_with_a_long_history_peaks_well_below_training_on_it(devices: Devices) -> None:
    a = devices.first("a", ["echo a"])
    c = devices.device("c", ["echo c"])
    c.history.write_text("".join(f"{command}\n" for command in commands(RECORDS)))
    train = peak_rss(c.home, "train", "--history", str(c.history))
    join = peak_rss(c.home, "sync", "join", str(devices.folder), "--key", a.key())
    a.ok("sync", "now")  # what c published is all there
    assert "git status 01" in a.suggest("git status 0")
    # Held as records all at once, 200,000 commands cost the join 1.33 times what training
    # on them does (97 against 73 MB); a segment at a time, 0.85 (61 MB, as at 100,000).
    assert join < train, (join >> 20, train >> 20)

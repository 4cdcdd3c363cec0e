"""The sync benchmark runs end to end in quick mode and prints both tables with their goals."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.shells import require

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # a whole benchmark run: several devices train, publish and merge
def test_sync_benchmark_prints_the_merge_beside_train_and_the_keys_side_by_side() -> None:
    require("zsh")
    done = subprocess.run([sys.executable, "-m", "benchmarks.sync", "--quick"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "3 devices x 2,000 records" in done.stdout
    ratio = next(line for line in lines if line.strip().startswith("sync now / train"))
    assert re.search(r"\d+\.\d\dx", ratio) and "goal: time under 10x" in ratio
    for label in ("unsynced model", "synced model"):
        row = next(line for line in lines if line.strip().startswith(label))
        assert len(re.findall(r"\d+\.\d{3}ms", row)) == 3, row

"""The server benchmark runs end to end and prints the three ways side by side."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.service.conftest import WAIT

# The benchmarks are a package of the checkout, not of the installed wheel.
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # a whole benchmark run, end to end
def test_server_benchmark_prints_every_way_with_percentiles() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.server", "--commands", "2000",
         "--queries", "60"],
        cwd=ROOT, capture_output=True, text=True, timeout=5 * WAIT,
    )
    assert done.returncode == 0, done.stderr
    assert "2000 commands" in done.stdout and "60 typed queries" in done.stdout
    for way in ("in-process Predictor.suggest", "server socket round trip",
                "suggest --batch pipe round trip"):
        row = next(line for line in done.stdout.splitlines() if way in line)
        assert len(re.findall(r"\d+\.\d{3}ms", row)) == 4, row

"""The bundle benchmark runs and prints every row (no timing thresholds: machines are noisy)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

# The benchmarks are a package of the checkout, not of the installed wheel.
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # a whole benchmark run, end to end
def test_quick_bench_prints_hit_and_miss_tables() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.bundle", "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=True,
    )
    lines = result.stdout.splitlines()
    assert any(re.match(r"\s+dict lookup\s+\d+ ns$", line) for line in lines)
    assert any(re.match(r"\s+PagedBundle.get_model\s+\d+ ns\s+ratio [\d.]+x$", line)
               for line in lines)
    for size in ("1K", "16K", "256K"):
        row = re.compile(rf"\s+{size}\s+\d+\s+\d+\s+[\d.]+x\s+\d+\s+[\d.]+x$")
        assert any(row.match(line) for line in lines), size

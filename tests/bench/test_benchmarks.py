"""The predictor's benchmarks run end to end and print what they claim (no timing asserted)."""

from __future__ import annotations

import pytest

from aprender_shell.bench import predictor, quality
from aprender_shell.bench.sessions import generate_sessions
from aprender_shell.history.formats import HistoryEntry


def test_predictor_benchmark_reports_training_update_and_cold_start(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert predictor.main(["--commands", "3000", "--train-rounds", "1", "--rounds", "2"]) == 0
    out = capsys.readouterr().out
    assert "Training on 3,000 commands" in out and "commands/s" in out
    assert "train / Counter floor" in out and "update / full train" in out
    assert "42,000 to 180,000" in out
    assert "python3 -c pass" in out and "aprender_shell suggest" in out
    assert out.count("x\n") >= 2  # a ratio on each cold-start line


def test_a_measured_process_reports_its_own_peak_not_its_parents() -> None:
    import sys

    ballast = bytearray(300 * 2**20)  # the benchmark holding its data
    small = predictor.run_process([sys.executable, "-c", "pass"])
    big = predictor.run_process([sys.executable, "-c", "x = bytearray(100 * 2**20)"])
    assert small.peak < 100 * 2**20 <= big.peak < len(ballast)
    with pytest.raises(RuntimeError, match="exited with 3: boom"):
        predictor.run_process([sys.executable, "-c", "import sys; sys.exit('boom') if 0 else "
                               "(print('boom', file=sys.stderr), sys.exit(3))"])


def test_quality_benchmark_compares_with_both_strategies() -> None:
    sessions = generate_sessions(2000, seed=1, persona="developer")
    lines: list[str] = []
    rows = quality.run(
        {"developer": [HistoryEntry(s.command, s.timestamp) for s in sessions]}, lines.append
    )
    assert len(rows) == 1 and len(lines) == 2
    name, ksr_ratio, hit_margin = rows[0]
    # what the product promises over zsh-autosuggestions on a developer's sessions
    assert ksr_ratio > 1.0 and hit_margin > 0.0

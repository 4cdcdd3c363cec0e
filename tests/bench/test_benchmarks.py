"""The predictor's benchmarks run end to end and print what they claim (no timing asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aprender_shell.bench import predictor, quality
from aprender_shell.bench.sessions import generate_sessions
from aprender_shell.history.formats import HistoryEntry


def test_predictor_benchmark_reports_training_and_cold_start(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert predictor.main(["--commands", "3000", "--rounds", "2"]) == 0
    out = capsys.readouterr().out
    assert "Training on 3,000 commands" in out and "commands/s" in out
    assert "python3 -c pass" in out and "aprender_shell suggest" in out
    assert out.count("x\n") >= 2  # a ratio on each cold-start line


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


def test_secrets_benchmark_reports_flagged_lines_and_cost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aprender_shell.bench import secrets

    one_liners = tmp_path / "one-liners"
    one_liners.write_text("ls -la\nmysql -uroot -phunter2 shop\ngit status\n")
    assert secrets.main(["--nl2bash", str(one_liners), "--show"]) == 0
    out = capsys.readouterr().out
    assert "NL2Bash one-liners" in out and "generated sessions" in out
    assert "mysql-password: mysql -uroot -phunter2 shop" in out

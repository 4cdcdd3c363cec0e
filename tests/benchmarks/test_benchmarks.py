"""The predictor's benchmarks run end to end and print what they claim (no timing asserted)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aprender_shell.history.formats import HistoryEntry
from aprender_shell.model.learned.newest import FOLD_RECORDS
from benchmarks import ctrl_r, fold, pathcheck, predictor, quality
from benchmarks.sessions import generate_sessions


@pytest.mark.slow  # a whole benchmark run, end to end
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


def test_ctrl_r_benchmark_sets_the_list_beside_plain_fzf(
    capsys: pytest.CaptureFixture[str], private_home: Path
) -> None:
    import os

    home = os.environ["APRENDER_SHELL_HOME"]
    assert ctrl_r.main(["--commands", "2000", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    if "skipped: fzf is not installed" in out:
        pytest.skip("fzf is not installed")
    assert "search through the server / plain fzf over the lines" in out
    assert "search cold (--model) / plain fzf over the lines" in out
    assert os.environ["APRENDER_SHELL_HOME"] == home  # given back, and no server left running


def test_a_measured_process_reports_its_own_peak_not_its_parents() -> None:
    import sys

    ballast = bytearray(300 * 2**20)  # the benchmark holding its data
    small = predictor.run_process([sys.executable, "-c", "pass"])
    big = predictor.run_process([sys.executable, "-c", "x = bytearray(100 * 2**20)"])
    assert small.peak < 100 * 2**20 <= big.peak < len(ballast)
    with pytest.raises(RuntimeError, match="exited with 3: boom"):
        predictor.run_process([sys.executable, "-c", "import sys; sys.exit('boom') if 0 else "
                               "(print('boom', file=sys.stderr), sys.exit(3))"])


@pytest.mark.slow  # a whole benchmark run, end to end
def test_quality_benchmark_compares_with_both_strategies() -> None:
    sessions = generate_sessions(2000, seed=1, persona="developer")
    lines: list[str] = []
    results = quality.run(
        {"developer": [HistoryEntry(s.command, s.timestamp) for s in sessions]}, lines.append
    )
    assert len(results) == 1 and len(lines) == 2
    ours = results[0].metrics(quality.OURS)
    history = results[0].metrics("history")
    prev_cmd = results[0].metrics("match_prev_cmd")
    # what the product promises over zsh-autosuggestions on a developer's sessions
    assert ours.ksr > history.ksr and ours.hit1[1] > prev_cmd.hit1[1]
    assert ours.hit1[0] > 0.0 == history.hit1[0]
    table = "\n".join(quality.summary(results))
    assert "Hit@5 after 3" in table and "MRR@5" in table and "match_prev_cmd" in table


def test_the_issue_table_sets_every_baseline_beside_the_model_on_the_shells_context() -> None:
    sessions = generate_sessions(500, seed=1, persona="developer")
    entries = [quality.as_entry(item) for item in sessions]
    assert {entry.context.cwd for entry in entries if entry.context} >= {"/home/dev"}
    assert any(entry.context and entry.context.exit for entry in entries)
    results = quality.run({"developer": entries}, lambda _: None)
    table = quality.issue_table(results)
    assert table[1].split() == ["keys", "saved", "top-1", "empty", "top-5", "empty", "top-1",
                                "1", "char", "top-5", "1", "char", "name", "top-1", "shown",
                                "shown", "right"]
    rows = {line[:26].strip(): line[26:].split() for line in table[2:]}
    assert list(rows) == ["history", "match_prev_cmd", "most frequent",
                          "most frequent follower", "back-off (lines)", "back-off (names)",
                          quality.OURS]
    # zsh-autosuggestions shows nothing on an empty line; the counting baselines always do.
    assert rows["history"][1] == rows["history"][6] == "0.000" and rows["history"][7] == "-"
    assert rows["most frequent"][6] == "1.000"
    checks = quality.goals(results)
    assert checks[0] == "  Goals of issue #18 for aprender-shell:" and len(checks) == 6
    assert all(line.strip().startswith(("met ", "not met ")) for line in checks[1:])
    assert "top-1 after 1 char" in checks[2] and "(at least 0.50)" in checks[2]


def test_the_model_s_p_gets_a_reliability_table_and_its_absence_is_said() -> None:
    from aprender_shell.evaluate.replay import EvaluationReport, StrategyMetrics

    def result(pairs: list[tuple[float, bool]]) -> quality.HistoryResult:
        metrics = {quality.OURS: StrategyMetrics(calibration=pairs)}
        return quality.HistoryResult("developer 3", 10, EvaluationReport(8, 2, True, metrics))

    assert quality.reliability([result([])]) == [
        '  Reliability of p: aprender-shell\'s answers carry no "p".'
    ]
    lines = quality.reliability([result([(0.85, True)] * 40 + [(0.05, False)] * 40)])
    assert lines[0].startswith("  Reliability of aprender-shell's p")
    assert lines[2].split()[:5] == ["0.0-0.1", "40", "0.050", "0.000", "0.050"]
    assert lines[-1].strip() == "Largest gap 0.150 (bins of 30 or more), weighted mean gap 0.100."


def test_the_halves_facts_are_those_of_real_histories() -> None:
    facts = quality.half_facts(1000)
    assert 0.6 < facts.typed_before < 0.8 and 0.03 < facts.repeats < 0.07
    assert "typed before" in facts.line()


def test_the_two_halves_share_no_history() -> None:
    tuning = quality.histories(300, None, held_out=False)
    held_out = quality.histories(300, None, held_out=True)
    assert not set(tuning) & set(held_out)
    tuned_lines = {tuple(e.command for e in entries) for entries in tuning.values()}
    assert all(tuple(e.command for e in entries) not in tuned_lines
               for entries in held_out.values())
    assert sum("messy" in name for name in held_out) == len(quality.PERSONAS)


@pytest.mark.slow  # a whole benchmark run, end to end
def test_the_ablation_table_replays_each_signal_off() -> None:
    sessions = generate_sessions(1200, seed=3, persona="ops")
    variants = {"no last use": {"recency": 0.0}, "no sequence": {"context_max": 0.0}}
    results = quality.run(
        {"ops": [HistoryEntry(s.command, s.timestamp) for s in sessions]}, lambda _: None,
        variants=variants,
    )
    table = quality.ablation_table(results, list(variants))
    assert len(table) == 2 + 1 + len(variants)
    full = results[0].metrics(quality.OURS)
    without_sequence = results[0].metrics("no sequence")
    # the previous command is what an empty line is predicted from
    assert without_sequence.hit1[0] < full.hit1[0]


def test_secrets_benchmark_reports_flagged_lines_and_cost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks import secrets

    one_liners = tmp_path / "one-liners"
    one_liners.write_text("ls -la\nmysql -uroot -phunter2 shop\ngit status\n")
    assert secrets.main(["--nl2bash", str(one_liners), "--show"]) == 0
    out = capsys.readouterr().out
    assert "NL2Bash one-liners" in out and "generated sessions" in out
    assert "mysql-password: mysql -uroot -phunter2 shop" in out


def test_fold_benchmark_reports_cold_suggest_and_a_real_servers_fold(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert fold.main(["--commands", "2000", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "Cold 'suggest' by records in the journal" in out and "20,000" in out
    assert "during the fold" in out and ", 1 fold)" in out
    assert f"A fold of {FOLD_RECORDS:,} records against training" in out


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_the_path_check_benchmark_sets_a_slow_folder_beside_a_fast_one(
    capsys: pytest.CaptureFixture[str], private_home: Path
) -> None:
    assert pathcheck.main(["--files", "30", "--rounds", "1", "--delay", "200"]) == 0
    out = capsys.readouterr().out
    assert "'vim src/'" in out and "slow, no cwd" in out and "budget plus two stats" in out
    assert "Suggestions naming a path that is not there: 0 (goal: 0)" in out

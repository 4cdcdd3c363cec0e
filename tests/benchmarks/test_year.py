"""The year benchmark runs end to end, small: its tables have every point and column, and its
checks hold (no acknowledged record lost, the newest learned command suggested)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from benchmarks import year


@pytest.mark.slow  # a whole benchmark run, end to end (about twenty seconds)
def test_the_year_benchmark_reports_every_point_and_loses_nothing() -> None:
    lines: list[str] = []
    # This venv stands for the installed one (building one with pip takes longer than the run).
    result = year.run(600, 200, rounds=1, queries=50, venv=Path(sys.prefix),
                      out=lines.append)
    points = result["points"]
    assert [point["learned"] for point in points] == [0, 40, 200, 600]
    for point in points:
        assert point["pass_s"] > 0 and point["suggest_s"] > 0 and point["start_s"] > 0
        assert 0 < point["p50"] <= point["p99"]
        assert point["server_peak"] > 0 and point["suggest_peak"] > 0
        assert point["disk"] > 0 and point["scratch"] > 0
    assert result["kills"] == 3
    assert [event.split(" at ")[0] for event in result["events"]] == [
        "update", "kill -9", "train", "update", "kill -9", "forget", "kill -9"]
    assert result["acknowledged"] == 600
    assert result["known"] == result["expected"] and result["lost"] == 0
    assert result["newest_by_server"] and result["newest_cold"]
    text = "\n".join(lines)
    for heading in ("suggest ms", "start ms", "p99/1st", "scratch MB", "none lost",
                    "by the server yes, by a cold suggest yes"):
        assert heading in text
    table = [line.split() for line in lines if line.strip().split(" ")[0] in ("0", "40", "200")]
    assert len(table) == 9 and all(len(row) in (10, 5) for row in table)
    # Every age asked again at the end, side by side, each against the first.
    together = result["side_by_side"]
    assert [row["learned"] for row in together] == [0, 40, 200, 600]
    assert together[0]["p50_ratio"] == together[0]["p99_ratio"] == 1.0
    for row in together:
        assert 0 < row["p50"] <= row["p99"] and row["p50_ratio"] > 0
    assert "Per query side by side" in text


@pytest.mark.slow  # trains a model and runs a server (about fifteen seconds)
def test_the_floor_benchmark_measures_each_way_at_both_points() -> None:
    from benchmarks.year import floor

    points = floor.run(Path(sys.prefix), rounds=1, learned=30, initial=300)
    assert [learned for learned, _ in points] == ["0", "30"]
    for _, point in points:
        # The standard modules a suggest imports, read off its -X importtime: re among them.
        assert 0 < point["stdlib_modules"] < point["modules"]
        for way in ("launcher", "stdlib", "suggest"):
            assert point[f"{way}_wall"] > 0 and point[f"{way}_cpu"] > 0

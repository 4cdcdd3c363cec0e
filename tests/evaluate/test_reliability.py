"""The reliability table groups suggestions by p and shows how often each group was right."""

from __future__ import annotations

import math
import random

import pytest

from aprender_shell.evaluate.reliability import (
    expected_error,
    format_reliability,
    largest_gap,
    reliability_table,
)


def test_deciles_worked_by_hand() -> None:
    pairs = [(0.05, False), (0.05, False), (0.15, True), (0.95, True), (1.0, True), (0.9, False)]
    table = reliability_table(pairs)
    assert [b.count for b in table] == [2, 1, 0, 0, 0, 0, 0, 0, 0, 3]
    assert (table[0].mean_p, table[0].observed) == (pytest.approx(0.05), 0.0)
    assert table[2].mean_p is None and table[2].observed is None and table[2].gap is None
    last = table[9]  # p == 1 belongs to the last decile
    assert (last.low, last.high) == (0.9, 1.0)
    assert last.mean_p == pytest.approx(0.95) and last.observed == pytest.approx(2 / 3)
    assert largest_gap(table, min_count=1) == pytest.approx(0.85)  # 0.15 said, 1.0 seen
    assert expected_error(table) == pytest.approx(
        (2 * 0.05 + 1 * 0.85 + 3 * abs(2 / 3 - 0.95)) / 6
    )


def test_a_calibrated_source_is_within_five_points_and_an_overconfident_one_is_not() -> None:
    rng = random.Random(1)
    honest = [(p, rng.random() < p) for p in (rng.random() for _ in range(20_000))]
    boastful = [(min(1.0, p * 2), right) for p, right in honest]
    gap = largest_gap(reliability_table(honest))
    assert gap is not None and gap < 0.05
    boast = largest_gap(reliability_table(boastful))
    assert boast is not None and boast > 0.2


def test_too_few_to_judge_and_bad_p_are_said_plainly() -> None:
    table = reliability_table([(0.5, True)])
    assert largest_gap(table) is None
    text = format_reliability(table)
    assert "0.5-0.6" in text and "(few)" in text and "too few to judge" in text
    assert expected_error(reliability_table([])) is None
    for bad in (-0.1, 1.5, math.nan):
        with pytest.raises(ValueError, match="p must be between 0 and 1"):
            reliability_table([(bad, True)])
    with pytest.raises(ValueError, match="bins"):
        reliability_table([], bins=0)


def test_the_text_has_a_line_per_decile_and_the_gaps() -> None:
    rng = random.Random(2)
    pairs = [(p, rng.random() < p) for p in (rng.random() for _ in range(2_000))]
    lines = format_reliability(reliability_table(pairs)).splitlines()
    assert lines[0].split() == ["p", "suggestions", "mean", "p", "observed", "gap"]
    assert [line.split()[0] for line in lines[1:11]] == [
        f"{i / 10:.1f}-{(i + 1) / 10:.1f}" for i in range(10)
    ]
    assert lines[-1].startswith("Largest gap ") and "weighted mean gap" in lines[-1]

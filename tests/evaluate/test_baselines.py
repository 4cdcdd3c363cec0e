"""The zsh-autosuggestions strategies agree with a literal reading of the zsh source."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aprender_shell.evaluate import baselines
from aprender_shell.evaluate.baselines import HistoryStrategy, MatchPrevCmdStrategy


def naive_history(history: Sequence[str], prefix: str, k: int) -> list[str]:
    """``${history[(r)$prefix*]}``, then the next distinct matches, newest first."""
    found: list[str] = []
    if not prefix:
        return found
    for command in reversed(history):
        if command.startswith(prefix) and command not in found:
            found.append(command)
    return found[:k]


def naive_match_prev(
    history: Sequence[str], prefix: str, k: int, previous: str | None, window: int
) -> list[str]:
    """match_prev_cmd.zsh line by line: event numbers are list positions plus one."""
    if not prefix:
        return []
    keys = [i + 1 for i in reversed(range(len(history))) if history[i].startswith(prefix)]
    if not keys:
        return []
    histkey = keys[0]
    for key in keys[:window]:
        if not key > 1:
            break
        if history[key - 2] == previous:
            histkey = key
            break
    chosen = history[histkey - 1]
    rest = [command for command in naive_history(history, prefix, k + 1) if command != chosen]
    return [chosen] + rest[: k - 1]


@contextmanager
def tuned(window: int, small_range: int) -> Iterator[None]:
    """Shrink zsh's window and move the range cut-off so every code path is exercised."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(baselines, "MATCH_PREV_WINDOW", window)
        patch.setattr(baselines, "_SMALL_RANGE", small_range)
        yield


commands = st.text(alphabet="ab ", min_size=1, max_size=5)
histories = st.lists(commands, max_size=150)
prefixes = st.text(alphabet="ab ", max_size=3)


def texts(strategy: HistoryStrategy, prefix: str, k: int, prev: Sequence[str] = ()) -> list[str]:
    return [suggestion.text for suggestion in strategy.suggest(prefix, k, prev)]


@settings(max_examples=150, deadline=None)
@given(histories, st.lists(prefixes, min_size=1, max_size=8), st.integers(1, 6),
       st.sampled_from([0, 4, 1000]))
def test_history_matches_naive(
    history: list[str], queries: list[str], k: int, small_range: int
) -> None:
    with tuned(200, small_range):
        strategy = HistoryStrategy(history)
        for prefix in queries:
            assert texts(strategy, prefix, k) == naive_history(history, prefix, k)


@settings(max_examples=200, deadline=None)
@given(histories, st.lists(st.tuples(prefixes, st.lists(commands, max_size=2)), max_size=8),
       st.integers(1, 6), st.sampled_from([1, 3, 200]), st.sampled_from([0, 4, 1000]))
def test_match_prev_cmd_matches_naive(
    history: list[str],
    queries: list[tuple[str, list[str]]],
    k: int,
    window: int,
    small_range: int,
) -> None:
    with tuned(window, small_range):
        strategy = MatchPrevCmdStrategy(history)
        for prefix, prev in queries:
            previous = prev[-1] if prev else (history[-1] if history else None)
            expected = naive_match_prev(history, prefix, k, previous, window)
            assert texts(strategy, prefix, k, prev) == expected


@settings(max_examples=100, deadline=None)
@given(histories, st.lists(st.tuples(commands, prefixes), max_size=30), st.sampled_from([2, 200]))
def test_recording_keeps_both_in_step_with_naive(
    history: list[str], steps: list[tuple[str, str]], window: int
) -> None:
    with tuned(window, 4):
        plain, paired = HistoryStrategy(history), MatchPrevCmdStrategy(history)
        replayed = list(history)
        for command, prefix in steps:
            for strategy in (plain, paired):
                strategy.record(command, prev=replayed[-1:])
            replayed.append(command)
            assert texts(plain, prefix, 5) == naive_history(replayed, prefix, 5)
            assert texts(paired, prefix, 5) == naive_match_prev(
                replayed, prefix, 5, replayed[-1], window
            )


def test_the_example_in_match_prev_cmd_zsh() -> None:
    history = ["pwd", "ls foo", "ls bar", "pwd"]
    assert texts(MatchPrevCmdStrategy(history), "ls", 1) == ["ls foo"]
    assert texts(HistoryStrategy(history), "ls", 1) == ["ls bar"]
    # An explicit previous command wins over the last history entry.
    assert texts(MatchPrevCmdStrategy(history), "ls", 2, prev=["ls bar"]) == ["ls bar", "ls foo"]


def test_the_newest_follower_wins_whatever_order_followers_first_appeared() -> None:
    history = ["pwd", "ls a", "pwd", "ls b", "pwd", "ls a", "cd /"]
    assert texts(MatchPrevCmdStrategy(history), "ls", 2, prev=["pwd"]) == ["ls a", "ls b"]


def test_empty_buffer_gets_nothing() -> None:
    history = ["git status", "git push"]
    assert HistoryStrategy(history).suggest("") == []
    assert MatchPrevCmdStrategy(history).suggest("", prev=["git status"]) == []


@pytest.mark.parametrize("filler", [0, 1000])
@pytest.mark.parametrize(("newer", "expected"), [(199, "ls target"), (200, "ls other")])
def test_only_the_200_newest_matches_are_searched(newer: int, expected: str, filler: int) -> None:
    # Duplicates count towards the 200: zsh walks event numbers, not distinct commands.
    history = ["pwd", "ls target"] + ["ls other"] * newer + ["cd /tmp"] * filler
    strategy = MatchPrevCmdStrategy(history)
    assert texts(strategy, "ls", 1, prev=["pwd"]) == [expected]


def test_scores_fall_with_rank_and_suggestions_start_with_the_prefix() -> None:
    strategy = HistoryStrategy(["make test", "make", "git push", "make build"])
    suggestions = strategy.suggest("mak", k=5)
    assert [s.text for s in suggestions] == ["make build", "make", "make test"]
    assert [s.score for s in suggestions] == [1.0, 0.5, pytest.approx(1 / 3)]
    assert len(strategy) == 4
    strategy.record("")
    assert len(strategy) == 4

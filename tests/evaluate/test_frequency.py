"""The counting baselines rank as worked out by hand, and learn online like the shells."""

from __future__ import annotations

from collections.abc import Sequence

from aprender_shell.evaluate.frequency import (
    BackoffLinesStrategy,
    BackoffNamesStrategy,
    FollowerStrategy,
    MostFrequentStrategy,
    command_name,
    counting_baselines,
)

# "git status" is the favourite; "git add -A" is always followed by a commit.
HISTORY = [
    "git status", "git add -A", "git commit -m a", "git status", "make", "git status",
    "make test", "git add -A", "git commit -m b", "vim x", "make", "ls", "git status",
]


def texts(strategy: MostFrequentStrategy, prefix: str, prev: Sequence[str] = (), k: int = 5
          ) -> list[str]:
    return [suggestion.text for suggestion in strategy.suggest(prefix, k, prev)]


def test_most_frequent_ranks_by_count_then_by_the_last_use() -> None:
    strategy = MostFrequentStrategy(HISTORY)
    assert texts(strategy, "")[:3] == ["git status", "make", "git add -A"]
    assert texts(strategy, "git c") == ["git commit -m b", "git commit -m a"]
    assert texts(strategy, "nothing") == [] and texts(strategy, "", k=0) == []


def test_the_follower_beats_the_favourite_after_its_command() -> None:
    follower = FollowerStrategy(HISTORY)
    assert texts(follower, "", ["git add -A"])[:2] == ["git commit -m b", "git commit -m a"]
    assert texts(follower, "git ", ["git add -A"])[2] == "git status"  # then the favourite
    assert texts(follower, "", ["never seen"])[0] == "git status"


def test_two_lines_of_context_back_off_to_one_and_to_none() -> None:
    history = ["a", "x", "b", "c", "x", "d", "c", "x", "d"]
    two = BackoffLinesStrategy(history)
    one = FollowerStrategy(history)
    assert texts(two, "", ["a", "x"])[0] == "b"   # after "a x": "b" (once)
    assert texts(one, "", ["a", "x"])[0] == "d"   # after "x": "d" twice
    assert texts(two, "", ["z", "x"])[0] == "d"   # "z x" unseen: back off to "x"


def test_names_back_off_and_offer_each_names_favourite_line() -> None:
    history = ["git pull", "make", "git pull", "make", "git push", "make -j8", "make"]
    names = BackoffNamesStrategy(history)
    # after a git command comes make; make's favourite line is "make".
    assert texts(names, "", ["vim a", "git fetch"])[0] == "make"
    assert texts(names, "make ", ["git pull"]) == ["make -j8"]
    assert command_name("  sudo systemctl status x") == "sudo" and command_name(" ") == ""


def test_every_baseline_learns_what_is_recorded_with_its_context() -> None:
    for name, strategy in counting_baselines(["ls"]).items():
        strategy.record("cargo test", cwd="/src", exit_status=0, prev=["ls"])
        for _ in range(3):
            strategy.record("cargo test", cwd="/src", exit_status=0, prev=["vim lib.rs"])
            strategy.record("vim lib.rs", cwd="/src", exit_status=0, prev=["cargo test"])
        strategy.record("   ", prev=["vim lib.rs"])
        assert texts(strategy, "", ["vim lib.rs"])[0] == "cargo test", name
        assert texts(strategy, "c", ["ls"]) == ["cargo test"], name

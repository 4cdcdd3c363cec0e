"""Replay metrics on tiny strategies whose figures can be worked out by hand."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from aprender_shell.errors import UsageError
from aprender_shell.evaluate.baselines import HistoryStrategy
from aprender_shell.evaluate.reliability import reliability_table
from aprender_shell.evaluate.replay import evaluate, format_report, split_history
from aprender_shell.history.formats import Context, HistoryEntry


@dataclass(frozen=True)
class Hint:
    text: str
    score: float = 1.0


class Fixed:
    """Always the same ranked list, cut to what starts with the prefix."""

    def __init__(self, ranked: Sequence[str]) -> None:
        self.ranked = list(ranked)
        self.calls: list[tuple[str, int, tuple[str, ...]]] = []
        self.recorded: list[tuple[str, tuple[str, ...]]] = []

    def suggest(
        self, prefix: str, k: int = 5, prev: Sequence[str] = (), cwd: str | None = None
    ) -> list[Hint]:
        self.calls.append((prefix, k, tuple(prev)))
        return [Hint(text) for text in self.ranked if text.startswith(prefix)][:k]

    def record(
        self,
        command: str,
        cwd: str | None = None,
        exit_status: int | None = None,
        prev: Sequence[str] = (),
    ) -> None:
        self.recorded.append((command, tuple(prev)))


class Oracle(Fixed):
    """Knows what comes after each command, and offers it whenever it fits the prefix."""

    def __init__(self, next_after: dict[str | None, str]) -> None:
        super().__init__([])
        self.next_after = next_after

    def suggest(
        self, prefix: str, k: int = 5, prev: Sequence[str] = (), cwd: str | None = None
    ) -> list[Hint]:
        self.calls.append((prefix, k, tuple(prev)))
        following = self.next_after.get(prev[-1] if prev else None, "")
        return [Hint(following)] if following.startswith(prefix) else []


class Learner(Fixed):
    """Suggests the last recorded command that fits, even for an empty prefix."""

    def suggest(
        self, prefix: str, k: int = 5, prev: Sequence[str] = (), cwd: str | None = None
    ) -> list[Hint]:
        fits = [command for command, _ in reversed(self.recorded) if command.startswith(prefix)]
        return [Hint(text) for text in fits[:1]]


TRAIN = [HistoryEntry("cd /src", 1)]
TEST = [HistoryEntry("git status", 2), HistoryEntry("ls", 3)]  # 12 characters in all
AFTER: dict[str | None, str] = {"cd /src": "git status", "git status": "ls"}


def test_oracle_accepts_before_typing() -> None:
    report = evaluate(TRAIN, TEST, {"oracle": Oracle(AFTER)})
    metrics = report.metrics["oracle"]
    assert metrics.ksr == pytest.approx(1 - 2 / 12)
    assert metrics.hit1 == {0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0}
    assert metrics.hit5 == {0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0}
    assert metrics.mrr == 1.0
    assert report.counted == {0: 2, 1: 2, 2: 1, 3: 1}
    assert (report.train_size, report.test_size, report.typed_chars) == (1, 2, 12)


def test_fixed_ranking_worked_by_hand() -> None:
    fixed = Fixed(["git stash", "git status", "ls -la", "ls"])
    metrics = evaluate(TRAIN, TEST, {"fixed": fixed}).metrics["fixed"]
    # "git status" is second until "git stat" (8 typed): accepted with the 9th key.
    # "ls" is never first: both keys typed. 11 keys for 12 characters.
    assert metrics.ksr == pytest.approx(1 / 12)
    assert metrics.hit1 == {0: 0.0, 1: 0.0, 2: 0.0, 3: 0.0}
    assert metrics.hit5 == {0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0}
    assert metrics.mrr == pytest.approx(0.5)  # second after "g", second after "l"
    # Positions 0-3 and 4-8 for "git status", then 0-1 for "ls".
    assert metrics.queries == 11
    assert [call[0] for call in fixed.calls] == [
        "", "g", "gi", "git", "git ", "git s", "git st", "git sta", "git stat", "", "l",
    ]
    assert [call[1] for call in fixed.calls] == [5, 5, 5, 5, 1, 1, 1, 1, 1, 5, 5]


def test_silence_saves_nothing() -> None:
    metrics = evaluate(TRAIN, TEST, {"silent": Fixed([])}).metrics["silent"]
    assert metrics.ksr == 0.0 and metrics.mrr == 0.0
    assert set(metrics.hit1.values()) == set(metrics.hit5.values()) == {0.0}


def test_context_is_the_last_two_commands_run_as_the_shells_send() -> None:
    fixed = Fixed([])
    train = ["a", "b", "c", "d"]
    evaluate(train, ["ee", "f"], {"fixed": fixed})
    assert {call[2] for call in fixed.calls[:2]} == {("c", "d")}
    assert fixed.calls[-1][2] == ("d", "ee")


class Where(Fixed):
    """Remembers the folder of every question and everything a record carries."""

    def __init__(self) -> None:
        super().__init__([])
        self.asked_in: list[str | None] = []
        self.records: list[tuple[str, str | None, int | None, tuple[str, ...]]] = []

    def suggest(
        self, prefix: str, k: int = 5, prev: Sequence[str] = (), cwd: str | None = None
    ) -> list[Hint]:
        self.asked_in.append(cwd)
        return []

    def record(
        self,
        command: str,
        cwd: str | None = None,
        exit_status: int | None = None,
        prev: Sequence[str] = (),
    ) -> None:
        self.records.append((command, cwd, exit_status, tuple(prev)))


def test_each_command_is_asked_in_its_folder_and_recorded_with_its_exit_status() -> None:
    where = Where()
    test = [
        HistoryEntry("cd src", 1, Context(cwd="/home/me", exit=0)),
        HistoryEntry("gti status", 2, Context(cwd="/home/me/src", exit=127)),
    ]
    evaluate([], test, {"where": where}, online=True)
    # "cd src" is asked at its 6 positions, then "gti status" at its 10
    assert where.asked_in == ["/home/me"] * 6 + ["/home/me/src"] * 10
    assert where.records == [
        ("cd src", "/home/me", 0, ()), ("gti status", "/home/me/src", 127, ("cd src",)),
    ]


class Protocol:
    """Answers as the protocol does: one suggestion with its p, and "show" on empty lines."""

    def __init__(self, answers: dict[str, dict[str, object]]) -> None:
        self.answers = answers

    def answer(
        self, prefix: str, k: int, prev: Sequence[str], cwd: str | None
    ) -> dict[str, object]:
        return self.answers.get(prefix, {"suggestions": []})

    def suggest(
        self, prefix: str, k: int = 5, prev: Sequence[str] = (), cwd: str | None = None
    ) -> list[Hint]:
        raise AssertionError("a strategy that answers is asked through its answer")

    def record(
        self,
        command: str,
        cwd: str | None = None,
        exit_status: int | None = None,
        prev: Sequence[str] = (),
    ) -> None:
        pass


def test_an_empty_line_not_shown_cannot_be_accepted_and_shown_ones_are_counted() -> None:
    right = {"suggestions": [{"text": "git status", "p": 0.9}, {"text": "ls", "p": 0.05}]}
    hidden = {**right, "show": False}
    train = ["cd /src"]
    test = ["git status", "git status", "ls"]
    shown = evaluate(train, test, {"s": Protocol({"": right})}).metrics["s"]
    quiet = evaluate(train, test, {"q": Protocol({"": hidden})}).metrics["q"]
    # Shown: each "git status" taken with one key, "ls" typed: 4 keys for 22 characters.
    assert shown.ksr == pytest.approx(1 - (1 + 1 + 2) / 22)
    assert (shown.shown, shown.shown_right) == (1.0, pytest.approx(2 / 3))
    # Hidden: the same right guess on the empty line, but the user never saw it.
    assert quiet.ksr == 0.0 and quiet.hit1[0] == pytest.approx(2 / 3)
    assert (quiet.shown, quiet.shown_right) == (0.0, 0.0)
    # Every suggestion with a p is kept with whether it was the command.
    assert sorted(shown.calibration) == sorted(
        [(0.9, True), (0.05, False), (0.9, True), (0.05, False), (0.9, False), (0.05, True)]
    )


def test_the_next_commands_name_counts_when_the_arguments_differ() -> None:
    fixed = Fixed(["git status"])
    metrics = evaluate(["ls"], ["git commit -m x", "make"], {"fixed": fixed}).metrics["fixed"]
    assert metrics.hit1[0] == 0.0 and metrics.name1 == 0.5
    assert metrics.shown == 1.0 and metrics.shown_right == 0.0


def test_nothing_typed_counts_only_with_a_previous_command() -> None:
    # With no previous command an empty-prefix suggestion is never accepted, but still a hit.
    oracle = Oracle({None: "make"})
    metrics = evaluate([], ["make"], {"oracle": oracle}).metrics["oracle"]
    assert metrics.hit1[0] == 1.0
    assert metrics.ksr == pytest.approx(1 - 2 / 4)


def test_online_strategies_learn_each_command_after_it_is_measured() -> None:
    test = ["make", "make", "make test"]
    offline, online = Learner([]), Learner([])
    assert evaluate([], test, {"learner": offline}).metrics["learner"].ksr == 0.0
    assert offline.recorded == []
    metrics = evaluate([], test, {"learner": online}, online=True).metrics["learner"]
    # "make": typed (4). "make": offered before typing (1). "make test": offered "make"
    # until nothing matches, so typed (9). 14 keys for 17 characters.
    assert metrics.ksr == pytest.approx(1 - 14 / 17)
    assert online.recorded == [("make", ()), ("make", ("make",)), ("make test", ("make", "make"))]


def test_history_baseline_through_evaluate() -> None:
    train = ["git status", "git push", "ls"]
    test = ["git status", "git stash"]
    report = evaluate(train, test, {"history": HistoryStrategy(train)}, online=True)
    metrics = report.metrics["history"]
    # "git status": "git push" is offered until "git s" (5 typed) brings it: 6 keys of 10.
    # "git stash": "git status" (just learned) is offered, then nothing: all 9 typed.
    assert metrics.ksr == pytest.approx(1 - (6 + 9) / 19)
    assert metrics.hit1[1] == 0.0 and metrics.hit5[1] == 0.5


def test_progress_reports_each_command() -> None:
    seen: list[tuple[int, int]] = []
    evaluate(TRAIN, TEST, {"silent": Fixed([])}, progress=lambda *done: seen.append(done))
    assert seen == [(1, 2), (2, 2)]


def test_split_is_chronological_by_position() -> None:
    entries = [HistoryEntry(str(number), number) for number in range(10)]
    train, test = split_history(entries, 0.8)
    assert train == entries[:8] and test == entries[8:]
    assert split_history(entries, 0.05) == ([], entries)
    for bad in (0.0, 1.0, -0.5, 2.0):
        with pytest.raises(UsageError, match="split"):
            split_history(entries, bad)


def test_report_table_and_dict() -> None:
    strategies = {"oracle": Oracle(AFTER), "silent": Fixed([])}
    report = evaluate(TRAIN, TEST, strategies, online=True)
    text = format_report(report)
    lines = text.splitlines()
    assert lines[0].startswith("Replayed 2 commands after 1 (online")
    header = lines[2].split()
    assert header == ["oracle", "silent"]
    assert any(line.split()[-2:] == ["83.3%", "0.0%"] for line in lines if line.startswith("KSR"))
    assert any(line.startswith("MRR@5 after 1 char") for line in lines)
    assert any(line.split()[-2:] == ["100.0%", "-"] for line in lines
               if line.startswith("Empty line: shown, right"))
    assert "KSR: share of typed characters saved" in text
    data = json.loads(json.dumps(report.to_dict()))
    assert data["test_size"] == 2 and data["online"] is True
    assert data["metrics"]["oracle"]["hit1"]["0"] == 1.0
    assert data["counted"] == {"0": 2, "1": 2, "2": 1, "3": 1}


@dataclass(frozen=True)
class Sure:
    text: str
    score: float
    p: float


class HalfRight(Fixed):
    """States p=0.5 for 'git status' and p=0.1 for 'git stash'; shows the empty line when
    the best p is at least 0.5."""

    def suggest(
        self, prefix: str, k: int = 5, prev: Sequence[str] = (), cwd: str | None = None
    ) -> list[Sure]:  # type: ignore[override]
        found = [Sure("git status", 0.5, 0.5), Sure("git stash", 0.1, 0.1)]
        return [s for s in found if s.text.startswith(prefix)][:k]

    def shows(self, suggestions: Sequence[Sure]) -> bool:
        return bool(suggestions) and suggestions[0].p >= 0.5


class Quiet(HalfRight):
    """As HalfRight, but its empty line is never shown."""

    def shows(self, suggestions: Sequence[Sure]) -> bool:
        return False


def test_evaluate_prints_the_reliability_of_p_and_how_often_the_empty_line_shows() -> None:
    # Four commands: 'git status' twice, 'git stash' once, 'ls' once; every prompt is shown.
    test = [HistoryEntry(c, i) for i, c in enumerate(
        ["git status", "git stash", "git status", "ls"], 2)]
    strategies = {"half": HalfRight([]), "quiet": Quiet([]), "plain": Fixed(["ls"])}
    report = evaluate(TRAIN, test, strategies)
    half = report.metrics["half"]
    assert report.metrics["plain"].calibration == []
    middle = reliability_table(half.calibration)[5]  # p of 0.5: 'git status', at 0..3 chars
    assert middle.count == 4 + 4 + 4 + 1  # before 'ls', only the empty line offers it
    assert middle.observed == pytest.approx(8 / 13)
    assert half.shown == 1.0 and half.shown_right == 0.5
    # the strategy's own shows() decides the empty line, as Predictor.shows does
    assert report.metrics["quiet"].shown == 0.0
    text = format_report(report)
    assert "Reliability of half's p" in text and "Reliability of plain's p" not in text
    assert "0.5-0.6              13    0.500     0.615   0.115 (few)" in text
    assert json.loads(json.dumps(report.to_dict()))["metrics"]["half"]["calibrated"] == 26


def test_a_partial_ghost_the_command_starts_with_is_taken_and_the_rest_typed_on() -> None:
    # The empty line offers the start of a commit (partial) before a whole line that is wrong.
    start = 'git commit -m "'
    partial = {"suggestions": [{"text": start, "p": 0.8, "partial": True},
                               {"text": 'git commit -m "wip"', "p": 0.1}], "show": True}
    answers: dict[str, dict[str, object]] = {"": partial}
    command = 'git commit -m "fix x"'  # 21 characters
    metrics = evaluate(["git add -A"], [command], {"s": Protocol(answers)}).metrics["s"]
    # One key takes the 15 characters of the start; the next ghost comes after one more key,
    # and none fits: the 6 characters after it are typed. 7 keys for 21 characters.
    assert metrics.ksr == pytest.approx(1 - 7 / 21)
    assert (metrics.partials_met, metrics.partials_taken) == (1, 1)
    # The partial's p is judged on whether the command starts with it; the whole lines' apart.
    assert metrics.partials == [(0.8, True)]
    assert (0.8, False) not in metrics.calibration and (0.1, False) in metrics.calibration
    # Shown on the empty line, and right: the command starts with what was shown.
    assert (metrics.shown, metrics.shown_right) == (1.0, 1.0)
    # Top-1 is the whole line's: not the command.
    assert metrics.hit1[0] == 0.0 and metrics.name1 == 1.0


def test_a_partial_ghost_the_command_does_not_start_with_saves_nothing() -> None:
    partial = {"suggestions": [{"text": 'git commit -m "', "p": 0.8, "partial": True}],
               "show": True}
    metrics = evaluate(["git add -A"], ["git commit --amend"],
                       {"s": Protocol({"": partial})}).metrics["s"]
    assert metrics.ksr == 0.0 and metrics.partials_taken == 0
    assert metrics.partials == [(0.8, False)]
    assert (metrics.shown, metrics.shown_right) == (1.0, 0.0)

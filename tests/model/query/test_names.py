"""What followed the previous command's name: a line never run before still has a habit after it."""

from __future__ import annotations

from pathlib import Path

from aprender_shell.history.formats import HistoryEntry
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.model.training.train import train_model


def _editing_user(blocks: int) -> list[HistoryEntry]:
    # Each file is edited once, then the tests run; git status is run twice as often as them.
    commands: list[str] = []
    for number in range(blocks):
        commands += [f"vim src/module_{number}.py", "make test", "git status", "git diff",
                     "git status", "ls -la"]
    return [HistoryEntry(command) for command in commands]


def test_after_editing_a_new_file_the_empty_line_offers_what_follows_any_edit(
    tmp_path: Path,
) -> None:
    path = tmp_path / "model.apbundle"
    train_model(_editing_user(120), path)
    with Predictor.open(path) as predictor:
        # the name speaks: mixed into the scores (its share chosen on the user's own replay),
        # or picking the line ranked first (``Weights.name_first``), or both
        assert predictor.weights.names > 0 or predictor.weights.name_first > 0
        prev = ["ls -la", "vim src/brand_new.py"]  # this line was never run before
        found = predictor.suggest("", 3, prev=prev)
        assert found[0].text == "make test", found
        # --explain names the part, and the parts still add up to the score
        for suggestion, parts in predictor.explain("", 3, prev=prev):
            assert abs(sum(parts.values()) - suggestion.score) < 1e-9, parts
        top_parts = predictor.explain("", 1, prev=prev)[0][1]
        assert top_parts.get("names", 0.0) + top_parts.get("name first", 0.0) > 0, top_parts


def test_the_name_habit_is_learned_live_as_well(tmp_path: Path) -> None:
    # Trained without the habit; recorded since: what follows any vim is learned from the journal.
    path = tmp_path / "model.apbundle"
    history = [HistoryEntry(c) for c in ["git status", "git diff", "ls -la"] * 100]
    train_model(history, path)
    with Predictor.open(path) as predictor:
        predictor.weights = predictor.weights.replace(names=0.9)
        before = ["ls -la"]
        for number in range(6):
            for command in (f"vim notes_{number}.md", "make test", "git status"):
                predictor.record(command, prev=before)
                before = [*before[-1:], command]
        found = predictor.suggest("", 1, prev=["git status", "vim brand_new.md"])
        assert found[0].text == "make test", found


def _pulling_user(rounds: int) -> list[HistoryEntry]:
    # After a pull: one of three git lines four times in five, `ls` otherwise; `ls` is also
    # what follows every `cd`, so it is the likeliest single line.
    looks = ["git status", "git log --oneline", "git diff"]
    commands: list[str] = []
    for number in range(rounds):
        after = "ls" if number % 5 == 0 else looks[number % 3]
        commands += ["git pull", after, f"cd project_{number % 7}", "ls", "make"]
    return [HistoryEntry(command) for command in commands]


def test_after_a_pull_the_empty_line_offers_a_git_line_not_the_likeliest_other_line(
    tmp_path: Path,
) -> None:
    # The next name is git four times in five, but no git line is as likely as `ls` alone:
    # the name goes first, then the line within it.
    path = tmp_path / "model.apbundle"
    train_model(_pulling_user(200), path)
    with Predictor.open(path) as predictor:
        prev = ["make", "git pull"]
        found = predictor.suggest("", 5, prev=prev)
        whole = [s for s in found if not s.partial]
        assert whole[0].text.startswith("git "), found
        assert "ls" in [s.text for s in whole], found  # still offered, lower
        # --explain names the part, and the parts still add up to the score
        for suggestion, parts in predictor.explain("", 5, prev=prev):
            assert abs(sum(parts.values()) - suggestion.score) < 1e-9, parts
        first = next(parts for s, parts in predictor.explain("", 5, prev=prev) if not s.partial)
        assert first["name first"] > 0, first

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
        # the model chose, on the user's own replay, to let the name speak
        assert predictor.weights.names > 0
        prev = ["ls -la", "vim src/brand_new.py"]  # this line was never run before
        found = predictor.suggest("", 3, prev=prev)
        assert found[0].text == "make test", found
        # --explain names the part, and the parts still add up to the score
        for suggestion, parts in predictor.explain("", 3, prev=prev):
            assert abs(sum(parts.values()) - suggestion.score) < 1e-9, parts
        top_parts = predictor.explain("", 1, prev=prev)[0][1]
        assert top_parts["names"] > 0, top_parts


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

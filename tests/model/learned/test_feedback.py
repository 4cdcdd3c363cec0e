"""Feedback from the shells, through a real session on a real model: counted per learned
command, persisted beside the model (private, atomic), applied to the ranking, kept through
retraining, taken back by forget."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from aprender_shell.model.learned.feedback import (
    MAX_COMMANDS,
    Feedback,
    FeedbackError,
    LineFeedback,
    feedback_path,
)
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.model.training.forget import forget
from aprender_shell.service.session import Session
from tests.service.conftest import train

# Two commands that follow "make" equally often: feedback is what tells them apart.
TIED = ["make", "make test", "make", "make lint"] * 6


def session_on(model: Path) -> Session:
    return Session(lambda: Predictor.open(model), model_path=model)


def top(session: Session, prefix: str) -> list[str]:
    answer = session.handle({"prefix": prefix, "k": 2, "prev": ["make"]})
    return [item["text"] for item in answer["suggestions"]]


def test_feedback_lines_are_counted_per_learned_command_and_saved_private(
    tmp_path: Path,
) -> None:
    model = train(tmp_path / "model.apbundle")
    with session_on(model) as session:
        line = "feedback\tzsh\t3\t7\t1\tgit status\tgit push\tnever learned anything"
        assert session.handle_line(line) == "ok"
    path = feedback_path(model)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = Feedback.load(model)
    assert stored.commands == {"git status": [1, 0], "git push": [0, 1]}
    assert "never learned" not in path.read_text()
    (day,) = stored.days.values()
    assert day == {"shown": 3, "accepted": 1, "saved": 7, "right": 1, "commands": 0}


def test_what_the_user_takes_rises_and_what_they_type_over_sinks(tmp_path: Path) -> None:
    model = train(tmp_path / "model.apbundle", TIED)
    with session_on(model) as session:
        first, second = top(session, "make ")
        for _ in range(30):  # a little each time: it takes a habit to move it
            session.handle({"feedback": True, "shown": 2, "accepted": second,
                            "ignored": [first]})
        assert top(session, "make ") == [second, first]


def test_counts_survive_a_retrain_and_forget_takes_them_back(tmp_path: Path) -> None:
    model = train(tmp_path / "model.apbundle")
    with session_on(model) as session:
        session.handle({"feedback": True, "shown": 1, "accepted": "git push"})
        session.handle({"feedback": True, "shown": 1, "accepted": "make test"})
    train(model)  # retrained: a new model and journal, the same feedback file
    assert Feedback.load(model).commands == {"git push": [1, 0], "make test": [1, 0]}
    forget(model, lambda command: command == "git push")
    assert Feedback.load(model).commands == {"make test": [1, 0]}
    with session_on(model) as session:
        assert session.handle({"forget": "make test"}) == {"forgotten": 0}
    assert Feedback.load(model).commands == {}


def test_the_file_stays_bounded(tmp_path: Path) -> None:
    feedback = Feedback(tmp_path / "m.feedback")
    for number in range(MAX_COMMANDS + 50):
        feedback.note(LineFeedback(shown=1, ignored=(f"cmd {number}",)), lambda _: True)
    assert len(feedback.commands) == MAX_COMMANDS


def test_a_newer_or_broken_file_is_refused_and_never_written_over(tmp_path: Path) -> None:
    model = train(tmp_path / "model.apbundle")
    path = feedback_path(model)
    path.write_text(json.dumps({"feedback": 99, "commands": [], "days": {}}))
    with pytest.raises(FeedbackError, match="newer aprender-shell"):
        Feedback.load(model)
    with session_on(model) as session:
        session.handle({"feedback": True, "shown": 1, "accepted": "git push"})
        assert top(session, "git ")
    assert json.loads(path.read_text())["feedback"] == 99


def test_counts_that_cannot_be_saved_say_what_where_and_why(tmp_path: Path) -> None:
    # The server reports its last failed save in `server status`: one line naming the file.
    model = train(tmp_path / "model.apbundle")
    stored = Feedback.load(model)
    stored.count_command()
    feedback_path(model).mkdir()  # the file's place is taken: the write cannot land
    with pytest.raises(FeedbackError) as raised:
        stored.save()
    message = str(raised.value)
    assert message.startswith(f"could not save the feedback counts to {feedback_path(model)}: ")
    assert "\n" not in message and "Errno" not in message

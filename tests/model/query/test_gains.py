"""`stats` opens with what the suggestions saved, from the shells' feedback: 7 and 30 days and
a chart a day, in block characters on a UTF-8 terminal and in plain ASCII otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aprender_shell.model.learned.feedback import Feedback, LineFeedback
from tests.service.conftest import train

DAY = 86400


def stats_output(model: Path, encoding: str) -> str:
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    done = subprocess.run(
        [sys.executable, "-m", "aprender_shell", "stats", "--model", str(model)],
        capture_output=True, env=env, check=True,
    )
    return done.stdout.decode("utf-8")  # the rest of stats has emoji of its own


@pytest.fixture
def used_model(tmp_path: Path) -> Path:
    model = train(tmp_path / "model.apbundle")
    feedback = Feedback.beside(model)
    now = time.time()
    # Today: two lines, one taken (12 keys); ten days ago: one taken (5 keys); both ran 4.
    for when, taken, saved in ((now, "git push", 12), (now, None, 0), (now - 10 * DAY, "ls", 5)):
        feedback.note(LineFeedback(shown=2, saved=saved, right=taken is not None,
                                   accepted=taken), lambda _: True, now=when)
    for when in (now,) * 3 + (now - 10 * DAY,):
        feedback.count_command(now=when)
    feedback.save()
    return model


def test_stats_opens_with_what_it_saved_over_7_and_30_days(used_model: Path) -> None:
    out = stats_output(used_model, "utf-8")
    assert out.startswith("💡 What it saved you (from your shells):")
    lines = {line.strip().split("  ")[0]: line.split() for line in out.splitlines()}
    assert lines["Suggestions shown"][-2:] == ["4", "6"]
    assert lines["Accepted"][-2:] == ["1", "2"]
    assert lines["Keystrokes saved"][-2:] == ["12", "17"]
    assert "33% of 3" in out and "50% of 4" in out
    chart = next(line for line in out.splitlines() if line.strip().startswith("|"))
    assert chart.strip()[-2] == "█" and len(chart.strip()) == 32
    assert out.index("What it saved") < out.index("Paged Model Statistics")


def test_a_terminal_that_is_not_utf8_gets_ascii(used_model: Path) -> None:
    out = stats_output(used_model, "ascii")
    chart = next(line for line in out.splitlines() if line.strip().startswith("|"))
    assert chart.strip()[-2] == "@"
    assert out.startswith("What it saved you") and "█" not in out


def test_a_model_no_shell_used_yet_says_nothing_yet(tmp_path: Path) -> None:
    model = train(tmp_path / "model.apbundle")
    out = stats_output(model, "utf-8")
    assert "Nothing yet" in out.splitlines()[1]

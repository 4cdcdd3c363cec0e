"""The empty line's show level: the guesses it shows turn out right at least half the time."""

from __future__ import annotations

from pathlib import Path

from aprender_shell.evaluate.replay import split_history
from aprender_shell.history.formats import Context, HistoryEntry
from aprender_shell.model import calibration
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.model.training.train import clean_commands, train_model
from benchmarks.sessions import generate_sessions


def test_guesses_as_sure_as_each_other_are_judged_together() -> None:
    # The map's flat top gives many guesses one p; the shells show all of them or none. The
    # first ten of forty happen to be right half the time, the forty only a quarter.
    tied = [(0.3, number < 5) for number in range(10)] + [(0.3, number < 5) for number in range(30)]
    below = [(0.1, False)] * 60
    assert calibration.show_level(tied + below) == calibration.NEVER
    # a level that holds for every guess at it still shows
    sure = [(0.9, True)] * 8 + [(0.9, False)] * 2
    assert calibration.show_level(sure + below) == 0.9


def test_a_few_lucky_guesses_at_the_top_do_not_set_a_level() -> None:
    # Six right of the ten surest is over half, but by too few to trust: the replay that chose
    # the level only approximates the predictor, and a ghost shown wrong costs the user.
    lucky = [(0.9, number < 6) for number in range(10)]
    below = [(0.1, False)] * 60
    assert calibration.show_level(lucky + below) == calibration.NEVER
    # thirty right of forty is a habit
    habit = [(0.9, number < 30) for number in range(40)]
    assert calibration.show_level(habit + below) == 0.9


def test_a_shown_empty_line_guess_is_right_at_least_half_the_time_on_the_held_out_part(
    tmp_path: Path,
) -> None:
    # A messy generated user, trained on 80% and asked live on the rest as the shells ask
    # (two commands before, the folder): what the empty line shows, it must mostly get right.
    entries = [
        HistoryEntry(s.command, s.timestamp, Context(cwd=s.cwd, exit=s.exit_status))
        for s in generate_sessions(1000, seed=4, persona="ops", messy=True)
    ]
    train, test = split_history(clean_commands(entries)[0], 0.8)
    path = tmp_path / "ops.apbundle"
    train_model(train, path)
    before = [entry.command for entry in train[-2:]]
    shown = right = 0
    with Predictor.open(path) as predictor:
        for entry in test:
            cwd = entry.context.cwd if entry.context else None
            found = predictor.suggest("", 1, prev=before, cwd=cwd)
            if predictor.shows(found):
                shown += 1
                # a partial ghost is right when the command starts with it
                ghost = found[0]
                right += (entry.command.startswith(ghost.text) if ghost.partial
                          else ghost.text == entry.command)
            predictor.record(entry.command, cwd=cwd, prev=before)
            before = [*before[-1:], entry.command]
    assert right >= shown / 2, f"{right} of {shown} shown guesses were right"


def test_the_starts_map_is_fitted_on_the_starts_it_offers(tmp_path: Path) -> None:
    # An ops user of the tuning half (1,000 commands): the starts offered are right more often
    # than the likeliest start of every query (most never offered) said. Fitted on those
    # offered, their p says so, and the empty line shows a start on one prompt in ten or more
    # (5 of 200 before), still right at least half the time.
    entries = [
        HistoryEntry(s.command, s.timestamp, Context(cwd=s.cwd, exit=s.exit_status))
        for s in generate_sessions(1000, seed=1, persona="ops", messy=False)
    ]
    train, test = split_history(clean_commands(entries)[0], 0.8)
    path = tmp_path / "ops.apbundle"
    train_model(train, path)
    before = [entry.command for entry in train[-2:]]
    shown = right = 0
    with Predictor.open(path) as predictor:
        for entry in test:
            cwd = entry.context.cwd if entry.context else None
            found = predictor.suggest("", 1, prev=before, cwd=cwd)
            if predictor.shows(found) and found[0].partial:
                shown += 1
                right += entry.command.startswith(found[0].text)
            predictor.record(entry.command, cwd=cwd, prev=before)
            before = [*before[-1:], entry.command]
    assert shown >= len(test) // 10, f"a start shown on {shown} of {len(test)} empty lines"
    assert right >= shown / 2, f"{right} of {shown} shown starts were right"

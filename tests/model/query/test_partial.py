"""The partial ghost (#18.2): the likely start of the next command when its arguments are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from aprender_shell.model.query.partial import boundaries
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.model.training.train import train_model
from aprender_shell.service.protocol import line_form
from aprender_shell.service.session import Session
from tests.model.sessions import entries

MESSAGES = ["fix the parser", "wip", "update docs", "add tests for io", "bump version",
            "tidy imports", "review comments", "fix typo"]
AFTER_ADD = ["vim src/mod1.py", "git add -A"]


def _varied_commits(tmp_path: Path) -> Path:
    """Every 'git add -A' is followed by a commit, each with one of eight messages."""
    commands: list[str] = []
    for number in range(40):
        commands += ["git status", f"vim src/mod{number % 7}.py", "git add -A",
                     f'git commit -m "{MESSAGES[(number * 3) % 8]}"', "make test"]
    path = tmp_path / "model.apbundle"
    train_model(entries(commands), path)
    return path


@pytest.mark.parametrize(("line", "start", "starts"), [
    ('git commit -m "fix x"', 0, ["git ", "git commit ", "git commit -m ", 'git commit -m "',
                                  'git commit -m "fix ']),
    ("git push --set-upstream=origin main", 5,
     ["git push ", "git push --set-upstream=", "git push --set-upstream=origin "]),
    ("vim src/app/main.py", 0, ["vim ", "vim src/", "vim src/app/"]),
    ("cd /", 0, ["cd "]),  # the root alone is no folder to stop at
    ("echo 'a b'", 0, ["echo ", "echo '", "echo 'a "]),
    ("ls  -la", 0, []),  # no cut inside a run of spaces
])
def test_a_line_is_cut_after_a_word_an_opening_quote_an_option_and_a_folder(
    line: str, start: int, starts: list[str]
) -> None:
    assert [line[:cut] for cut in boundaries(line, start)] == starts


def test_the_start_of_a_commit_is_offered_when_its_message_is_a_long_shot(tmp_path: Path) -> None:
    with Predictor.open(_varied_commits(tmp_path)) as predictor:
        for prefix in ("", "g", "git c"):
            found = predictor.suggest(prefix, k=3, prev=AFTER_ADD)
            ghost, best = found[0], found[1]
            assert (ghost.text, ghost.partial) == ('git commit -m "', True), prefix
            # likelier than any one message, and the whole lines still follow, k of them
            assert ghost.p > best.p and best.text.startswith('git commit -m "')
            assert len(found) == 4 and not any(s.partial for s in found[1:])
        # the empty line's show decision reads the partial's p
        assert predictor.shows(predictor.suggest("", k=1, prev=AFTER_ADD))


def test_a_folder_shared_by_the_paths_is_offered_and_a_sure_line_is_offered_whole(
    tmp_path: Path,
) -> None:
    with Predictor.open(_varied_commits(tmp_path)) as predictor:
        assert predictor.suggest("vim", k=1)[0][::3] == ("vim src/", True)
        # 'make test' is the only make: nothing to cut, the whole line comes first
        assert [(s.text, s.partial) for s in predictor.suggest("make", k=1)] == [
            ("make test", False)]
        # typed past the start: the whole lines only
        typed = predictor.suggest('git commit -m "t', k=2)
        assert typed and not any(s.partial for s in typed)


def test_a_line_that_starts_the_others_is_offered_whole_not_cut_shorter(tmp_path: Path) -> None:
    # 'git commit -m fix' begins every commit line here: taking it and typing on saves more
    # than a shorter start of the same lines ('git commit -m ').
    commands = ["git status", "git commit -m fix"] * 12 + ["git status", "git commit -m fix!"] * 3
    path = tmp_path / "model.apbundle"
    train_model(entries(commands), path)
    with Predictor.open(path) as predictor:
        found = predictor.suggest("git c", k=2)
        assert (found[0].text, found[0].partial) == ("git commit -m fix", False)


def test_the_answer_marks_the_partial_and_the_line_form_shows_it_first(tmp_path: Path) -> None:
    with Predictor.open(_varied_commits(tmp_path)) as predictor:
        session = Session(lambda: predictor, save_interval=float("inf"))
        answer = session.handle({"prefix": "git c", "k": 1, "prev": AFTER_ADD})
        first, second = answer["suggestions"]
        assert first["text"] == 'git commit -m "' and first["partial"] is True
        assert 0 < second["p"] < first["p"] <= 0.99 and "partial" not in second
        line = line_form.encode(session.handle(line_form.parse(
            "suggest\t7\t1\tzsh\t\t\t" + "\t".join(AFTER_ADD))), "7")
        assert line.split("\t")[:3] == ["suggestions", "7", 'git commit -m "']


def test_training_fits_the_starts_own_map_and_an_older_model_reads_them_as_lines(
    tmp_path: Path,
) -> None:
    from aprender_shell.model.calibration import Calibration

    with Predictor.open(_varied_commits(tmp_path)) as predictor:
        calibration = predictor.calibration
        assert calibration.knots.get("start"), "no map of the starts was fitted"
        tuning = predictor.index.tuning or {}
        assert any(key.startswith("p.start.") for key in tuning)
        # kept with the model: read back the same
        assert Calibration.from_tuning(tuning).p_start(0.6, True) == calibration.p_start(0.6, True)
        # a model trained before starts had a map reads them through the line's map
        older = Calibration.from_tuning({k: v for k, v in tuning.items() if ".start." not in k})
        assert older.p_start(0.6, True) == older.p(0.6, True)
        assert older.p_start(0.6, False) == older.p(0.6, False)


def test_the_empty_line_shows_a_sure_start_where_no_whole_line_is_ever_sure(
    tmp_path: Path,
) -> None:
    # A file edited, then committed with a new message: the next line's start is certain,
    # the line itself never is (the whole-line guesses were right too rarely to ever show).
    commands: list[str] = []
    for number in range(300):
        commands += [f"vim src/part{(number * 7) % 41}.py", f'git commit -m "change {number}"']
    path = tmp_path / "model.apbundle"
    train_model(entries(commands), path)
    with Predictor.open(path) as predictor:
        found = predictor.suggest("", k=1, prev=["git status", "vim src/part3.py"])
        assert (found[0].text, found[0].partial) == ('git commit -m "change ', True)
        assert predictor.shows(found)
        found = predictor.suggest("", k=1, prev=['git commit -m "change 7"'])
        assert (found[0].text, found[0].partial) == ("vim src/", True)
        assert predictor.shows(found)


def test_a_start_shows_once_likelier_than_not_whatever_level_the_lines_need() -> None:
    from aprender_shell.model.calibration import NEVER, Calibration

    # a level judged on whole lines would let unsure lines through behind sure starts
    never = Calibration(show_level=NEVER)
    assert never.shows(0.6, start=True) and not never.shows(0.4, start=True)
    assert not never.shows(0.9)
    assert Calibration(show_level=0.2).shows(0.3) and not Calibration().shows(0.3, start=True)


def test_the_starts_map_is_kept_for_a_generated_user_whose_starts_sum_past_one(
    tmp_path: Path,
) -> None:
    # A start's lines' shares of the best few can add up past 1; a map holding such a share
    # would be refused whole when the model is read.
    from benchmarks.sessions import generate_sessions

    sessions = generate_sessions(1000, seed=3, persona="developer", messy=False)
    path = tmp_path / "model.apbundle"
    train_model(entries([item.command for item in sessions]), path)
    with Predictor.open(path) as predictor:
        knots = predictor.calibration.knots.get("start")
        assert knots and all(0.0 <= score <= 1.0 for score, _ in knots)


def test_best_lines_all_refused_by_the_path_check_give_no_start_and_no_error() -> None:
    # The line offered (the first the path check lets through) can rank below the sixteen
    # summed: when the check refuses all sixteen, no start is offered, and the keystroke is
    # answered (it raised ValueError, which the predictor reports as a corrupt model).
    from aprender_shell.model.query.partial import CANDIDATES, partial_ghost

    scores = {f"vim notes/draft{n}.md": 0.5 - n / 100 for n in range(CANDIDATES)}
    scores["vim notes/here.md"] = 0.01
    ghost = partial_ghost("vim ", scores, lambda score: score / 2,
                          ("vim notes/here.md", 0.005), lambda text: text == "vim notes/here.md")
    assert ghost is None

"""Evidence over raw frequency: the command just run, exit statuses, and how sure a guess is."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

from aprender_shell.model.query.predictor import Predictor
from aprender_shell.model.training.train import train_model
from tests.model.sessions import entries


def _commit_habit(rounds: int = 30) -> list[str]:
    commands: list[str] = []
    for number in range(rounds):
        commands += ["git status", f"vim src/mod{number % 7}.py", "git diff", "git add -A",
                     f'git commit -m "change number {number}"', "make test"]
    return commands


def _trained(tmp_path: Path, commands: list[str]) -> Path:
    path = tmp_path / "model.apbundle"
    train_model(entries(commands), path)
    return path


def test_the_command_just_run_is_not_offered_again_by_a_user_who_never_repeats(
    tmp_path: Path,
) -> None:
    # The case: 'git add -A' recorded in a folder used to be offered again on the
    # empty line (its recency and the folder), over the commit that always follows it.
    path = _trained(tmp_path, _commit_habit())
    with Predictor.open(path) as predictor:
        assert predictor.weights.repeat_rate == 0.0
        predictor.record("git add -A", cwd="/work/app", exit_status=0, prev=["git diff"])
        best = predictor.suggest("", prev=["git diff", "git add -A"], cwd="/work/app")
        assert best[0].text.startswith("git commit -m ")
        assert "git add -A" not in [s.text for s in best[:2]]


def test_a_user_who_repeats_commands_gets_the_last_one_offered(tmp_path: Path) -> None:
    commands: list[str] = []
    for number in range(40):
        commands += ["make test", "make test", "make test", f"vim src/m{number % 5}.c"]
    path = _trained(tmp_path, commands)
    with Predictor.open(path) as predictor:
        assert predictor.weights.repeat_rate > 0.4
        assert predictor.suggest("", prev=["vim src/m1.c", "make test"])[0].text == "make test"


def test_a_usage_error_is_never_offered_until_it_succeeds(tmp_path: Path) -> None:
    path = _trained(tmp_path, _commit_habit())
    with Predictor.open(path) as predictor:
        predictor.record("git add -As", exit_status=129)  # git's usage error
        predictor.record("docker compose up -d --build", exit_status=125)
        predictor.record("sl", exit_status=127)  # not found
        for prefix in ("git add", "docker", "s", ""):
            offered = [s.text for s in predictor.suggest(prefix, k=10)]
            assert not {"git add -As", "docker compose up -d --build", "sl"} & set(offered)
        predictor.record("git add -As", exit_status=0)
        assert "git add -As" in [s.text for s in predictor.suggest("git add -", k=5)]


def test_a_command_that_failed_weighs_less_than_one_that_worked(tmp_path: Path) -> None:
    path = _trained(tmp_path, _commit_habit())
    with Predictor.open(path) as predictor:
        predictor.record("make deploy-staging", exit_status=0)
        predictor.record("make deploy-prod", exit_status=2 + 1)  # an ordinary failure
        offered = [s.text for s in predictor.suggest("make d", k=5)]
        assert offered[:2] == ["make deploy-staging", "make deploy-prod"]


def test_the_failures_recorded_survive_reopening(tmp_path: Path) -> None:
    path = _trained(tmp_path, _commit_habit())
    with Predictor.open(path) as predictor:
        predictor.record("git add -As", exit_status=129)
        predictor.save()
    with Predictor.open(path) as predictor:
        assert "git add -As" not in [s.text for s in predictor.suggest("git add", k=10)]


def test_every_suggestion_carries_a_probability(tmp_path: Path) -> None:
    path = _trained(tmp_path, _commit_habit())
    with Predictor.open(path) as predictor:
        for prefix in ("", "g", "git ", "make", "zzz"):
            for suggestion in predictor.suggest(prefix, k=5, prev=["git add -A"]):
                assert 0.0 <= suggestion.p <= 1.0


def test_a_sixty_of_sixty_habit_shows_on_the_empty_line_and_is_sure(tmp_path: Path) -> None:
    path = _trained(tmp_path, ["git add -A", "git commit -m wip"] * 30)
    with Predictor.open(path) as predictor:
        best = predictor.suggest("", prev=["git commit -m wip", "git add -A"])
        assert best[0].text == "git commit -m wip"
        assert best[0].p >= 0.8
        assert predictor.shows(best)


def test_a_history_with_no_pattern_shows_nothing_on_the_empty_line(tmp_path: Path) -> None:
    rng = random.Random(5)
    words = ["ls", "cat", "vim", "grep", "make", "git log", "less", "cd", "rm", "cp", "find"]
    commands = [f"{rng.choice(words)} f{rng.randrange(300)}" for _ in range(900)]
    path = _trained(tmp_path, commands)
    with Predictor.open(path) as predictor:
        shown = 0
        for before in commands[-60:]:
            best = predictor.suggest("", prev=[before])
            shown += predictor.shows(best)
            # a partial ghost's p is the chance of a start ('ls '), not of a whole line
            whole = [s for s in best if not s.partial]
            assert not whole or whole[0].p < 0.2
        assert shown == 0


def _two_projects(rounds: int = 20) -> list[str]:
    # After 'git pull' alone either build is as likely; the command before it decides.
    commands: list[str] = []
    for number in range(rounds):
        commands += ["cd ~/api", "git pull", "make build", "ls",
                     "cd ~/web", "git pull", "npm run build", f"vim notes{number % 3}.md"]
    return commands


def test_what_followed_the_two_previous_commands_decides_when_one_cannot(tmp_path: Path) -> None:
    path = _trained(tmp_path, _two_projects())
    with Predictor.open(path) as predictor:
        assert predictor.suggest("", prev=["cd ~/api", "git pull"])[0].text == "make build"
        assert predictor.suggest("", prev=["cd ~/web", "git pull"])[0].text == "npm run build"
        # backing off: an unseen pair still gets what followed the last command
        assert predictor.suggest("", prev=["ls", "git pull"])[0].text in (
            "make build", "npm run build")


def test_pairs_recorded_since_training_count_and_survive_reopening(tmp_path: Path) -> None:
    path = _trained(tmp_path, _two_projects())
    with Predictor.open(path) as predictor:
        ran = ["vim notes1.md"]
        for _ in range(4):  # a new project: after its cd and a pull comes its own build
            for command in ("cd ~/cli", "git pull", "cargo build", "vim notes1.md"):
                predictor.record(command, prev=ran[-2:])  # as the shells send them
                ran.append(command)
        assert predictor.suggest("", prev=["cd ~/cli", "git pull"])[0].text == "cargo build"
        predictor.save()
    with Predictor.open(path) as predictor:  # learned again from the journal
        assert predictor.suggest("", prev=["cd ~/cli", "git pull"])[0].text == "cargo build"
        assert predictor.suggest("", prev=["cd ~/api", "git pull"])[0].text == "make build"


def _fold(path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aprender_shell.model.training.fold", str(path)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0 and "folded" in done.stdout, done.stdout + done.stderr


def test_exit_statuses_folded_into_the_model_still_count(tmp_path: Path) -> None:
    # A fold retrains the model on what the journal held and cuts the journal: what the exit
    # statuses said must survive it (the model's exits entry), and say the same as before.
    path = _trained(tmp_path, _commit_habit())
    with Predictor.open(path) as predictor:
        predictor.record("git add -As", exit_status=129)  # a usage error
        predictor.record("sl", exit_status=127)  # not found
        predictor.record("git pul", exit_status=1)  # an ordinary failure: weighs half
        predictor.record("tail -f log/app.log", exit_status=130)  # ended with Ctrl-C
        predictor.save()
        before = predictor.explain("", k=10)
    _fold(path)
    with Predictor.open(path) as predictor:
        assert predictor.unfolded == 0  # all of it is in the model now
        offered = {s.text for prefix in ("git", "s", "t") for s in predictor.suggest(prefix, 10)}
        assert not {"git add -As", "sl"} & offered
        assert "tail -f log/app.log" in offered  # an interrupted run is no failure
        failed = dict((s.text, parts) for s, parts in predictor.explain("git p", 10))["git pul"]
        assert failed["exit"] < 0
        assert [s.text for s, _ in predictor.explain("", k=10)] == [s.text for s, _ in before]
        predictor.record("git add -As", exit_status=0)  # it works after all
        assert "git add -As" in [s.text for s in predictor.suggest("git add -", 5)]

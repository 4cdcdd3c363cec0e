"""Reused arguments make sense: a position is offered only the kinds of argument it takes."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from aprender_shell.bundle import BundleError
from aprender_shell.history.files import read_history
from aprender_shell.history.marks import mark_history
from aprender_shell.history.tokens import tokenize
from aprender_shell.model.memory import MemoryLimit
from aprender_shell.model.query import arguments, reuse
from aprender_shell.model.query.arguments import HOST, NAME, PATH, WORD, ArgumentKinds, shape
from aprender_shell.model.query.pathcheck import PathCheck
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.model.store.index import ModelIndex
from aprender_shell.model.training import argument_kinds
from aprender_shell.model.training.train import train_model
from aprender_shell.model.training.update import update_model
from aprender_shell.model.training.update.compaction import compact
from aprender_shell.model.training.writer import journal_for, writer
from tests.model.hostile import edit_index
from tests.model.query.ticks import Ticks
from tests.model.sessions import WORKDAY, entries

# Branches created, pushed and merged; pods listed and logged; hosts reached.
OPS_DAY = [
    "git checkout -b fix/login-form",
    "vim src/login.py",
    "git add src/login.py",
    "git commit -m wip",
    "git push -u origin fix/login-form",
    "git checkout main",
    "git merge fix/login-form",
    "git push origin main",
    "kubectl get pods",
    "kubectl logs api-5f7c",
    "kubectl describe pod api-5f7c",
    "ssh deploy@web1.example.com",
    "ping -c 1 db.internal.example.com",
    "cat notes.md",
    "cd ~/src/shop",
    "ls src",
]


def texts(predictor: Predictor, prefix: str, **context: object) -> list[str]:
    return [s.text for s in predictor.suggest(prefix, k=10, **context)]  # type: ignore[arg-type]


def kinds_of(history: list[str]) -> ArgumentKinds:
    return ArgumentKinds(argument_kinds.learn(Counter(history).items()))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    (folder / "src").mkdir(parents=True)
    (folder / "app.py").write_text("print()\n")
    return folder


def test_each_position_learns_the_kind_it_took_from_the_history() -> None:
    kinds = kinds_of(OPS_DAY * 3)
    assert kinds.slot(["vim"]) == PATH
    assert kinds.slot(["git", "add"]) == PATH
    assert kinds.slot(["ssh"]) == HOST
    # the branch is both created and pushed: a name of git's, where git takes names
    assert kinds.slot(["git", "checkout", "-b"]) & NAME
    assert kinds.slot(["git", "push", "-u", "origin"]) & NAME
    assert kinds.slot(["git", "merge"]) == NAME
    # after "git" and "kubectl" come subcommands, plain words
    assert kinds.slot(["git"]) == WORD
    assert kinds.slot(["kubectl"]) == WORD
    # a bare word where paths go is a path ("ls src"), a pod shared by two subcommands a name
    assert kinds.slot(["ls"]) == PATH
    assert kinds.slot(["kubectl", "logs"]) == NAME
    # a head the history never showed takes anything
    assert kinds.slot(["frob"]) == 0
    # a later position never filled takes what the first one does
    assert kinds.slot(["git", "add", "-f"]) == kinds.slot(["vim", "app.py"]) == PATH


def test_the_spelling_of_a_word_says_what_it_can_be() -> None:
    assert shape("app.py") == shape("src/") == shape("~/notes") == shape(".") == PATH
    assert shape("deploy@web1") == shape("https://x.org/a") == shape("10.0.0.7") == HOST
    assert shape("db.internal.example.com") == HOST
    assert shape("archive.tar.gz") == PATH  # dotted, but a file
    for not_an_argument in ("-m", "'a b'", "$HOME", "3", "|", "2>/dev/null"):
        assert shape(not_an_argument) == 0


def test_unrelated_arguments_are_never_offered_where_paths_go(
    tmp_path: Path, project: Path
) -> None:
    path = tmp_path / "model.apbundle"
    train_model(entries(WORKDAY * 2 + OPS_DAY * 2), path)
    cwd = str(project)
    with Predictor.open(path) as predictor:
        for command in ("vim app.py", "kubectl config use-context staging",
                        "kubectl logs redis-0"):
            predictor.record(command, cwd=cwd)
        for where in ({"cwd": cwd}, {}):  # with the folder to check against, and without
            for prefix in ("cd ", "vim ", "git add ", "cd r", "vim u", "git add r", "less "):
                for text in texts(predictor, prefix, **where):
                    assert "redis-0" not in text and "use-context" not in text, (prefix, text)
                    assert "staging" not in text, (prefix, text)
        # the file used, which is there, is offered
        assert "vim app.py" in texts(predictor, "vim ", cwd=cwd)
        assert "git add app.py" in texts(predictor, "git add ", cwd=cwd)
        # where pods go, the pod is
        assert "kubectl describe pod redis-0" in texts(predictor, "kubectl describe pod r")


def test_a_command_learned_from_the_history_alone_has_its_paths_checked(
    tmp_path: Path, project: Path
) -> None:
    (project / "present.csv").write_text("a,b\n")
    assert ArgumentKinds().slot(["frob"]) == 0  # in no built-in list
    history = [f"frob data/day{n % 4}.csv" for n in range(12)] + [
        "frob missing.csv", "frob present.csv"
    ]
    path = tmp_path / "model.apbundle"
    train_model(entries(WORKDAY + history), path)
    with Predictor.open(path) as predictor:
        here = texts(predictor, "frob ", cwd=str(project))
        assert "frob present.csv" in here
        assert not any("missing.csv" in text or "data/" in text for text in here)
        # without a folder to check against, nothing is dropped
        assert "frob missing.csv" in texts(predictor, "frob ")


def test_an_option_value_does_not_make_a_host_position_a_path_one(
    tmp_path: Path, project: Path
) -> None:
    history = ["ssh -i ~/.ssh/ops.pem deploy@bastion.example.com", "ssh db1", "ssh db2",
               "ssh deploy@web1.example.com"] * 4
    kinds = kinds_of(history)
    assert kinds.slot(["ssh"]) & HOST and not kinds.slot(["ssh"]) & PATH
    assert kinds.slot(["ssh", "-i"]) & PATH  # what follows an option has a slot of its own
    path = tmp_path / "model.apbundle"
    train_model(entries(WORKDAY + history), path)
    with Predictor.open(path) as predictor:
        # host aliases are no files: nothing to look for in the folder
        assert {"ssh db1", "ssh db2"} <= set(texts(predictor, "ssh ", cwd=str(project)))


def test_a_host_is_reused_after_ssh_and_a_path_is_not(tmp_path: Path) -> None:
    path = tmp_path / "model.apbundle"
    train_model(entries(WORKDAY + OPS_DAY * 2), path)
    with Predictor.open(path) as predictor:
        predictor.record("ping -c 3 cache.prod.example.com")
        predictor.record("vim deploy/notes.md")
        offered = texts(predictor, "ssh ")
        assert "ssh cache.prod.example.com" in offered
        assert not any("notes.md" in text for text in offered)
        # and the other way round: the host is no file for vim
        edited = texts(predictor, "vim ")
        assert "vim deploy/notes.md" in edited
        assert not any("cache.prod" in text for text in edited)


def test_a_branch_just_created_is_pushed_but_not_edited(tmp_path: Path, project: Path) -> None:
    path = tmp_path / "model.apbundle"
    train_model(entries(WORKDAY + OPS_DAY * 3), path)
    with Predictor.open(path) as predictor:
        predictor.record("git checkout -b feature/cart-totals")
        assert "git push origin feature/cart-totals" in texts(predictor, "git push origin ")
        assert "git merge feature/cart-totals" in texts(predictor, "git merge f")
        for prefix in ("cd ", "vim ", "cd f"):
            offered = texts(predictor, prefix, cwd=str(project))
            assert not any("cart-totals" in text for text in offered), (prefix, offered)


def test_what_is_recorded_after_training_is_learned_and_kept_in_the_journal(
    tmp_path: Path, project: Path
) -> None:
    (project / "present.csv").write_text("a,b\n")
    path = tmp_path / "model.apbundle"
    train_model(entries(WORKDAY), path)
    with Predictor.open(path) as predictor:
        for day in range(5):
            predictor.record(f"frob data/day{day}.csv")
        predictor.record("frob present.csv")
        predictor.save()
        # learned as recorded
        assert not any("data/day" in text for text in texts(predictor, "frob ", cwd=str(project)))
    # a new process learns the kinds again from the journal
    with Predictor.open(path) as predictor:
        here = texts(predictor, "frob ", cwd=str(project))
        assert "frob present.csv" in here
        assert not any("data/day" in text for text in here)


def test_update_folds_in_what_the_history_gained(tmp_path: Path, project: Path) -> None:
    (project / "present.csv").write_text("a,b\n")
    history = tmp_path / ".bash_history"
    history.write_text("".join(line + "\n" for line in WORKDAY))
    path = tmp_path / "model.apbundle"
    trained = read_history(history)
    train_model(trained, path, history_marks=[mark_history(history, trained).to_dict()])
    gained = [f"frob data/day{n % 3}.csv" for n in range(6)] + ["frob present.csv"]
    with open(history, "a") as handle:
        handle.write("".join(line + "\n" for line in gained))
    assert update_model(path, [history]).new_commands == len(gained)

    def checked() -> list[str]:
        with Predictor.open(path) as predictor:
            return texts(predictor, "frob ", cwd=str(project))

    # learned from the journal update appended to ...
    assert "frob present.csv" in checked()
    assert not any("data/day" in text for text in checked())
    # ... and stored in the index once update compacts it into the model
    with Predictor.open(path) as predictor:
        index = predictor.index
    with writer(path) as w:
        limit = MemoryLimit.choose(None, index.memory_limit)
        assert compact(w, index, journal_for(path), limit, None) is not None
    with Predictor.open(path) as predictor:
        assert predictor.index.arguments is not None and "frob" in predictor.index.arguments
    assert "frob present.csv" in checked()
    assert not any("data/day" in text for text in checked())


def test_what_is_typed_never_grows_the_kinds_held_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "model.apbundle"
    train_model(entries(WORKDAY + OPS_DAY), path)
    with Predictor.open(path) as predictor:
        kinds = predictor._arguments
        predictor.suggest("vim ", cwd=str(tmp_path))
        held = (len(kinds), len(kinds._masks))
        for number in range(500):
            predictor.suggest(f"tool{number} arg{number} ", cwd=str(tmp_path))
        assert (len(kinds), len(kinds._masks)) == held
        # recorded commands are learned, up to a bound
        for number in range(500):
            predictor.record(f"tool{number} file{number}.txt")
        assert len(kinds) <= held[0] + arguments.MAX_LEARNED_HEADS


def test_the_kinds_are_stored_bounded_in_the_index(tmp_path: Path) -> None:
    history = [f"tool{n} sub{n % 3} file{n}.txt" for n in range(400)] * 2
    path = tmp_path / "model.apbundle"
    train_model(entries(history), path)
    with Predictor.open(path) as predictor:
        stored = predictor.index.arguments
        assert stored is not None and 0 < len(stored) <= arguments.MAX_HEADS
        assert all(len(counts) == arguments.COUNTS for counts in stored.values())
        document = json.loads(predictor.index.to_json())
        assert ModelIndex.from_dict(document) == predictor.index


def test_a_model_without_kinds_uses_the_prior(tmp_path: Path, project: Path) -> None:
    path = tmp_path / "model.apbundle"
    train_model(entries(WORKDAY), path)

    def older(index: dict[str, object]) -> None:
        index["version"] = 2
        del index["arguments"]

    edit_index(path, older)
    with Predictor.open(path) as predictor:
        assert predictor.index.arguments is None
        predictor.record("kubectl logs redis-0")
        assert not any("redis-0" in text for text in texts(predictor, "vim "))
        assert not any("app/" in text for text in texts(predictor, "vim ", cwd=str(project)))


@pytest.mark.parametrize(
    "damage, message",
    [
        ([], "'arguments' must be an object"),
        ({"vim": [1] * 11}, "must be 12 counts"),
        ({"vim": [256] + [0] * 11}, "must be 12 counts of 0 to 255"),
        ({"vim": [True] + [0] * 11}, "must be 12 counts"),
        ({f"t{n}": [0] * 12 for n in range(arguments.MAX_HEADS + 1)}, "more than"),
        ({"x" * 65: [0] * 12}, "a head of 65 characters"),
    ],
)
def test_damaged_kinds_are_refused_with_one_line(
    tmp_path: Path, damage: object, message: str
) -> None:
    path = tmp_path / "model.apbundle"
    train_model(entries(WORKDAY), path)

    def damaged(index: dict[str, object]) -> None:
        index["arguments"] = damage

    edit_index(path, damaged)
    with pytest.raises(BundleError, match=message):
        Predictor.open(path)


def test_each_recent_command_is_judged_as_itself(tmp_path: Path) -> None:
    path = tmp_path / "model.apbundle"
    forced = [f"git add -f build/out{n}.txt" for n in range(4)]
    train_model(entries(WORKDAY + OPS_DAY + forced), path)
    with Predictor.open(path) as predictor:
        # two arguments of one command reused where paths go: each is judged as an argument
        # of that command, not of the suggestion the first one made
        predictor.record("frob notes.txt other.txt")
        assert {"git add -f notes.txt other.txt", "git add -f other.txt"} <= set(
            texts(predictor, "git add -f ")
        )
        # that suggestion, run, is a recent command of its own, with its own arguments
        predictor.record("git add -f notes.txt other.txt")
        assert "git add -f other.txt" in texts(predictor, "git add -f o")


def test_training_learns_the_kinds_from_the_most_recent_commands_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = ["frobold data/a.txt", "frobold data/b.txt"] * 40
    new = ["frobnew host1.example.com", "frobnew host2.example.com"] * 20
    model = tmp_path / "model.apbundle"
    train_model(entries(old + new), model)
    with Predictor.open(model) as predictor:
        assert {"frobold", "frobnew"} <= set(predictor.index.arguments)
    # Bounded, whatever the history's size: only the last LEARNED_FROM commands teach kinds.
    monkeypatch.setattr(argument_kinds, "LEARNED_FROM", len(new))
    train_model(entries(old + new), model)
    with Predictor.open(model) as predictor:
        learned = predictor.index.arguments
        assert "frobnew" in learned and "frobold" not in learned


def test_a_mistyped_program_keeps_its_arguments_and_another_program_does_not() -> None:
    same = arguments.same_program
    assert same("igt", "git") and same("gti", "git") and same("giit", "git")
    assert same("gitt", "git") and same("kubect", "kubectl") and same("journalctl", "systemctl")
    assert not same("docker", "kubectl") and not same("vi", "vim")
    docker = [["docker", "build", "-t", "webapp:dev", "."], ["docker", "compose", "logs", "-f",
                                                          "api"]]
    kinds = ArgumentKinds()
    commands = [" ".join(tokens) for tokens in docker]

    def fits(wanted: list[str]) -> Callable[[int, int, bool], bool]:
        return lambda age, at, own: kinds.fits(
            kinds.target(wanted), kinds.argument_kinds(commands[age], docker[age])[at], own
        )

    assert reuse.reused_arguments("vim ", docker, fits(["vim"])) == {}
    assert reuse.reused_arguments("kubectl logs ", docker, fits(["kubectl", "logs"])) == {}
    assert set(reuse.reused_arguments("docker run ", docker)) >= {"docker run webapp:dev ."}
    assert reuse.reused_arguments("git add ", [["cp", "a.py", "b/c.py"]]) == {
        "git add a.py b/c.py": [0], "git add b/c.py": [0]
    }


def test_the_path_check_stops_looking_when_its_time_is_up_and_offers_nothing_unchecked(
    project: Path,
) -> None:
    kinds = ArgumentKinds()
    (project / "src" / "b.c").write_text("")
    paths = PathCheck(str(project), kinds, budget=2.5, clock=Ticks())
    assert paths.plausible("vim app.py")  # the first look starts the clock (at 1)
    assert not paths.plausible("vim missing.c")  # looked at 2
    assert paths.plausible("vim src/b.c")  # looked at 3
    assert not paths.plausible("vim src/b.c.orig")  # 4 is past 3.5: not looked at
    assert paths.looked == 3
    assert paths.plausible("vim app.py")  # what was looked at is remembered
    assert paths.plausible("git status") and paths.plausible("vim -R")  # nothing to look at
    # Without a clock that moves, every path of hundreds is looked at.
    patient = PathCheck(str(project), kinds, budget=1.0, clock=lambda: 0.0)
    assert not any(patient.plausible(f"vim src/f{n}.c") for n in range(300))
    assert patient.looked == 300


def test_cd_takes_another_folder_and_a_pager_a_file(project: Path) -> None:
    kinds = ArgumentKinds()
    # a clock that stands still: the time budget (tested above) never runs out on a busy machine
    paths = PathCheck(str(project), kinds, clock=lambda: 0.0)
    assert paths.plausible("cd src") and paths.plausible("cd ..") and paths.plausible("cd -")
    assert not paths.plausible("cd app.py") and not paths.plausible("cd .")
    assert not paths.plausible(f"cd {project}") and not paths.plausible("cd src/..")
    assert paths.plausible("less app.py") and not paths.plausible("less src")
    assert paths.plausible("vim src") and paths.plausible("vim app.py")


def test_a_replay_reads_arguments_as_learning_each_command_alone() -> None:
    # learning() tokenizes each distinct command once per replay: the kinds must not tell.
    commands = [f"{program} {argument}" for _ in range(3) for program, argument in [
        ("vim", "src/app.py"), ("ssh", "db.example.com"), ("git", "checkout main"),
        ("kubectl", "logs pod-1"), ("cd", "../build"), ("make", "-j4 test")]]
    commands += [f"newtool{n} --flag value{n} path/{n}.txt" for n in range(80)]  # new heads
    replayed, alone = ArgumentKinds(), ArgumentKinds()
    assert len(list(replayed.learning({"c": command} for command in commands))) == len(commands)
    for command in commands:
        alone.learn(command)
    heads = {alone.head(tokenize(c), 0, len(tokenize(c)))[0] for c in commands}
    assert len(replayed) == len(alone)
    assert all(replayed.masks(head) == alone.masks(head) for head in heads)

"""Every path a suggestion names is checked in the shell's folder, not only the first one."""

from __future__ import annotations

from pathlib import Path

import pytest

from aprender_shell.model.query.arguments import ArgumentKinds
from aprender_shell.model.query.pathcheck import PathCheck, unquoted
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.model.training.train import train_model
from tests.model.query.ticks import Ticks
from tests.model.sessions import WORKDAY, entries


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    for name in ("src", "build", "docs"):
        (folder / name).mkdir(parents=True)
    for name in ("a.txt", "src/a.c", "src/b.c", "my notes.md", "docs/guide.md"):
        (folder / name).write_text("x\n")
    return folder


def still() -> float:
    """A clock that stands still: the time budget never runs out, however busy the machine."""
    return 0.0


def offered(history: list[str], prefix: str, cwd: Path, tmp_path: Path) -> list[str]:
    """What ``suggest`` offers after ``prefix`` in ``cwd``, from a model of ``history``."""
    model = tmp_path / "model.apbundle"
    train_model(entries(WORKDAY + history), model)
    with Predictor.open(model) as predictor:
        return [s.text for s in predictor.suggest(prefix, k=10, cwd=str(cwd))]


def test_a_second_path_that_is_gone_keeps_the_suggestion_from_being_offered(
    tmp_path: Path, project: Path
) -> None:
    history = ["vim a.txt b.txt"] * 6 + ["vim a.txt"] * 2
    here = offered(history, "vim ", project, tmp_path)
    assert "vim a.txt" in here and "vim a.txt b.txt" not in here
    (project / "b.txt").write_text("back\n")
    assert offered(history, "vim ", project, tmp_path)[0] == "vim a.txt b.txt"


def test_a_copy_needs_its_sources_and_the_folder_it_goes_into(
    tmp_path: Path, project: Path
) -> None:
    history = ["cp src/a.c build/missing/"] * 5 + ["cp src/a.c build/new.c"] * 3 + [
        "cp src/gone.c build/"] * 4 + ["cp src/b.c nowhere/b.c"] * 4 + ["cp src/b.c build/"]
    here = offered(history, "cp ", project, tmp_path)
    # build/missing/ is written as the folder to copy into; it is not there
    assert "cp src/a.c build/missing/" not in here
    assert "cp src/gone.c build/" not in here and "cp src/b.c nowhere/b.c" not in here
    # the copy makes new.c, in a folder that is there
    assert {"cp src/a.c build/new.c", "cp src/b.c build/"} <= set(here)
    (project / "build" / "missing").mkdir()
    assert "cp src/a.c build/missing/" in offered(history, "cp ", project, tmp_path)


def test_quotes_backslashes_and_a_tilde_are_read_as_the_shell_reads_them(
    tmp_path: Path, project: Path, private_home: Path
) -> None:
    (private_home / "todo.txt").write_text("x\n")
    history = ['vim "my notes.md" ~/todo.txt'] * 3 + ["vim my\\ notes.md ~/gone.txt"] * 4 + [
        "vim 'my notes.md' \"~/todo.txt\""] * 5 + ['vim "my nodes.md"'] * 6
    here = offered(history, "vim ", project, tmp_path)
    assert here[0] == 'vim "my notes.md" ~/todo.txt'
    # ~/gone.txt is not in the home; a quoted tilde names a folder "~" here, which is not
    assert not any("gone" in text or '"~' in text or "nodes" in text for text in here), here


def test_an_option_value_naming_a_folder_that_is_gone_is_checked(
    tmp_path: Path, project: Path
) -> None:
    # ``render`` is in no built-in list: the history shows it takes paths.
    history = [f"render docs/guide.md --output=out{n % 2}/guide.pdf" for n in range(8)] + [
        "render docs/guide.md --output=build/guide.pdf"] * 2 + ["render docs/guide.md"] * 4
    here = offered(history, "render ", project, tmp_path)
    assert "render docs/guide.md --output=build/guide.pdf" in here
    assert not any("out0" in text or "out1" in text for text in here), here


def test_paths_after_cd_on_the_same_line_are_read_from_where_it_goes(
    tmp_path: Path, project: Path
) -> None:
    history = ["cd src && vim a.txt"] * 5 + ["cd src && vim a.c"] * 2 + [
        "mkdir out && cd out"] * 3
    here = offered(history, "cd ", project, tmp_path)
    # a.txt is in the project, not in src; out is made by the line itself
    assert "cd src && vim a.txt" not in here
    assert "cd src && vim a.c" in here
    assert "mkdir out && cd out" in offered(history, "mkdir ", project, tmp_path)


def test_a_redirection_reads_a_file_that_is_there_and_writes_into_a_folder_that_is(
    tmp_path: Path, project: Path
) -> None:
    history = ["sort a.txt > logs/sorted.txt"] * 5 + ["sort < gone.txt"] * 4 + [
        "sort a.txt > build/sorted.txt"] * 2 + ["sort a.txt 2>/dev/null"]
    here = offered(history, "sort ", project, tmp_path)
    assert "sort a.txt > logs/sorted.txt" not in here and "sort < gone.txt" not in here
    assert {"sort a.txt > build/sorted.txt", "sort a.txt 2>/dev/null"} <= set(here)


def test_words_only_the_shell_can_expand_are_not_judged(
    tmp_path: Path, project: Path
) -> None:
    history = ['vim a.txt "$HOME/gone.txt"'] * 3 + ["vim a.txt src/*.h"] * 3 + [
        "grep -r TODO src"] * 3
    assert {'vim a.txt "$HOME/gone.txt"', "vim a.txt src/*.h"} <= set(
        offered(history, "vim ", project, tmp_path))
    assert unquoted('"$HOME/x"') is None and unquoted("a'b c'\\ d") == "ab c d"
    assert unquoted("'unclosed") is None and unquoted('"a\\"b"') == 'a"b'


def test_a_second_path_not_looked_at_before_the_time_is_up_is_not_offered(
    project: Path,
) -> None:
    # As fish drops a suggestion whose check was cancelled: a path not looked at is not
    # taken to be there, even when the first path of the same suggestion was.
    paths = PathCheck(str(project), ArgumentKinds(), budget=1.5, clock=Ticks())
    assert paths.plausible("vim a.txt src/a.c")  # the clock starts at 1, then reads 2
    assert not paths.plausible("vim a.txt src/b.c")  # src/b.c would be looked at 3: too late
    assert paths.looked == 2


def test_what_a_suggestion_names_is_read_again_once_the_command_is_learned_to_take_paths(
    project: Path,
) -> None:
    kinds = ArgumentKinds()
    # frob: nothing known yet
    assert PathCheck(str(project), kinds, clock=still).plausible("frob gone.csv")
    for _ in range(3):
        kinds.learn("frob a.txt")
    assert not PathCheck(str(project), kinds, clock=still).plausible("frob gone.csv")
    assert PathCheck(str(project), kinds, clock=still).plausible("frob a.txt")

"""The uninstall plan, made by the library before anything changes, then applied."""

from __future__ import annotations

from pathlib import Path

from aprender_shell import paths
from aprender_shell.fileio import atomic_write_bytes, temp_path
from aprender_shell.integration import integration_for
from aprender_shell.integration.uninstall import plan_uninstall_all
from aprender_shell.model.learned.journal import journal_path


def test_the_plan_names_everything_first_and_applying_it_leaves_nothing_of_ours(
    private_home: Path,
) -> None:
    model = paths.default_model_path()
    atomic_write_bytes(model, b"model")
    atomic_write_bytes(journal_path(model), b"journal")
    staged = temp_path(model, "compact")  # what an interrupted 'update' leaves
    staged.write_bytes(b"half")
    journal_staged = temp_path(journal_path(model), "abc123")
    journal_staged.write_bytes(b"half")
    zsh = integration_for("zsh")
    atomic_write_bytes(zsh.cache_path(), b"script")
    paths.ensure_private_dir(paths.runtime_dir())
    atomic_write_bytes(paths.runtime_dir() / "server.log", b"log")

    plan = plan_uninstall_all([zsh], keep_model=False, home=private_home)
    assert plan.markers == [zsh.cache_path(), model]
    assert set(plan.present()) == {zsh.cache_path(), model, journal_path(model), staged,
                                   journal_staged, paths.runtime_dir() / "server.log"}
    sync = paths.data_dir() / "sync"  # a device that never synced has none: rmdir finds none
    assert plan.folders == [paths.runtime_dir(), sync, paths.data_dir()] and plan.stop_server
    assert model.exists() and staged.exists()  # planning changes nothing

    plan.apply()
    assert not paths.data_dir().exists()


def test_keeping_the_model_keeps_it_its_journal_and_its_folder(private_home: Path) -> None:
    model = paths.default_model_path()
    atomic_write_bytes(model, b"model")
    atomic_write_bytes(journal_path(model), b"journal")
    plan = plan_uninstall_all([integration_for("bash")], keep_model=True, home=private_home)
    assert model not in plan.markers and journal_path(model) not in plan.files
    assert paths.data_dir() not in plan.folders
    plan.apply()
    assert model.read_bytes() == b"model" and journal_path(model).read_bytes() == b"journal"

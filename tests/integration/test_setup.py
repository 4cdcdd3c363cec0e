"""``init``, ``install`` and ``uninstall``, and the marked rc-file block they keep."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from aprender_shell import limits, paths
from aprender_shell.cli import cli
from aprender_shell.integration import BEGIN, END, integration_for
from aprender_shell.integration.rcfile import (
    make_block,
    plan_install,
    plan_uninstall,
    remove_block,
    with_block,
)
from aprender_shell.limits import MAX_COMMAND_CHARS
from aprender_shell.model.learned.feedback import feedback_path
from aprender_shell.model.learned.journal import journal_path
from tests.integration.shells import require

LINE = 'eval "$(aprender-shell init zsh)"'


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# --- the block itself ---------------------------------------------------------------------


def test_the_block_is_appended_once_after_what_was_there() -> None:
    text = "alias ll='ls -l'\n"
    once = with_block(text, LINE)
    assert once.startswith(text)
    assert once.count(BEGIN) == 1 and once.count(END) == 1 and LINE in once
    assert with_block(once, LINE) == once


def test_a_changed_line_replaces_the_block_in_place() -> None:
    text = "before\n" + make_block("old line") + "after\n"
    updated = with_block(text, LINE)
    assert updated == "before\n" + make_block(LINE) + "after\n"


ORIGINALS = [
    None, "", "\n", "\n\n", "alias ll='ls -l'\n", "no newline at the end", "a\n\n\nb",
    "  \t", "caf\u00e9\r\n",
]


@pytest.mark.parametrize("original", ORIGINALS)
def test_install_then_uninstall_gives_back_the_file_byte_for_byte(
    original: str | None, tmp_path: Path
) -> None:
    rc = tmp_path / "rc"
    if original is not None:
        rc.write_bytes(original.encode("utf-8"))
    plan_install(rc, LINE).apply()
    assert LINE in rc.read_text(encoding="utf-8")
    plan_install(rc, LINE + " # changed").apply()  # an update keeps what install noted
    plan_uninstall(rc).apply()
    if original is None:
        assert not rc.exists()
    else:
        assert rc.read_bytes() == original.encode("utf-8")


def test_a_created_file_the_user_added_to_is_kept(tmp_path: Path) -> None:
    rc = tmp_path / "rc"
    plan_install(rc, LINE).apply()
    with rc.open("a") as handle:
        handle.write("export MINE=1\n")
    plan_uninstall(rc).apply()
    assert rc.read_text() == "export MINE=1\n"


def test_a_line_added_after_the_block_keeps_the_newline(tmp_path: Path) -> None:
    rc = tmp_path / "rc"
    rc.write_text("no newline")
    plan_install(rc, LINE).apply()
    with rc.open("a") as handle:
        handle.write("later\n")
    plan_uninstall(rc).apply()
    # The newline install added now ends a line that something follows: it stays.
    assert rc.read_text() == "no newline\nlater\n"


def test_an_unterminated_block_is_left_alone() -> None:
    text = f"x\n{BEGIN}\nsomething the user wrote\n"
    assert remove_block(text) == text


def test_apply_keeps_the_mode_and_writes_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "zshrc"
    real.parent.mkdir()
    real.write_text("x=1\n")
    real.chmod(0o640)
    link = tmp_path / ".zshrc"
    link.symlink_to(real)
    plan_install(link, LINE).apply()
    assert link.is_symlink()
    assert LINE in real.read_text()
    assert real.stat().st_mode & 0o777 == 0o640


# --- init ---------------------------------------------------------------------------------


@pytest.mark.parametrize("shell", ["zsh", "bash", "fish"])
def test_init_prints_the_script_with_this_install_filled_in(shell: str) -> None:
    result = invoke("init", shell)
    assert result.exit_code == 0
    shipped = integration_for(shell).source_text()
    marked = [line for line in shipped.splitlines() if line.endswith("# @init")]
    assert marked, "the shipped script has no '# @init' line"
    for line in marked:
        assert line not in result.output.splitlines()
    assert str(paths.default_model_path()) in result.output  # the marker: the model
    assert str(paths.runtime_dir() / "server.sock") in result.output


@pytest.mark.parametrize("shell", ["bash", "fish"])
def test_the_relay_filled_in_imports_nothing_but_the_standard_library(shell: str) -> None:
    relay = integration_for(shell).values([], Path("/s"), Path("/m"))["_aprender_shell_relay"]
    assert "-I" in relay and "-S" in relay and "relay.py" in relay


def test_init_zsh_points_at_the_server_socket() -> None:
    result = invoke("init", "zsh")
    socket = paths.runtime_dir() / "server.sock"
    assert f"_aprender_shell_socket={socket}  # @init" in result.output


def test_init_gives_zsh_the_longest_line_the_server_answers_for() -> None:
    result = invoke("init", "zsh")
    assert f"_aprender_shell_max_command={MAX_COMMAND_CHARS}  # @init" in result.output


@pytest.mark.parametrize("shell", ["zsh", "bash", "fish"])
def test_the_shipped_scripts_work_out_no_path_of_their_own(shell: str) -> None:
    # Where the server listens is paths.py's to say; a second copy of the rule in a script
    # would drift from it. init fills the values in.
    shipped = integration_for(shell).source_text()
    for rule in ("server.sock", "XDG_RUNTIME_DIR", "APRENDER_SHELL_HOME", "/run/"):
        assert rule not in shipped, f"{shell}'s script works out a path itself ({rule})"


@pytest.mark.parametrize("shell", ["bash", "fish"])
def test_the_relay_is_told_where_its_start_stamp_lives(shell: str) -> None:
    result = invoke("init", shell)
    assert str(paths.relay_stamp_path()) in result.output
    assert paths.relay_stamp_path() in paths.runtime_files()


@pytest.mark.parametrize("shell", ["zsh", "bash", "fish"])
def test_the_printed_script_parses(shell: str, tmp_path: Path) -> None:
    executable = require(shell)
    script = tmp_path / "init"
    script.write_text(invoke("init", shell).output)
    checked = subprocess.run([executable, "-n", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_an_unknown_shell_is_refused_in_one_line_naming_the_argument() -> None:
    result = CliRunner().invoke(cli, ["init", "tcsh"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "SHELL" in lines[0] and "'tcsh'" in lines[0]
    assert all(name in lines[0] for name in ("zsh", "bash", "fish"))


# --- install ------------------------------------------------------------------------------


def test_dry_run_shows_the_block_and_writes_nothing(private_home: Path) -> None:
    result = invoke("install", "--shell", "zsh", "--dry-run")
    assert result.exit_code == 0
    assert BEGIN in result.output and str(private_home / ".zshrc") in result.output
    assert not (private_home / ".zshrc").exists()
    assert not integration_for("zsh").cache_path().exists()


def test_fish_is_installed_as_a_snippet_of_its_own(private_home: Path) -> None:
    config = private_home / ".config" / "fish"
    config.mkdir(parents=True)
    (config / "config.fish").write_text("set -g fish_greeting\n")
    result = invoke("install", "--shell", "fish")
    assert result.exit_code == 0, result.output
    snippet = config / "conf.d" / "aprender-shell.fish"
    assert "init fish" in snippet.read_text()
    assert (config / "config.fish").read_text() == "set -g fish_greeting\n"
    assert invoke("uninstall", "--shell", "fish").exit_code == 0
    assert not snippet.exists() and not (config / "conf.d").exists()
    assert (config / "config.fish").read_text() == "set -g fish_greeting\n"


def test_a_snippet_someone_else_wrote_is_left_alone(private_home: Path) -> None:
    snippet = integration_for("fish").rc_file(private_home)
    snippet.parent.mkdir(parents=True)
    snippet.write_text("# mine\n")
    result = CliRunner().invoke(cli, ["install", "--shell", "fish"])
    assert result.exit_code == 1 and "not written by aprender-shell" in result.output
    assert invoke("uninstall", "--shell", "fish").exit_code == 0
    assert snippet.read_text() == "# mine\n"


def test_install_writes_one_block_and_is_idempotent(private_home: Path) -> None:
    rc = private_home / ".bashrc"
    rc.write_text("export EDITOR=vi\n")
    assert invoke("install", "--shell", "bash").exit_code == 0
    first = rc.read_text()
    assert first.startswith("export EDITOR=vi\n")
    assert first.count(BEGIN) == 1
    again = invoke("install", "--shell", "bash")
    assert "nothing to change" in again.output
    assert rc.read_text() == first
    assert integration_for("bash").cache_path().exists()


def test_install_follows_shell_and_zdotdir(
    private_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    zdotdir = tmp_path / "zdot"
    zdotdir.mkdir()
    monkeypatch.setenv("SHELL", "/usr/bin/zsh")
    monkeypatch.setenv("ZDOTDIR", str(zdotdir))
    assert invoke("install").exit_code == 0
    assert BEGIN in (zdotdir / ".zshrc").read_text()
    assert not (private_home / ".zshrc").exists()


def test_install_without_a_known_shell_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELL", "/bin/tcsh")
    result = CliRunner().invoke(cli, ["install"])
    assert result.exit_code == 1
    assert "--shell" in result.output


@pytest.mark.parametrize("shell", ["zsh", "bash", "fish"])
def test_the_installed_block_loads_the_integration_and_remakes_its_copy(
    shell: str, private_home: Path
) -> None:
    executable = require(shell)
    assert invoke("install", "--shell", shell).exit_code == 0
    rc = integration_for(shell).rc_file(private_home)
    cache = integration_for(shell).cache_path()
    check = f". {rc}; type _aprender_precmd >/dev/null && echo loaded"
    flags = ["-f", "-i"] if shell == "zsh" else ["--norc", "-i"]
    if shell == "fish":
        check = f"source {rc}; functions -q _aprender_postexec; and echo loaded"
        flags = ["--no-config", "-i"]
    env = dict(os.environ)
    for present in (True, False):
        if not present:
            cache.unlink()
        done = subprocess.run(
            [executable, *flags, "-c", check], capture_output=True, text=True,
            stdin=subprocess.DEVNULL, env=env, timeout=60,
        )
        assert done.stdout.strip() == "loaded", done.stderr
        assert cache.exists()


# --- uninstall ----------------------------------------------------------------------------


def _trained_files() -> tuple[Path, Path]:
    model = paths.default_model_path()
    model.parent.mkdir(parents=True, exist_ok=True)
    model.write_bytes(b"model")
    journal = journal_path(model)
    journal.write_text("{}\n")
    return model, journal


def test_uninstall_removes_the_block_the_copy_and_the_model(private_home: Path) -> None:
    rc = private_home / ".zshrc"
    rc.write_text("setopt autocd\n")
    invoke("install", "--shell", "zsh")
    model, journal = _trained_files()
    feedback = feedback_path(model)  # what the shells reported goes with the model
    feedback.write_text('{"feedback": 1}')
    result = invoke("uninstall")
    assert result.exit_code == 0
    assert rc.read_text() == "setopt autocd\n"
    assert not model.exists() and not journal.exists() and not feedback.exists()
    assert not integration_for("zsh").cache_path().exists()


def test_uninstall_keep_model_keeps_it(private_home: Path) -> None:
    invoke("install", "--shell", "bash")
    model, journal = _trained_files()
    assert invoke("uninstall", "--shell", "bash", "--keep-model").exit_code == 0
    assert not (private_home / ".bashrc").exists()  # install created it
    assert model.exists() and journal.exists()


def test_uninstall_dry_run_changes_nothing(private_home: Path) -> None:
    invoke("install", "--shell", "zsh")
    before = (private_home / ".zshrc").read_text()
    model, _ = _trained_files()
    result = invoke("uninstall", "--dry-run")
    assert "Deleting" in result.output and str(model) in result.output
    assert (private_home / ".zshrc").read_text() == before
    assert model.exists()


def test_uninstall_with_nothing_installed_says_so(private_home: Path) -> None:
    result = invoke("uninstall", "--keep-model")
    assert result.exit_code == 0
    assert "No aprender-shell setup" in result.output


def test_the_shells_with_an_integration_are_the_ones_every_layer_names() -> None:
    from aprender_shell.integration import SHELLS
    from aprender_shell.service.protocol import schema

    assert tuple(SHELLS) == limits.SHELLS == schema.SHELLS
    assert all(SHELLS[name]().name == name for name in SHELLS)

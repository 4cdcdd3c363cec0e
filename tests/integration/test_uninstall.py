"""uninstall in real shells: files back byte for byte, nothing of ours left, open shells quiet.

Each shell is installed as a user would, used (so it talks to a running server), then
``aprender-shell uninstall`` runs while it is still open, and the user goes on typing in it.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.integration.shells import (
    BashSession,
    FishSession,
    Home,
    Session,
    ZshSession,
    aprender,
    session,
    tree,
)

pytestmark = pytest.mark.slow

# Files the shells themselves make in a home while they run: theirs, not ours.
SHELLS_OWN = (".config/fish/fish_variables", ".config/fish/functions", ".config/fish/completions",
              ".local/share/fish", ".local/share", ".local")


@pytest.mark.parametrize("kind", [ZshSession, BashSession, FishSession], ids=lambda k: k.shell)
def test_after_uninstall_open_shells_stay_quiet_and_files_are_as_before(
    kind: type[Session], tmp_path: Path
) -> None:
    home = Home(tmp_path)
    home.train()
    with session(kind, home) as shell:
        shell.show_suggestion("git c", "ommit -m fix")
        shell.send("\x15")
        assert "used-marker" in shell.run("echo used-marker")
        assert home.server_pid() is not None
        done = aprender("uninstall", env=home.env)
        assert done.returncode == 0, done.stderr
        # Nothing of ours is left: model, journal, saved scripts, runtime folder, data folder.
        assert not home.data.exists(), sorted(p.name for p in home.data.rglob("*"))
        # The shell goes on: keys that used to ask and commands that used to be recorded.
        for _ in range(3):
            shell.poke("git c")
            assert "still-here" in shell.run("echo still-here")
        time.sleep(3)  # a server the shell started would have its socket by now
        assert not home.data.exists(), "an open shell started the server again"
        shell.close()
        shell.assert_quiet()
    after = tree(home.home)
    before = shell.before_install
    for name, content in before.items():
        assert after.get(name, "absent") == content, f"{name} changed"
    made = [name for name in after if name not in before and not name.startswith(SHELLS_OWN)]
    assert made == [], f"left behind: {made}"
    for name in after:
        if name not in before and after[name] is not None:
            assert b"aprender" not in (after[name] or b""), f"{name} mentions aprender"


def test_dry_run_lists_everything_and_changes_nothing(tmp_path: Path) -> None:
    home = Home(tmp_path)
    home.train()
    for shell in ("zsh", "bash", "fish"):
        assert aprender("install", "--shell", shell, env=home.env).returncode == 0
    home.start_server()
    try:
        before_home, before_data = tree(home.home), tree(home.data)
        done = aprender("uninstall", "--dry-run", env=home.env)
        assert done.returncode == 0, done.stderr
        out = done.stdout
        for listed in (".zshrc", ".bashrc", "conf.d/aprender-shell.fish", "model.apbundle",
                       "init.zsh", "init.bash", "init.fish", "server.log", "server.lock",
                       "Stopping the server"):
            assert listed in out, f"{listed} not in:\n{out}"
        assert tree(home.home) == before_home
        assert tree(home.data).keys() == before_data.keys()
        assert home.server_pid() is not None
    finally:
        home.stop_server()

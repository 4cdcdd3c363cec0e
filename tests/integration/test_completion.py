"""Our own command line completes on Tab in the user's zsh, bash and fish (click's shell
completion), set up by ``install`` with nothing run at the shell's start but the saved script."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from tests.integration.shells import (
    BashSession,
    FishSession,
    Home,
    Session,
    ZshSession,
    session,
)

pytestmark = pytest.mark.slow


COMPINIT = ["autoload -Uz compinit", "compinit -u -D"]


class ZshCompinitFirst(ZshSession):
    rc_lines = [*ZshSession.rc_lines, *COMPINIT]


class ZshCompinitLater(ZshSession):
    # compinit after the block install writes, as many .zshrc files have it.
    rc_after = COMPINIT


@pytest.mark.parametrize(
    "kind", [ZshCompinitFirst, ZshCompinitLater, BashSession, FishSession],
    ids=["zsh", "zsh-compinit-later", "bash", "fish"],
)
def test_tab_completes_our_subcommand(tmp_path: Path, kind: type[Session]) -> None:
    home = Home(tmp_path)
    # The user's PATH has aprender-shell on it: the completion runs it by name.
    home.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{home.env['PATH']}"
    # A server already running: the shell starts none of its own, which could outlive the test.
    home.train()
    home.start_server()
    with session(kind, home) as shell:
        shell.send("aprender-shell ser")
        shell.expect("ser")
        shell.send("\t")
        shell.expect("ver")
        shell.send("--help")
        output = shell.enter()
        shell.close()
    # Completed to "server " with its space: the help of 'aprender-shell server' ran.
    assert re.search(r"Usage: aprender-shell server \[OPTIONS\]", output), output
    assert "Start the server in the background." in output

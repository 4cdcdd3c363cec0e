"""The supported shells: zsh (ghost text while typing) and bash (a key that fills the line)."""

from __future__ import annotations

import os
from pathlib import Path

from aprender_shell.errors import UsageError
from aprender_shell.integration.base import ShellIntegration


class ZshIntegration(ShellIntegration):
    """zsh: asynchronous ghost text through one socket per shell, accepted with Right/End/Alt-F."""

    name = "zsh"
    script_file = "aprender.zsh"
    init_variables = ("_aprender_shell_cmd", "_aprender_shell_socket")

    def rc_file(self, home: Path) -> Path:
        # zsh reads .zshrc from $ZDOTDIR when it is set, as zsh itself does.
        zdotdir = os.environ.get("ZDOTDIR")
        return Path(zdotdir).expanduser() / ".zshrc" if zdotdir else home / ".zshrc"


class BashIntegration(ShellIntegration):
    """bash: a key that fills the line with the top suggestion and cycles on repeat."""

    name = "bash"
    script_file = "aprender.bash"

    def rc_file(self, home: Path) -> Path:
        return home / ".bashrc"


SHELLS: dict[str, type[ShellIntegration]] = {"zsh": ZshIntegration, "bash": BashIntegration}


def integration_for(name: str) -> ShellIntegration:
    """The integration of the shell called ``name`` (``zsh`` or ``bash``)."""
    try:
        return SHELLS[name]()
    except KeyError:
        known = ", ".join(sorted(SHELLS))
        raise UsageError(f"unsupported shell {name!r}: choose one of {known}") from None


def detect_shell() -> ShellIntegration:
    """The integration for the user's login shell, read from ``$SHELL``."""
    login = os.path.basename(os.environ.get("SHELL", ""))
    if login not in SHELLS:
        raise UsageError(
            f"cannot tell your shell from SHELL={login or '(unset)'}: "
            "pass --shell zsh or --shell bash"
        )
    return SHELLS[login]()

"""The supported shells: zsh (ghost text while typing) and bash (a key that fills the line)."""

from __future__ import annotations

import os
from pathlib import Path

from aprender_shell.errors import UsageError
from aprender_shell.integration.base import ShellIntegration
from aprender_shell.integration.rcfile import remove_block


class ZshIntegration(ShellIntegration):
    """zsh: asynchronous ghost text through one socket per shell, accepted with Right/End/Alt-F."""

    name = "zsh"
    script_file = "aprender.zsh"
    init_variables = ("_aprender_shell_cmd", "_aprender_shell_socket")

    def rc_file(self, home: Path) -> Path:
        # zsh reads .zshrc from $ZDOTDIR when it is set, as zsh itself does.
        zdotdir = os.environ.get("ZDOTDIR")
        return Path(zdotdir).expanduser() / ".zshrc" if zdotdir else home / ".zshrc"

    def install_note(self, rc_text: str, home: Path) -> str | None:
        """Which of the two modes the script will pick, judged from the rc file.

        The script decides for itself at each start; this only tells the user in advance.
        """
        if loads_zsh_autosuggestions(remove_block(rc_text), home):
            return (
                "zsh-autosuggestions is loaded there: aprender-shell becomes its 'aprender' "
                "strategy (ZSH_AUTOSUGGEST_STRATEGY=(aprender history) unless you name it "
                "yourself), and its keys and settings stay as they are."
            )
        return (
            "zsh-autosuggestions is not loaded there: aprender-shell shows its own grey "
            "suggestions (Right or End accepts, Alt-F a word). Load zsh-autosuggestions "
            "later and aprender-shell becomes its strategy by itself."
        )


def loads_zsh_autosuggestions(rc_text: str, home: Path) -> bool:
    """Whether the rc text (or antidote's plugin list) loads zsh-autosuggestions.

    Sourcing it, oh-my-zsh's ``plugins=(...)`` and the plugin managers (zinit, antigen, zplug,
    antidote, zgen) all name it by its repository name.
    """
    lists = [rc_text]
    zdotdir = Path(os.environ.get("ZDOTDIR") or home).expanduser()
    plugins = zdotdir / ".zsh_plugins.txt"
    if plugins.is_file():
        lists.append(plugins.read_text(encoding="utf-8", errors="replace"))
    for text in lists:
        for line in text.splitlines():
            code = line.split("#", 1)[0]
            if "zsh-autosuggestions" in code:
                return True
    return False


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

"""The supported shells: zsh (ghost text as you type), bash and fish (a key fills the line)."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Sequence
from pathlib import Path

from aprender_shell import limits
from aprender_shell.errors import UsageError
from aprender_shell.integration.base import ShellIntegration
from aprender_shell.integration.rcfile import (
    RcEdit,
    plan_snippet_install,
    plan_snippet_uninstall,
    remove_block,
)

# zsh and bash read the same loading line: eval what init prints, or source the saved copy.
_POSIX_PLAIN = 'eval "$({invocation})"'
# -O: only a saved copy we own is sourced; one another account put there is made afresh.
_POSIX_CACHED = (
    'if [ -O {cache} ] && [ {cache} -nt {shipped} ]; then . {cache}; '
    'else eval "$({invocation})"; fi'
)


class ZshIntegration(ShellIntegration):
    """zsh: asynchronous ghost text through one socket per shell, accepted with Right/End/Alt-F."""

    name = "zsh"
    script_file = "aprender.zsh"
    placeholders = (
        "_aprender_shell_cmd", "_aprender_shell_socket", "_aprender_shell_marker",
        "_aprender_shell_max_command", "_aprender_shell_agent_vars",
    )
    plain_template = _POSIX_PLAIN
    cached_template = _POSIX_CACHED

    def rc_file(self, home: Path) -> Path:
        # zsh reads .zshrc from $ZDOTDIR when it is set, as zsh itself does.
        zdotdir = os.environ.get("ZDOTDIR")
        return Path(zdotdir).expanduser() / ".zshrc" if zdotdir else home / ".zshrc"

    def quote(self, word: str) -> str:
        return shlex.quote(word)

    def assignment_pattern(self, variable: str) -> re.Pattern[str]:
        # zsh's script declares its globals with typeset -g (-ga for arrays).
        return re.compile(rf"^(\s*(?:typeset -g[a-z]* )?{variable}=).*(# @init)$", re.M)

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
    placeholders = (
        "_aprender_shell_relay", "_aprender_shell_socket", "_aprender_shell_marker",
        "_aprender_shell_cmd",  # Ctrl-R runs `search` with it
        "_aprender_shell_agent_vars",
    )
    plain_template = _POSIX_PLAIN
    cached_template = _POSIX_CACHED

    def rc_file(self, home: Path) -> Path:
        return home / ".bashrc"

    def install_note(self, rc_text: str, home: Path) -> str | None:
        return (
            "Keys: bash shows no grey text; Right at the end of the line, or Alt-; anywhere, "
            "fills the line with the top suggestion, and pressing it again cycles through the "
            "next ones (APRENDER_SHELL_BASH_KEY changes Alt-;)."
        )

    def quote(self, word: str) -> str:
        return shlex.quote(word)


class FishIntegration(ShellIntegration):
    """fish: a key that fills the line and cycles, beside fish's own autosuggestions.

    Installed as a snippet of its own in ``conf.d`` (fish's convention), never by editing
    ``config.fish``; deleting the snippet uninstalls.
    """

    name = "fish"
    script_file = "aprender.fish"
    placeholders = (
        "_aprender_shell_relay", "_aprender_shell_socket", "_aprender_shell_marker",
        "_aprender_shell_cmd",  # Ctrl-R runs `search` with it
        "_aprender_shell_agent_vars",
    )
    plain_template = "{invocation} | source"
    cached_template = (
        "if test -O {cache}; and test {cache} -nt {shipped}\n    source {cache}\nelse\n"
        "    {invocation} | source\nend"
    )

    def rc_file(self, home: Path) -> Path:
        # fish reads $XDG_CONFIG_HOME/fish, as fish itself does.
        config = os.environ.get("XDG_CONFIG_HOME", "").strip()
        base = Path(config).expanduser() if config else home / ".config"
        return base / "fish" / "conf.d" / "aprender-shell.fish"

    def quote(self, word: str) -> str:
        # Inside fish's single quotes only \\ and \' are escapes.
        if word and re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", word):
            return word
        return "'" + word.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def assignment_pattern(self, variable: str) -> re.Pattern[str]:
        return re.compile(rf"^(\s*set -g {variable} ).*(# @init)$", re.M)

    def list_value(self, words: Sequence[str]) -> str:
        return " ".join(self.quote(word) for word in words)

    def install_note(self, rc_text: str, home: Path) -> str | None:
        return (
            "Keys: Alt-; fills the line with the top suggestion, and pressing it again cycles "
            "through the next ones; fish's own grey suggestions stay as they are "
            "(APRENDER_SHELL_FISH_KEY changes Alt-;)."
        )

    def plan_install(self, home: Path, line: str) -> RcEdit:
        # conf.d snippets are read by every fish, scripts included: interactive ones only.
        body = f"status is-interactive; or return 0\n{line}"
        return plan_snippet_install(self.rc_file(home), body)

    def plan_uninstall(self, home: Path) -> RcEdit:
        return plan_snippet_uninstall(self.rc_file(home))


_INTEGRATIONS = {cls.name: cls for cls in (ZshIntegration, BashIntegration, FishIntegration)}
# Each shell of limits.SHELLS, in its order: one without an integration fails at import.
SHELLS: dict[str, type[ShellIntegration]] = {name: _INTEGRATIONS[name] for name in limits.SHELLS}


def integration_for(name: str) -> ShellIntegration:
    """The integration of the shell called ``name`` (``zsh``, ``bash`` or ``fish``)."""
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
            "pass --shell zsh, --shell bash or --shell fish"
        )
    return SHELLS[login]()

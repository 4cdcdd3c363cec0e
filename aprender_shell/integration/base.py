"""What every shell integration shares: the shipped script, its install values, what install edits.

Like click's ``ShellComplete`` with its ``source_template``, the base class does the work and
each shell's subclass says only what differs: its script file and startup file, how the shell
quotes a word and assigns a list, the line that loads the script, and (fish) where that line
goes. Nothing here assumes a POSIX shell.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

from aprender_shell import limits, paths
from aprender_shell.integration.rcfile import RcEdit, plan_install, plan_uninstall

PROGRAM = "aprender-shell"
# What install says about Ctrl-R, in every shell.
CTRL_R_NOTE = (
    "Ctrl-R: your past commands ranked for this moment, in fzf when installed (else a built-in "
    "list); Enter puts one on the line, Esc gives the line back (APRENDER_SHELL_CTRL_R=0 keeps "
    "the shell's own)."
)


def executable_command() -> list[str]:
    """The argv prefix that runs this very aprender-shell (the installed script, else ``-m``)."""
    launched = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if launched is not None and launched.name == PROGRAM:
        found = launched if launched.parent != Path(".") else None
        if found is None:
            which = shutil.which(str(launched))
            found = Path(which) if which else None
        if found is not None and os.access(found, os.X_OK):
            return [str(found.resolve())]
    return [sys.executable, "-m", "aprender_shell"]


def relay_command() -> list[str]:
    """The argv of the small relay shells talk through (no click, no package import).

    ``-I`` keeps the user's environment and folders out of its import path, ``-S`` skips
    site-packages: the relay needs only the standard library, and costs a third of the
    memory of a full ``aprender-shell`` process.
    """
    from aprender_shell.service import relay

    # Run by its file (the package is not on a -I -S path): told the stamp's path, as the
    # shells are told the socket's, by the one module that names the runtime files.
    script = str(Path(relay.__file__).resolve())
    return [sys.executable, "-I", "-S", script, "--stamp", str(paths.relay_stamp_path())]


def _setter(value: str) -> Callable[[re.Match[str]], str]:
    # A function, not a replacement string, so backslashes in paths are taken literally.
    return lambda match: f"{match.group(1)}{value}  {match.group(2)}"


class ShellIntegration:
    """One shell's integration: its script with this install's values filled in, and its setup.

    The shipped script marks each install-specific assignment with ``# @init`` on its line;
    ``script()`` rewrites exactly those lines and nothing else.
    """

    name: str = ""
    script_file: str = ""
    # The script's variables that ``script()`` fills, each on the one line marked "# @init".
    placeholders: tuple[str, ...] = ("_aprender_shell_cmd",)
    # The line that loads the integration: ``{invocation}`` runs ``init`` and prints the script.
    plain_template: str = ""
    # The same, reading the saved copy ``{cache}`` while it is newer than the shipped ``{shipped}``.
    cached_template: str = ""

    # --- what differs between shells ---------------------------------------------------

    def rc_file(self, home: Path) -> Path:
        """The file ``install`` edits (an rc file, or fish's snippet)."""
        raise NotImplementedError

    def quote(self, word: str) -> str:
        """``word`` as one literal word of this shell."""
        raise NotImplementedError

    def assignment_pattern(self, variable: str) -> re.Pattern[str]:
        """The ``# @init`` line assigning ``variable``: group 1 up to the value, 2 the mark."""
        return re.compile(rf"^(\s*{variable}=).*(# @init)$", re.M)

    def list_value(self, words: Sequence[str]) -> str:
        """``words`` as the value of a list (array) assignment."""
        return "(" + " ".join(self.quote(word) for word in words) + ")"

    def plan_install(self, home: Path, line: str) -> RcEdit:
        """The edit that makes this shell run ``line`` at start (a marked rc-file block)."""
        return plan_install(self.rc_file(home), line)

    def plan_uninstall(self, home: Path) -> RcEdit:
        """The edit that takes back what ``plan_install`` did."""
        return plan_uninstall(self.rc_file(home))

    def install_note(self, rc_text: str, home: Path) -> str | None:
        """What ``install`` should tell about how the integration will work, if anything."""
        return None

    # --- shared --------------------------------------------------------------------------

    def source_text(self) -> str:
        """The script exactly as shipped in ``shell/``."""
        return resources.files("aprender_shell.shell").joinpath(self.script_file).read_text(
            encoding="utf-8"
        )

    def values(
        self, command: Sequence[str], socket: Path, marker: Path
    ) -> dict[str, str]:
        """Every placeholder's value, written in this shell's syntax."""
        return {
            "_aprender_shell_cmd": self.list_value(command),
            "_aprender_shell_relay": self.list_value(relay_command()),
            "_aprender_shell_socket": self.quote(str(socket)),
            "_aprender_shell_marker": self.quote(str(marker)),
            "_aprender_shell_max_command": str(limits.MAX_COMMAND_CHARS),
            "_aprender_shell_agent_vars": self.quote(limits.AGENT_VARIABLES),
        }

    def script(
        self,
        command: list[str] | None = None,
        socket: Path | None = None,
        marker: Path | None = None,
    ) -> str:
        """The shipped script with this install's command, socket and marker filled in.

        ``marker`` is the file whose presence means the integration is still installed: open
        shells start no server once it is gone (``uninstall`` removes it). It defaults to the
        model, so a script loaded by hand stops starting servers when the model is deleted.
        """
        argv = command if command is not None else executable_command()
        values = self.values(
            argv,
            socket if socket is not None else paths.socket_path(),
            marker if marker is not None else paths.default_model_path(),
        )
        text = self.source_text()
        for variable in self.placeholders:
            text, count = self.assignment_pattern(variable).subn(_setter(values[variable]), text)
            if count != 1:
                raise RuntimeError(f"{self.script_file}: want one '# @init' line for {variable}")
        return text

    def init_line(self, command: list[str] | None = None, cache: Path | None = None) -> str:
        """The line that loads the integration at every start of the shell.

        With ``cache``, ``init`` also saves the script there and later shells read that file
        instead, so a shell's start costs two ``stat`` calls rather than a Python process; the
        copy is made afresh whenever the shipped script is newer (an upgrade).
        """
        argv = command if command is not None else executable_command()
        words = [*argv, "init", self.name]
        shipped = self.shipped_path()
        if cache is None or shipped is None:
            return self.plain_template.format(invocation=self._words(words))
        words += ["--cache", str(cache)]
        return self.cached_template.format(
            invocation=self._words(words), cache=self.quote(str(cache)),
            shipped=self.quote(str(shipped)),
        )

    def _words(self, words: Sequence[str]) -> str:
        return " ".join(self.quote(word) for word in words)

    def cache_path(self) -> Path:
        """Where ``install`` keeps this install's copy of the script for fast shell start-up."""
        return paths.data_dir() / f"init.{self.name}"

    def shipped_path(self) -> Path | None:
        """The shipped script as a file on disk (None when the package is not unpacked)."""
        found = resources.files("aprender_shell.shell").joinpath(self.script_file)
        return found if isinstance(found, Path) and found.is_file() else None

"""What every shell integration shares: the shipped script, its install-specific values, rc file.

Like click's ``ShellComplete``, the base class does the work and each shell subclass only says
what differs (its name, rc file and how to source the printed script).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from aprender_shell import paths

PROGRAM = "aprender-shell"
SOCKET_NAME = "server.sock"


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


def socket_path() -> Path:
    """Where the resident server listens (the same rule the server itself follows)."""
    return paths.runtime_dir() / SOCKET_NAME


def _setter(value: str) -> Callable[[re.Match[str]], str]:
    # A function, not a replacement string, so backslashes in paths are taken literally.
    return lambda match: f"{match.group(1)}{value}  {match.group(2)}"


class ShellIntegration:
    """One shell's integration: its script with this install's values filled in, and its rc file."""

    name: str = ""
    script_file: str = ""
    # The script's variables that ``script()`` sets, each on the one line marked "# @init".
    init_variables: tuple[str, ...] = ("_aprender_shell_cmd",)

    def rc_file(self, home: Path) -> Path:
        """The startup file interactive shells of this kind read."""
        raise NotImplementedError

    def install_note(self, rc_text: str, home: Path) -> str | None:
        """What ``install`` should tell about how the integration will work, if anything."""
        return None

    def source_text(self) -> str:
        """The script exactly as shipped in ``shell/``."""
        return resources.files("aprender_shell.shell").joinpath(self.script_file).read_text(
            encoding="utf-8"
        )

    def script(self, command: list[str] | None = None, socket: Path | None = None) -> str:
        """The shipped script with the command and socket path of this install filled in."""
        argv = command if command is not None else executable_command()
        where = socket if socket is not None else socket_path()
        text = self.source_text()
        values = {
            "_aprender_shell_cmd": "(" + " ".join(shlex.quote(part) for part in argv) + ")",
            "_aprender_shell_socket": shlex.quote(str(where)),
        }
        for variable in self.init_variables:
            value = values[variable]
            # The shipped file marks each install-specific line with "# @init"; only those change.
            pattern = re.compile(rf"^(\s*(?:typeset -g[a-z]* )?{variable}=).*(# @init)$", re.M)
            text, count = pattern.subn(_setter(value), text)
            if count != 1:
                raise RuntimeError(f"{self.script_file}: want one '# @init' line for {variable}")
        return text

    def init_line(self, command: list[str] | None = None, cache: Path | None = None) -> str:
        """The line a user puts in the rc file: evaluate what ``aprender-shell init`` prints.

        With ``cache``, ``init`` also saves the script there and later shells source that file
        instead, so a shell's start costs two ``stat`` calls rather than a Python process; the
        copy is made afresh whenever the shipped script is newer (an upgrade).
        """
        argv = command if command is not None else executable_command()
        words = [*argv, "init", self.name]
        shipped = self.shipped_path()
        if cache is None or shipped is None:
            return f'eval "$({" ".join(shlex.quote(part) for part in words)})"'
        words += ["--cache", str(cache)]
        invocation = " ".join(shlex.quote(part) for part in words)
        saved, source = shlex.quote(str(cache)), shlex.quote(str(shipped))
        return f'if [ {saved} -nt {source} ]; then . {saved}; else eval "$({invocation})"; fi'

    def cache_path(self) -> Path:
        """Where ``install`` keeps this install's copy of the script for fast shell start-up."""
        return paths.data_dir() / f"init.{self.name}"

    def shipped_path(self) -> Path | None:
        """The shipped script as a file on disk (None when the package is not unpacked)."""
        found = resources.files("aprender_shell.shell").joinpath(self.script_file)
        return found if isinstance(found, Path) and found.is_file() else None

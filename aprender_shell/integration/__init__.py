"""Shell integration: the zsh, bash and fish scripts ``init`` prints, and what install writes.

Never imports click, so ``init`` can be printed without the CLI's start-up cost.
"""

from __future__ import annotations

from aprender_shell.integration.base import ShellIntegration, executable_command
from aprender_shell.integration.rcfile import BEGIN, END, RcEdit, plan_install, plan_uninstall
from aprender_shell.integration.shells import (
    SHELLS,
    BashIntegration,
    FishIntegration,
    ZshIntegration,
    detect_shell,
    integration_for,
)

__all__ = [
    "BEGIN",
    "END",
    "SHELLS",
    "BashIntegration",
    "FishIntegration",
    "RcEdit",
    "ShellIntegration",
    "ZshIntegration",
    "detect_shell",
    "executable_command",
    "integration_for",
    "plan_install",
    "plan_uninstall",
]

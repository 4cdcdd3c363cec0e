"""``aprender-shell doctor``: check everything suggestions depend on, one finding a line.

Each check returns ``Finding``s: what it looked at, what it found, and, when that is wrong, what
to do. The command line prints them and exits 1 when any is wrong. Nothing here changes a
file, starts a server or prints.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from aprender_shell.errors import AprenderError


@dataclass(frozen=True)
class Finding:
    """One line of the report: ``ok`` False means something is wrong, and ``fix`` says what to
    do about it."""

    check: str
    ok: bool
    detail: str
    fix: str = ""


def run_checks(
    model_path: Path, environ: Mapping[str, str] = os.environ, parent_pid: int | None = None
) -> list[Finding]:
    """Every check, in the order a person would fix them: files first, then the server, then
    the shell. ``parent_pid`` is the shell's pid (default: this process's parent)."""
    from aprender_shell.doctor import live, local
    from aprender_shell.doctor.local import check_sync

    shell_pid = os.getppid() if parent_pid is None else parent_pid
    checks: list[tuple[str, Callable[[], list[Finding]]]] = [
        ("folders", local.check_folders),
        ("model", lambda: local.check_model(model_path)),
        ("journal", lambda: local.check_journal(model_path)),
        ("history_filter", local.check_history_filter),
        ("disk space", lambda: local.check_disk_space(model_path)),
        ("server", lambda: live.check_server(model_path)),
        ("sync", check_sync),
        ("integration", lambda: live.check_integration(environ, shell_pid)),
        ("rc file", lambda: live.check_installed(environ, shell_pid)),
    ]
    findings: list[Finding] = []
    for name, check in checks:
        try:
            findings.extend(check())
        except (AprenderError, OSError) as error:
            # One check that cannot finish must not hide the others' findings.
            findings.append(Finding(name, False, str(error)))
    return findings

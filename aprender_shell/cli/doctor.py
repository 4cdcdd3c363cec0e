"""``aprender-shell doctor``: the checks of ``aprender_shell.doctor``, one line each."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from aprender_shell.cli import cli, reports_errors
from aprender_shell.cli.options import model_option
from aprender_shell.terminal import printable


@cli.command(short_help="Check the model, server, shell setup and settings.")
@model_option("The model to check.")
@reports_errors
def doctor(model: Path | None) -> None:
    """Check everything suggestions depend on, one line each, with what to do when a check
    fails: the model (present, intact), the journal, every history_filter line, the folders'
    owners, disk space, the server (answering with this model), sync (the last merge,
    what it refused), the integration loaded in
    this shell (and its mode) and your rc file.

    Exits with status 1 when anything is wrong, 0 when all is well.
    """
    from aprender_shell.doctor import run_checks
    from aprender_shell.paths import default_model_path

    findings = run_checks(model if model is not None else default_model_path())
    width = max(len(finding.check) for finding in findings)
    for finding in findings:
        mark = "✓" if finding.ok else "✗"
        fix = f" → {finding.fix}" if finding.fix and not finding.ok else ""
        click.echo(printable(f"{mark} {finding.check:<{width}}  {finding.detail}{fix}"))
    wrong = sum(1 for finding in findings if not finding.ok)
    if wrong:
        click.echo(f"{wrong} problem{'' if wrong == 1 else 's'} found.")
        sys.exit(1)
    click.echo("All is well.")

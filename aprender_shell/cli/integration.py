"""``init``, ``install`` and ``uninstall``: putting the shell integration in place and out."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from aprender_shell import paths
from aprender_shell.cli import cli, reports_errors
from aprender_shell.fileio import atomic_write_bytes
from aprender_shell.integration import (
    SHELLS,
    RcEdit,
    ShellIntegration,
    detect_shell,
    integration_for,
    plan_install,
    plan_uninstall,
)

SHELL_CHOICE = click.Choice(sorted(SHELLS))


def _chosen(shell: str | None) -> ShellIntegration:
    return integration_for(shell) if shell else detect_shell()


def _show(edit: RcEdit, verb: str) -> None:
    """Print the rc file's name and the lines the edit adds or removes."""
    before = set(edit.before.splitlines())
    after = set(edit.after.splitlines())
    if verb == "add":
        click.echo(f"Adding to {edit.path}:\n")
        changed = [line for line in edit.after.splitlines() if line not in before]
    else:
        click.echo(f"Removing from {edit.path}:\n")
        changed = [line for line in edit.before.splitlines() if line not in after]
    for line in changed:
        if line.strip():
            click.echo(f"    {line}")
    click.echo("")


@cli.command()
@click.argument("shell", type=SHELL_CHOICE)
@click.option(
    "--cache",
    type=click.Path(dir_okay=False, path_type=Path),
    hidden=True,
    help="Also save the script to this file (the rc block written by 'install' uses this).",
)
@reports_errors
def init(shell: str, cache: Path | None) -> None:
    """Print the integration script for SHELL (zsh or bash).

    \b
    Use it in your rc file:
        eval "$(aprender-shell init zsh)"     # ~/.zshrc
        eval "$(aprender-shell init bash)"    # ~/.bashrc
    or let 'aprender-shell install' add it for you.
    """
    text = integration_for(shell).script()
    if cache is not None:
        paths.ensure_private_dir(cache.parent)
        atomic_write_bytes(cache, text.encode("utf-8"))
    click.echo(text, nl=False)


@cli.command()
@click.option("--shell", type=SHELL_CHOICE, help="The shell to set up (default: from $SHELL).")
@click.option("--dry-run", is_flag=True, help="Show the change without writing anything.")
@reports_errors
def install(shell: str | None, dry_run: bool) -> None:
    """Add the shell integration to your rc file, as one marked block.

    Running it again updates the block in place; 'aprender-shell uninstall' removes it.
    """
    integration = _chosen(shell)
    cache = integration.cache_path()
    edit = plan_install(integration.rc_file(Path.home()), integration.init_line(cache=cache))
    if not edit.changes:
        click.echo(f"{edit.path} already loads aprender-shell; nothing to change.")
    else:
        _show(edit, "add")
    note = integration.install_note(edit.before, Path.home())
    if note:
        click.echo(note)
    if dry_run:
        click.echo("Dry run: nothing written.")
        return
    # A fresh copy of the script, so an upgrade or a moved install takes effect at once.
    paths.ensure_private_dir(cache.parent)
    atomic_write_bytes(cache, integration.script().encode("utf-8"))
    if edit.changes:
        edit.apply()
        click.echo(f"Done. Open a new {integration.name} or run: source {edit.path}")


@cli.command()
@click.option("--shell", type=SHELL_CHOICE, help="Only this shell's rc file (default: every one).")
@click.option("--keep-model", is_flag=True, help="Keep the trained model and what it learned.")
@click.option("--dry-run", is_flag=True, help="Show what would be removed without removing it.")
@reports_errors
def uninstall(shell: str | None, keep_model: bool, dry_run: bool) -> None:
    """Remove the shell integration from your rc files and, unless --keep-model, the model."""
    from aprender_shell.model.journal import journal_path

    chosen = [integration_for(shell)] if shell else [cls() for _, cls in sorted(SHELLS.items())]
    home = Path.home()
    edits = [plan_uninstall(item.rc_file(home)) for item in chosen]
    for edit in edits:
        if edit.changes:
            _show(edit, "remove")
    if not any(edit.changes for edit in edits):
        names = ", ".join(str(edit.path) for edit in edits)
        click.echo(f"No aprender-shell block found in {names}.")
    files = [item.cache_path() for item in chosen]
    if not keep_model:
        model = paths.default_model_path()
        files += [model, journal_path(model)]
    present = [path for path in files if path.exists()]
    for path in present:
        click.echo(f"Deleting {path}")
    if dry_run:
        click.echo("Dry run: nothing changed.")
        return
    if not keep_model:
        _stop_server()
    for edit in edits:
        if edit.changes:
            edit.apply()
    for path in present:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    click.echo("Done. Shells already open keep the integration until they exit.")


def _stop_server() -> None:
    # A running server would save what it learned into a fresh journal after we delete it.
    from aprender_shell.service.control import stop_server

    stopped = stop_server()
    if stopped.pid is not None:
        click.echo(f"aprender-shell server stopped (pid {stopped.pid}).")

"""``aprender-shell sync``: several machines, one model, through a folder you already sync."""

from __future__ import annotations

import time
from pathlib import Path

import click

from aprender_shell.cli import cli, reports_errors
from aprender_shell.cli.options import display_path, model_option, model_path
from aprender_shell.terminal import printable


@cli.group(short_help="Share what you learn between machines through a synced folder.")
def sync() -> None:
    """Share what you learn between machines through a folder your sync tool (Syncthing,
    Dropbox, a git repository...) keeps in step. Everything written there is encrypted with a
    key kept on your machines only.

    \b
        aprender-shell sync init ~/Sync/aprender        # first machine; prints the key
        aprender-shell sync join ~/Sync/aprender --key aps1-...   # each other machine
    """


def _report(report: object, refusals: bool = True) -> None:
    from aprender_shell.sync.engine import SyncReport

    assert isinstance(report, SyncReport)
    click.echo(f"Published {report.published} commands; learned {report.learned} from other "
               f"devices" + (f" ({report.kept_out} kept out by your filters or a forget)"
                             if report.kept_out else "") + ".")
    if report.forgotten:
        click.echo(f"Forgot {report.forgotten} commands other devices forgot.")
    for line in report.refused if refusals else ():
        click.echo(f"Refused: {printable(line)}")


@sync.command(short_help="Start syncing through FOLDER (the first machine).")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@model_option("The model to sync.")
@reports_errors
def init(folder: Path, model: Path | None) -> None:
    """Make FOLDER a sync folder under a new key and publish what this device learned (its
    trained history included). The key is printed last: give it to 'sync join' elsewhere."""
    from aprender_shell.sync.engine import current_key
    from aprender_shell.sync.engine import init as start

    report = start(folder, model_path(model))
    _report(report)
    click.echo(f"On your other machines: aprender-shell sync join {display_path(folder)} "
               "--key KEY")
    click.echo("The key (keep it private: with it and the folder, anyone reads your commands):")
    click.echo(current_key())


@sync.command(short_help="Print the sync key, alone on the last line.")
@reports_errors
def key() -> None:
    """Print the key of the folder this device syncs, alone on the last line, to paste into
    'aprender-shell sync join FOLDER --key KEY' on another machine."""
    from aprender_shell.sync.engine import current_key
    from aprender_shell.sync.state import active_state

    folder = active_state().folder
    text = current_key()
    click.echo(f"The key of {printable(str(folder))} (keep it private):")
    click.echo(text)


@sync.command(short_help="Join a sync folder another machine set up.")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--key", "key_text", required=True, help="The key 'sync key' prints.")
@model_option("The model to sync.")
@reports_errors
def join(folder: Path, key_text: str, model: Path | None) -> None:
    """Join FOLDER with its KEY: publish what this device learned, learn the others'."""
    from aprender_shell.sync.engine import join as enter

    _report(enter(folder, key_text, model_path(model)))


@sync.command(short_help="Publish and merge now.")
@model_option("The model to sync.")
@reports_errors
def now(model: Path | None) -> None:
    """Publish what this device learned since the last sync and learn the other devices'
    (a running server does it by itself within seconds).

    Exits with status 1 when anything was refused (a damaged, foreign or replayed file: the
    rest is merged all the same); 'sync status' says what and why.
    """
    from aprender_shell.sync.engine import sync_now

    report = sync_now(model_path(model))
    _report(report, refusals=False)
    if report.refused:
        count = len(report.refused)
        more = f" (and {count - 1} more)" if count > 1 else ""
        raise click.ClickException(
            f"{count} refused, everything else merged: {printable(report.refused[0])}{more}; "
            "see 'aprender-shell sync status'")


@sync.command(short_help="Devices seen, their last records, what was refused.")
@reports_errors
def status() -> None:
    """Show the folder, the devices seen (the last record from each), and what the last sync
    refused and why."""
    from aprender_shell.sync.state import active_state

    state = active_state()
    click.echo(f"Folder:    {printable(str(state.folder))}")
    click.echo(f"This:      device {state.device} on {printable(state.host)}, "
               f"{state.records_published} commands published")
    click.echo(f"Last sync: {_when(state.last_sync)}")
    if state.last_error:
        click.echo(f"Failed:    {printable(state.last_error)}")
    else:
        from aprender_shell.sync import SyncError
        from aprender_shell.sync.layout import list_folder

        try:
            list_folder(Path(str(state.folder)))
        except SyncError as error:  # gone since the last sync
            click.echo(f"Failed:    {printable(str(error))}")
    click.echo("Devices:")
    if not state.peers:
        click.echo("   none other yet")
    for device, peer in sorted(state.peers.items()):
        left = ", left" if peer.left else ""
        last = ("no run times known" if peer.last_t is None
                else f"last run {_when(peer.last_t)} (its clock)")
        click.echo(f"   {device}  {printable(peer.host or '?'):<16} {peer.records:>7} commands, "
                   f"{last}{left}")
    if state.tombstones:
        click.echo(f"Forgotten: {len(state.tombstones)} patterns, applied on every device")
    for line in [*state.refused, *state.notes]:
        click.echo(f"Refused:   {printable(line)}")


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


@sync.command(short_help="Stop syncing on this device.")
@reports_errors
def leave() -> None:
    """Stop syncing: this device's key is removed and the others see it left. What it learned
    stays; joining the same folder again later resumes where it stopped."""
    from aprender_shell.sync.engine import leave as stop

    folder = stop()
    click.echo(f"This device no longer syncs with {printable(folder)}; its key is removed.")


def sync_after(path: Path, retrained: bool = False) -> None:
    """After 'update' or 'train': sync too, when this device syncs and no server does it."""
    from aprender_shell.sync.state import syncing

    if not syncing():
        return
    from aprender_shell.service.control import serving
    from aprender_shell.sync.engine import forget_applied, sync_now

    if retrained:
        forget_applied()  # the new model holds none of the other devices' folded records
    if serving(path) is not None:
        return  # the server syncs by itself
    try:
        report = sync_now(path)
    except Exception as error:  # noqa: BLE001 - the update itself succeeded
        click.echo(f"Sync failed: {printable(str(error))} ('aprender-shell sync status')")
        return
    click.echo(f"Synced: published {report.published}, learned {report.learned} from other "
               "devices.")


def print_devices() -> None:
    """For 'stats': the commands each device contributed, when this device syncs."""
    from aprender_shell.sync.state import load_state, syncing

    if not syncing():
        return
    state = load_state()
    if state is None or not state.active:
        return
    click.echo("")
    click.echo("🖥  Commands per device (published by this one, learned from the others):")
    click.echo(f"   {state.records_published:>7}  this device, {printable(state.host)} "
               f"({state.device})")
    for device, peer in sorted(state.peers.items(), key=lambda item: -item[1].records):
        left = ", left" if peer.left else ""
        click.echo(f"   {peer.records:>7}  {printable(peer.host or '?')} ({device}){left}")

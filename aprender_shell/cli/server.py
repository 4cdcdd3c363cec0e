"""``aprender-shell server``: start, run, stop, inspect and connect to the resident server."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aprender_shell.cli import cli, reports_errors
from aprender_shell.cli.options import (
    check_config_folder,
    memory_option,
    model_option,
    model_path,
)
from aprender_shell.terminal import human_bytes, printable

if TYPE_CHECKING:
    from aprender_shell.model.memory import MemoryLimit

NOT_RUNNING_EXIT = 3

MODEL_OPTION = model_option("The model to serve.")
MEMORY_OPTION = memory_option()


def _seconds(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """The server's own rule for a timeout, whether it came from the option or the variable."""
    if value is None:
        return None
    from aprender_shell.service.server import parse_seconds

    try:
        return parse_seconds(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


IDLE_OPTION = click.option(
    "--idle-timeout", metavar="SECONDS", callback=_seconds, envvar="APRENDER_SHELL_SERVER_IDLE",
    show_envvar=True, help="Exit after this many seconds without a request (default: 3600).",
)


def _model_path(model: Path | None) -> Path:
    return model_path(model).absolute()


def _served_model_path(model: Path | None) -> Path:
    check_config_folder()  # the server learns what the shells record, by its history_filter
    return _model_path(model)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")]
    shown = [f"{value}{unit}" for value, unit in parts if value][:2]
    return " ".join(shown) or "0s"


@cli.group(short_help="Run the server that serves your shells.")
def server() -> None:
    """The resident server that keeps your model open for all your shells.

    The shell integration starts it on demand; it answers on a socket only you can reach,
    reloads the model when you retrain, saves what it learns, and exits when idle.
    """


@server.command(short_help="Start the server in the background.")
@MODEL_OPTION
@MEMORY_OPTION
@IDLE_OPTION
@reports_errors
def start(model: Path | None, memory_limit: MemoryLimit | None, idle_timeout: float | None) -> None:
    """Start the server in the background (nothing to do if it runs)."""
    from aprender_shell.service.client import same_file
    from aprender_shell.service.launcher import start_in_background

    path = _served_model_path(model)
    started = start_in_background(path, memory_limit, idle_timeout)
    served = started.status.get("model_path")
    if started.already_running:
        if not same_file(served, path):
            raise click.ClickException(
                f"the server already runs (pid {started.pid}) for another model, "
                f"{printable(str(served))}: stop it first with 'aprender-shell server stop'"
            )
        click.echo(f"aprender-shell server already running (pid {started.pid}).")
        return
    shown = printable(str(path))
    click.echo(f"aprender-shell server started (pid {started.pid}), serving {shown}.")


@server.command(short_help="Run the server in the foreground.")
@MODEL_OPTION
@MEMORY_OPTION
@IDLE_OPTION
@click.option(
    "--connection-timeout", metavar="SECONDS", callback=_seconds,
    envvar="APRENDER_SHELL_CONNECTION_IDLE", show_envvar=True,
    help="Close a client connection silent this many seconds (default: 600; shells reconnect).",
)
@reports_errors
def run(model: Path | None, memory_limit: MemoryLimit | None, idle_timeout: float | None,
        connection_timeout: float | None) -> None:
    """Run the server in the foreground (until idle, or Ctrl-C)."""
    from aprender_shell.service.instance import AlreadyRunningError
    from aprender_shell.service.server import DEFAULT_CONNECTION_TIMEOUT, run_server

    try:
        run_server(_served_model_path(model), memory_limit, idle_timeout,
                   connection_timeout=connection_timeout or DEFAULT_CONNECTION_TIMEOUT)
    except AlreadyRunningError as error:
        # Not a failure: this is how the loser of two simultaneous starts ends.
        click.echo(f"{error}; nothing to do.", err=True)


@server.command(short_help="Stop the server, saving what it learned.")
@reports_errors
def stop() -> None:
    """Stop the server, letting it save what it learned."""
    from aprender_shell.service.control import stop_server

    stopped = stop_server()
    if stopped.pid is None:
        click.echo("aprender-shell server is not running.")
        return
    if not stopped.answered:
        click.echo(f"aprender-shell server (pid {stopped.pid}) did not answer; stopped it.")
    if stopped.unsaved or stopped.save_error:
        lost = (f"{stopped.unsaved} recorded command{'' if stopped.unsaved == 1 else 's'} "
                "could not be saved" if stopped.unsaved else "it could not save")
        raise click.ClickException(
            f"aprender-shell server stopped (pid {stopped.pid}), but {lost}: "
            f"{stopped.save_error}; free space or fix the folder's permissions"
        )
    click.echo(f"aprender-shell server stopped (pid {stopped.pid}).")


@server.command(short_help="Show the server's state and figures.")
@reports_errors
def status() -> None:
    """Show whether the server runs, and its model, memory and paging figures.

    Exits with status 3 when no server runs.
    """
    from aprender_shell.paths import socket_path
    from aprender_shell.service.client import server_status
    from aprender_shell.service.control import checked_runtime_dir, held_lock_pid

    checked_runtime_dir()  # a folder another account controls is refused, not read
    figures = server_status()
    if figures is None:
        hung = held_lock_pid()
        if hung is not None:
            raise click.ClickException(
                f"the server (pid {hung}) runs but does not answer: "
                "'aprender-shell server stop' ends it"
            )
        click.echo("aprender-shell server is not running.")
        sys.exit(NOT_RUNNING_EXIT)
    requests = int(figures.get("requests") or 0)
    click.echo(
        f"aprender-shell server is running (pid {figures.get('pid')}), "
        f"up {_duration(float(figures.get('uptime') or 0))}, "
        f"{requests} request{'' if requests == 1 else 's'} from shells served since it started."
    )
    click.echo(f"   Socket:          {printable(str(socket_path()))}")
    click.echo(f"   Model:           {printable(str(figures.get('model_path')))}")
    rss = figures.get("rss_bytes")
    if isinstance(rss, int):
        click.echo(f"   Process memory:  {human_bytes(rss)} resident")
    save_error = figures.get("save_error")
    if save_error:
        unsaved = int(figures.get("unsaved_records") or 0)
        click.echo(f"   Last save error: {save_error} ({unsaved} recorded command"
                   f"{'' if unsaved == 1 else 's'} not saved)")
    problems = figures.get("filter_problems")
    for problem in problems if isinstance(problems, list) else ():
        click.echo(f"   Filter problem:  {printable(str(problem))}")
    _sync_lines(figures.get("sync"))
    stats: Any = figures.get("stats")
    if not isinstance(stats, dict):
        problem = str(figures.get("model_error", "not loaded"))
        click.echo(f"   Model status:    {printable(problem)}")
        return
    click.echo(f"   Model size:      {human_bytes(stats['model_bytes'])}, "
               f"{stats['total_commands']} commands, {stats['segments']} segments")
    click.echo(f"   Loaded:          {stats['loaded_segments']} segments, "
               f"{human_bytes(stats['loaded_bytes'])} of {human_bytes(stats['memory_limit'])}")
    click.echo(f"   Paging:          {stats['hits']} hits, {stats['misses']} misses, "
               f"{stats['evictions']} evictions ({stats['hit_rate'] * 100:.1f}% hit rate) since "
               "it started, its own start-up loads included")
    learned = int(stats["learned_commands"])
    click.echo(f"   Learned:         {learned} command{'' if learned == 1 else 's'} since training")


@server.command(short_help="Relay JSON-lines requests to the server.")
@MODEL_OPTION
@MEMORY_OPTION
@click.option("--no-start", is_flag=True, help="Do not start a server; answer in-process instead.")
def connect(model: Path | None, memory_limit: MemoryLimit | None, no_start: bool) -> None:
    """Relay JSON-lines requests from stdin to the server and its answers to stdout.

    Starts the server if none runs; answers in-process if it cannot be reached. For tools
    that cannot open a Unix socket (the shells use a lighter relay). Prints nothing else on
    stdout; exits 1 when a recorded command could not be saved (a full disk, say).
    """
    from aprender_shell.service.control import relay_stream

    relayed = relay_stream(_model_path(model), memory_limit, not no_start, sys.stdin,
                           sys.stdout)
    if relayed.unsaved or relayed.save_error:
        # As 'suggest --batch': a tool must learn that what it recorded was not kept.
        raise click.ClickException(
            f"{relayed.unsaved} recorded command{'' if relayed.unsaved == 1 else 's'} "
            f"could not be saved: {relayed.save_error}; free space or fix the folder's "
            "permissions"
        )


def _sync_lines(sync: Any) -> None:
    """The status answer's sync part, when this device syncs."""
    if not isinstance(sync, dict):
        return
    last = sync.get("last_sync")
    when = ("never" if not isinstance(last, (int, float))
            else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(last)))
    click.echo(f"   Sync:            {printable(str(sync.get('folder')))}, "
               f"{sync.get('devices')} other devices, last merge {when}, "
               f"{sync.get('syncs')} syncs run by this server")
    if sync.get("error"):
        click.echo(f"   Sync failed:     {printable(str(sync['error']))}")
    refused = sync.get("refused")
    for line in refused if isinstance(refused, list) else ():
        click.echo(f"   Sync refused:    {printable(str(line))} ('aprender-shell sync status')")

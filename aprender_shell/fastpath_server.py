"""The click-free path of ``aprender-shell server run`` (fastpath.py is ``suggest``'s).

How the shells and ``server start`` start the server; importing click and the command line
cost its start more than the server's own modules. ``run_server`` understands exactly the
options of the click command (``--model``, ``--memory-limit``, ``--idle-timeout``,
``--connection-timeout`` and the variables click reads for the last two) and returns ``None``
for anything else, so the click command line says what is wrong, as before.
"""

from __future__ import annotations

import sys

_SERVER_VALUED = ("--model", "--memory-limit", "--idle-timeout", "--connection-timeout")
# The variables click reads for the options left out (cli/server.py).
_SERVER_ENVIRONMENT = {"--idle-timeout": "APRENDER_SHELL_SERVER_IDLE",
                       "--connection-timeout": "APRENDER_SHELL_CONNECTION_IDLE"}


def run_server(args: list[str]) -> int | None:
    """Run ``server run`` without importing click, or return ``None`` to defer to click."""
    import os

    given: dict[str, str] = {}
    position = 0
    while position < len(args):
        name, has_value, value = args[position].partition("=")
        if name not in _SERVER_VALUED or name in given:
            return None
        if not has_value:
            position += 1
            if position == len(args):
                return None
            value = args[position]
        given[name] = value
        position += 1
    model = given.get("--model")
    if model is not None and (not model or os.path.isdir(model)):
        return None  # click says what is wrong with it
    from aprender_shell.errors import AprenderError, UsageError
    from aprender_shell.model.memory import MemoryLimit
    from aprender_shell.service.server import DEFAULT_CONNECTION_TIMEOUT, parse_seconds

    seconds: dict[str, float | None] = {}
    for name, variable in _SERVER_ENVIRONMENT.items():
        raw = given.get(name) or os.environ.get(variable) or None
        try:
            seconds[name] = None if raw is None else parse_seconds(raw)
        except ValueError:
            return None
    try:
        limit = given.get("--memory-limit")
        memory_limit = None if limit is None else MemoryLimit.parse(limit)
    except UsageError:
        return None
    from pathlib import Path

    from aprender_shell.errors import error_message
    from aprender_shell.paths import check_private_dir, config_dir, default_model_path
    from aprender_shell.service.instance import AlreadyRunningError
    from aprender_shell.service.server import run_server as serve

    given_model = Path(model) if model is not None else None
    try:
        check_private_dir(config_dir())  # its history_filter judges what the server learns
        path = given_model
        if path is None:
            path = default_model_path()
            check_private_dir(path.parent)
        serve(path.absolute(), memory_limit, seconds["--idle-timeout"],
              connection_timeout=seconds["--connection-timeout"] or DEFAULT_CONNECTION_TIMEOUT)
    except AlreadyRunningError as error:
        # Not a failure: this is how the loser of two simultaneous starts ends.
        sys.stderr.write(f"{error}; nothing to do.\n")
    except (AprenderError, OSError) as error:
        sys.stderr.write(f"Error: {error_message(error, given_model)}\n")
        return 1
    except KeyboardInterrupt:  # before the server's own handler is installed, as click says
        sys.stderr.write("\nAborted!\n")
        return 1
    return 0


def start_server(args: list[str]) -> int | None:
    """``server start`` as the shells run it (no option, no APRENDER_SHELL_SERVER_IDLE)
    without importing click, or ``None`` to defer to click. The shells ask for the line being
    typed once this command ends, so its own start-up delays their first answer."""
    import os

    if args or os.environ.get("APRENDER_SHELL_SERVER_IDLE"):
        return None  # click reads and checks the options and the variable
    from aprender_shell.errors import AprenderError, error_message
    from aprender_shell.paths import check_private_dir, config_dir, default_model_path
    from aprender_shell.service.client import same_file
    from aprender_shell.service.launcher import start_in_background
    from aprender_shell.terminal import printable

    try:
        check_private_dir(config_dir())  # as cli/server.py: its history_filter judges learning
        path = default_model_path()
        check_private_dir(path.parent)
        path = path.absolute()
        started = start_in_background(path)
        served = started.status.get("model_path")
        if started.already_running and not same_file(served, path):
            raise AprenderError(
                f"the server already runs (pid {started.pid}) for another model, "
                f"{printable(str(served))}: stop it first with 'aprender-shell server stop'"
            )
    except (AprenderError, OSError) as error:
        sys.stderr.write(f"Error: {error_message(error, None)}\n")  # as the command line says
        return 1
    if started.already_running:
        sys.stdout.write(f"aprender-shell server already running (pid {started.pid}).\n")
    else:
        shown = printable(str(path))
        sys.stdout.write(f"aprender-shell server started (pid {started.pid}), serving {shown}.\n")
    return 0

"""``aprender-shell search``: Ctrl-R's ranked history, picked on the terminal, without click.

The shells' Ctrl-R runs ``aprender-shell search --shell zsh --cwd DIR --prev CMD -- LINE`` and
puts what it prints on the line (exit 0), or leaves the line as it was (any other exit). The
ranked commands come from the running server (it keeps the model open and its corpus read),
else from the model opened here (``model.query.search``); the user picks with fzf or the built-in
list (``picker``). The filter keys refetch the list and reopen the picker with the same query.

``run_search_args`` understands exactly the options of the click command and returns ``None``
for anything else (``--help``, a bad value), which the click command line then handles.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from aprender_shell.argv import scan
from aprender_shell.terminal import escape_field, printable

if TYPE_CHECKING:
    from aprender_shell.model.query.predictor import Predictor

SHELLS = ("zsh", "bash", "fish")
CANCELLED = 130  # as fzf, and a shell after Ctrl-C
_VALUED = {"--prev", "--cwd", "--shell", "--model"}
_FILTERS = {"--here": "folder", "--succeeded": "succeeded", "--this-host": "host"}
_FLAGS = {*_FILTERS, "--list"}


class SearchOptions:
    """One search: its context (previous commands, folder, shell) and its starting state."""

    def __init__(
        self,
        query: str = "",
        prev: list[str] | None = None,
        cwd: str | None = None,
        shell: str | None = None,
        here: bool = False,
        succeeded: bool = False,
        this_host: bool = False,
        list_only: bool = False,
        model: str | None = None,
    ) -> None:
        self.query = query
        self.prev = prev if prev is not None else []
        self.cwd = cwd
        self.shell = shell
        self.filters = {"folder": here, "succeeded": succeeded, "host": this_host}
        self.list_only = list_only
        self.model = model


def parse(args: list[str]) -> SearchOptions | None:
    """The options of a ``search`` command line, or None for what click should handle."""
    scanned = scan(args, _VALUED, _FLAGS)
    if scanned is None or len(scanned[1]) > 1:
        return None
    found, words = scanned
    options = SearchOptions(words[0] if words else "")
    for name, value in found:
        if value is None:
            if name == "--list":
                options.list_only = True
            else:
                options.filters[_FILTERS[name]] = True
        elif name == "--prev":
            options.prev.append(value)
        elif name == "--cwd":
            options.cwd = value
        elif name == "--model":
            options.model = value
        elif value in SHELLS:
            options.shell = value
        else:
            return None
    return options


def run_search_args(args: list[str]) -> int | None:
    """Run ``search`` without importing click, or return ``None`` to defer to click."""
    options = parse(args)
    return None if options is None else run_search(options)


def run_search(options: SearchOptions) -> int:
    """Fetch, pick and print; the exit status the shells read (0: a command was chosen)."""
    from aprender_shell.errors import AprenderError

    source = _Source(options)
    try:
        return _search(options, source)
    except AprenderError as error:
        sys.stderr.write(f"Error: {printable(str(error))}\n")
        return 1
    except OSError as error:
        sys.stderr.write(f"Error: {printable(str(error.strerror or error))}\n")
        return 1
    finally:
        source.close()


def _search(options: SearchOptions, source: _Source) -> int:
    if options.list_only:
        commands = source.commands(options.filters)
        if options.query.strip():
            from aprender_shell.picker import matches

            commands = [commands[at] for at in matches(options.query, commands)]
        sys.stdout.write("".join(escape_field(text) + "\n" for text in commands))
        sys.stdout.flush()
        return 0
    from aprender_shell import picker

    program = picker.fzf_program()
    query = options.query
    while True:
        commands = source.commands(options.filters)
        if program is not None:
            picked = picker.pick_with_fzf(program, commands, query, options.filters)
        else:
            picked = picker.pick_builtin(commands, query, options.filters)
        query = picked.query
        if picked.key is not None:
            name = picker.FILTER_KEYS[picked.key]
            options.filters[name] = not options.filters[name]
            continue
        if picked.command is None:
            return CANCELLED
        sys.stdout.write(picked.command)
        sys.stdout.flush()
        return 0


class _Source:
    """Where the ranked commands come from: the server when it answers, else the model."""

    def __init__(self, options: SearchOptions) -> None:
        self.options = options
        # A model named on the command line is read here: the server serves its own.
        self.ask_server = options.model is None
        self._predictor: Predictor | None = None

    def commands(self, filters: dict[str, bool]) -> list[str]:
        folder = (self.options.cwd or os.getcwd()) if filters["folder"] else None
        # As the journal names hosts (model.query.search.this_host), without importing the model.
        host = os.uname().nodename if filters["host"] else None
        if self.ask_server:
            found = self._from_server(folder, filters["succeeded"], host)
            if found is not None:
                return found
            self.ask_server = False
        return self._from_model(folder, filters["succeeded"], host)

    def _from_server(
        self, folder: str | None, succeeded: bool, host: str | None
    ) -> list[str] | None:
        from aprender_shell.service.client import Client, ServerUnavailableError

        request: dict[str, Any] = {
            "search": True, "prev": self.options.prev, "cwd": self.options.cwd,
            "shell": self.options.shell, "folder": folder, "succeeded": succeeded, "host": host,
        }
        try:
            client = Client(timeout=10.0)
            if not client.socket_path.exists():
                return None
            with client:
                answer = client.request(request)
        except ServerUnavailableError:
            return None
        commands = answer.get("commands")
        if isinstance(commands, list) and all(isinstance(text, str) for text in commands):
            return commands
        return None  # an older server, or one that cannot open its model: read it here

    def _from_model(self, folder: str | None, succeeded: bool, host: str | None) -> list[str]:
        from pathlib import Path

        from aprender_shell.model.query.predictor import Predictor
        from aprender_shell.model.query.search import SearchFilters, ranked_commands

        if self._predictor is None:
            if self.options.model is None:
                from aprender_shell.paths import check_private_dir, data_dir

                check_private_dir(data_dir())  # another account's folder: refused before reading
            model = Path(self.options.model) if self.options.model else None
            self._predictor = Predictor.open(model)
        return ranked_commands(
            self._predictor, self.options.prev, self.options.cwd, self.options.shell,
            SearchFilters(folder, succeeded, host),
        )

    def close(self) -> None:
        if self._predictor is not None:
            self._predictor.close()
            self._predictor = None

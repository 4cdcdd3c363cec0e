"""The click-free path of ``aprender-shell suggest``.

``run_suggest`` understands exactly the options of the click command (``-k``, ``--prev``,
``--cwd``, ``--model``, ``--memory-limit`` and a prefix) and returns ``None`` for anything
else — ``--help``, ``--batch``, a malformed value — so the click command line, the single
source of truth for help and validation, handles it instead.
"""

from __future__ import annotations

import sys

from aprender_shell.argv import scan
from aprender_shell.limits import DEFAULT_K, MAX_K
from aprender_shell.terminal import suggestion_line

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from aprender_shell.model.memory import MemoryLimit

_VALUED = {"-k", "--prev", "--cwd", "--model", "--memory-limit"}


class _Query:
    """The options of one ``suggest`` command line."""

    def __init__(self) -> None:
        self.prefix: str | None = None
        self.k = DEFAULT_K
        self.prev: list[str] = []
        self.cwd: str | None = None
        self.model: str | None = None
        self.memory_limit: MemoryLimit | None = None


def _parse(args: list[str]) -> _Query | None:
    scanned = scan(args, _VALUED)
    if scanned is None or len(scanned[1]) > 1:
        return None
    query = _Query()
    found, words = scanned
    query.prefix = words[0] if words else None
    for name, value in found:
        if value is None:
            return None  # no flag is scanned: every option takes a value
        if name == "-k":
            if not value.isdigit() or not 1 <= int(value) <= MAX_K:
                return None
            query.k = int(value)
        elif name == "--prev":
            query.prev.append(value)
        elif name == "--cwd":
            query.cwd = value
        elif name == "--model":
            query.model = value
        else:
            from aprender_shell.errors import UsageError
            from aprender_shell.model.memory import MemoryLimit

            try:
                query.memory_limit = MemoryLimit.parse(value)
            except UsageError:
                return None  # click says what is wrong, as for every bad option
    return query


def run_suggest(args: list[str]) -> int | None:
    """Answer ``suggest`` without importing click, or return ``None`` to defer to click."""
    query = _parse(args)
    if query is None:
        return None
    from aprender_shell.errors import AprenderError, error_message
    from aprender_shell.model.query.predictor import Predictor

    model = query.model or None  # a str: pathlib imports re, which a cold suggest does not need
    try:
        if model is None:
            from aprender_shell.paths import check_private_dir, data_folder

            check_private_dir(data_folder())  # another account's folder: refused before reading
        with Predictor.open(model, query.memory_limit) as predictor:
            suggestions = predictor.suggest(
                query.prefix or "", k=query.k, prev=query.prev, cwd=query.cwd
            )
    except (AprenderError, OSError) as error:
        sys.stderr.write(f"Error: {error_message(error, model)}\n")  # as the command line says
        return 1
    out = sys.stdout
    try:
        for suggestion in suggestions:
            out.write(suggestion_line(suggestion.text, suggestion.p, suggestion.partial) + "\n")
        out.flush()
    except BrokenPipeError:  # the reader went away (`| head -1`): exit quietly, as click does
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        return 1
    return 0


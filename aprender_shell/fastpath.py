"""The click-free path of ``aprender-shell suggest``.

``run_suggest`` understands exactly the options of the click command (``-k``, ``--prev``,
``--cwd``, ``--model``, ``--memory-limit`` and a prefix) and returns ``None`` for anything
else — ``--help``, ``--batch``, a malformed value — so the click command line, the single
source of truth for help and validation, handles it instead.
"""

from __future__ import annotations

import sys

_VALUED = {"-k", "--prev", "--cwd", "--model", "--memory-limit"}


def _parse(args: list[str]) -> dict[str, object] | None:
    options: dict[str, object] = {
        "prefix": None,
        "k": 5,
        "prev": [],
        "cwd": None,
        "model": None,
        "memory_limit": None,
    }
    position = 0
    while position < len(args):
        arg = args[position]
        if arg.startswith("-") and arg != "-":
            name, has_value, value = arg.partition("=")
            if name not in _VALUED:
                return None
            if not has_value:
                position += 1
                if position == len(args):
                    return None
                value = args[position]
            if name == "-k":
                if not value.isdigit() or not 1 <= int(value) <= 100:
                    return None
                options["k"] = int(value)
            elif name == "--prev":
                options["prev"].append(value)  # type: ignore[attr-defined]
            elif name == "--memory-limit":
                try:
                    megabytes = float(value)
                except ValueError:
                    return None
                from aprender_shell.model.layout import MIN_MEMORY_LIMIT

                if not MIN_MEMORY_LIMIT <= megabytes * 1024 * 1024 < 2**53:
                    return None  # click explains the range (NaN fails here too)
                options["memory_limit"] = int(megabytes * 1024 * 1024)
            else:
                options[name.lstrip("-")] = value
        elif options["prefix"] is None:
            options["prefix"] = arg
        else:
            return None
        position += 1
    return options


def run_suggest(args: list[str]) -> int | None:
    """Answer ``suggest`` without importing click, or return ``None`` to defer to click."""
    options = _parse(args)
    if options is None:
        return None
    from pathlib import Path

    from aprender_shell.errors import AprenderError
    from aprender_shell.model.predictor import Predictor

    model = options["model"]
    try:
        with Predictor.open(
            Path(str(model)) if model else None, options["memory_limit"]
        ) as predictor:  # type: ignore[arg-type]
            suggestions = predictor.suggest(
                str(options["prefix"] or ""),
                k=int(options["k"]),  # type: ignore[call-overload]
                prev=list(options["prev"]),  # type: ignore[call-overload]
                cwd=options["cwd"],  # type: ignore[arg-type]
            )
    except AprenderError as error:
        sys.stderr.write(f"Error: {error}\n")
        return 1
    except OSError as error:
        sys.stderr.write(f"Error: {error.strerror or error}\n")
        return 1
    out = sys.stdout
    for suggestion in suggestions:
        text = suggestion.text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
        out.write(f"{text}\t{suggestion.score:.4f}\n")
    out.flush()
    return 0

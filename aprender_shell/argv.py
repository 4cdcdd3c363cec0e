"""Options read without click, for the commands someone is waiting on.

``suggest`` (``fastpath``) and Ctrl-R's ``search`` (``ctrl_r``) skip click, whose import alone
costs more than Python's start-up. Both read their command line with ``scan``, which knows the
grammar click gives them (``--name value``, ``--name=value``, flags, ``--`` ending the options)
and answers None for anything else (``--help``, an unknown option, a missing value), so that
click, the one source of help and errors, says what is wrong. Imports nothing.
"""

from __future__ import annotations

from collections.abc import Collection


def scan(
    args: list[str], valued: Collection[str], flags: Collection[str] = ()
) -> tuple[list[tuple[str, str | None]], list[str]] | None:
    """The options of ``args`` in order as ``(name, value)`` (value None: a flag) and the
    other words; None for what only click should answer: an option not in ``valued`` or
    ``flags``, a flag given a value, an option missing its value."""
    options: list[tuple[str, str | None]] = []
    words: list[str] = []
    position = 0
    while position < len(args):
        arg = args[position]
        if arg == "--":
            words += args[position + 1 :]
            break
        if arg.startswith("-") and arg != "-":
            name, has_value, value = arg.partition("=")
            if name in flags and not has_value:
                options.append((name, None))
            elif name in valued:
                if not has_value:
                    position += 1
                    if position == len(args):
                        return None
                    value = args[position]
                options.append((name, value))
            else:
                return None
        else:
            words.append(arg)
        position += 1
    return options, words

"""Entry point of ``aprender-shell`` and ``python -m aprender_shell``.

``suggest`` runs on every keystroke of a user who has no server, so its common form skips
click (whose import alone costs more than Python's start-up); anything the fast path does not
recognise, including ``--help`` and every error, goes to the click command line. ``search``
(the shells' Ctrl-R) skips click the same way: the list should appear at once; so do
``server run`` and ``server start`` (as the shells run it), on which the shells' first
answer waits.
"""

from __future__ import annotations

import sys


def main() -> None:
    argv = sys.argv[1:]
    if argv[:1] == ["suggest"]:
        from aprender_shell.fastpath import run_suggest

        code = run_suggest(argv[1:])
        if code is not None:
            sys.exit(code)
    elif argv[:2] == ["server", "run"]:
        from aprender_shell.fastpath_server import run_server

        code = run_server(argv[2:])
        if code is not None:
            sys.exit(code)
    elif argv[:2] == ["server", "start"]:
        from aprender_shell.fastpath_server import start_server

        code = start_server(argv[2:])
        if code is not None:
            sys.exit(code)
    elif argv[:1] == ["search"]:
        from aprender_shell.ctrl_r import run_search_args

        code = run_search_args(argv[1:])
        if code is not None:
            sys.exit(code)
    from aprender_shell.cli import main as cli_main

    cli_main(argv)


if __name__ == "__main__":
    main()

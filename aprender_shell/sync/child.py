"""The server's sync (``python -m aprender_shell.sync.child MODEL``): one sync in a child
process, at a lower priority from its first line, before it imports anything heavy.

A sync starts at most every ``watch.PUBLISH_INTERVAL`` while commands are recorded, and each
one pays an interpreter's start, the cipher's import and the decryption: on a machine with few
cores that competed with the server answering keystrokes, and a synced server answered
slower than one that does not sync. Niced, it takes what the keystrokes leave, as a fold does.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence


def run(argv: Sequence[str]) -> int:
    with contextlib.suppress(OSError):
        os.nice(10)  # background work: the server answering the shells comes first
    from aprender_shell.sync.engine import main

    return main(argv)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))

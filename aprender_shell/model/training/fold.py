"""Folding: what the shells taught the server goes into the model's segments by itself.

Past ``FOLD_RECORDS`` unfolded records (model/learned/newest.py) the server starts a fold in a
child process (``python -m aprender_shell.model.training.fold``: the server's memory and GIL
stay with the shells). A fold is ``update``'s compaction (update.py) under the writer lock:
the model retrained on its corpus plus the journal, put in place with the journal cut to what
was appended meanwhile.

The swap happens in three steps under the journal's lock, any of which a ``kill -9`` may cut
short: the journal is rewritten with a mark (``folded_into``: the new model's generation and
how many of its records that model holds), the new model is put in place, and the journal is
cut to the records after them. A model that finds a journal marked for it reads only the
records past the mark, so no acknowledged record is lost or counted twice at any step.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aprender_shell.model.memory import MemoryLimit

# A test names a step here to have the fold kill itself (SIGKILL) there: see ``step``.
KILL_AT_ENV = "APRENDER_SHELL_FOLD_KILL_AT"
# A test sets "STEP:FOLDER" here to have the fold stop at a step: it creates FOLDER/paused and
# waits there, holding what it holds at that step, until FOLDER/resume exists.
PAUSE_AT_ENV = "APRENDER_SHELL_FOLD_PAUSE_AT"
STEPS = ("locked", "staged", "marked", "swapped", "cut")


def step(name: str) -> None:
    """A step of a fold (``STEPS``); dies by ``kill -9`` there, or waits, when a test hook
    asks."""
    if os.environ.get(KILL_AT_ENV) == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
    at, _, folder = os.environ.get(PAUSE_AT_ENV, "").partition(":")
    if at == name and folder:
        import time

        Path(folder, "paused").touch()
        while not Path(folder, "resume").exists():
            time.sleep(0.01)


def fold(model_path: Path, memory_limit: MemoryLimit | None = None) -> int:
    """Fold the journal of the model at ``model_path`` into it; returns the records folded
    (0: nothing to fold, or another writer changed the journal meanwhile)."""
    from aprender_shell.model.learned.journal import Journal
    from aprender_shell.model.memory import MemoryLimit
    from aprender_shell.model.training.update.compaction import compact
    from aprender_shell.model.training.writer import index_of, writer

    with writer(model_path) as w:
        step("locked")
        index = index_of(model_path)
        journal = Journal(model_path, index.generation)
        unfolded = len(journal.read().records)
        if not unfolded:
            return 0
        limit = MemoryLimit.choose(memory_limit, index.memory_limit)
        report = compact(w, index, journal, limit, None)
        return unfolded if report is not None else 0


def main(argv: list[str]) -> int:
    """``python -m aprender_shell.model.training.fold MODEL [MEMORY_LIMIT]``: the server's
    child."""
    from aprender_shell.errors import AprenderError
    from aprender_shell.model.memory import MemoryLimit

    if len(argv) not in (1, 2):
        print("usage: python -m aprender_shell.model.training.fold MODEL [MEMORY_LIMIT]")
        return 2
    with contextlib.suppress(OSError):
        os.nice(10)  # background work: the server answering the shells comes first
    try:
        limit = MemoryLimit.parse(argv[1]) if len(argv) == 2 else None
        folded = fold(Path(argv[0]), limit)
    except (AprenderError, OSError) as error:
        print(f"fold failed: {error}")
        return 1
    print(f"folded {folded} records")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))

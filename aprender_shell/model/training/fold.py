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

The retraining holds the corpus as columns (entries.py) and spills its n-gram count to sorted
runs on disk past its share of the memory limit (tables/ngrams.py); the child then says its
peak memory against the limit, held or not (``memory_note``).
"""

from __future__ import annotations

import contextlib
import os
import sys
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
# Reached, between "locked" and "staged", only by a fold whose n-gram count outgrew its share of
# the memory limit, once its first sorted run is on disk (tables/ngrams.py).
SPILLED = "spilled"
# Reached, between "locked" and "staged", once the new model's first segment is in the private
# file its streaming bundle builder writes (bundle/builder.py), before the n-grams are counted.
STREAMED = "streamed"


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


def fold(
    model_path: Path,
    memory_limit: MemoryLimit | None = None,
    chosen: list[MemoryLimit] | None = None,
) -> int:
    """Fold the journal of the model at ``model_path`` into it; returns the records folded
    (0: nothing to fold, or another writer changed the journal meanwhile). The limit the fold
    trained for (``memory_limit``, else the model's) is appended to ``chosen``."""
    from aprender_shell.model.learned.journal import Journal
    from aprender_shell.model.memory import MemoryLimit
    from aprender_shell.model.training.update.compaction import compact
    from aprender_shell.model.training.writer import index_of, writer

    with writer(model_path) as w:
        step("locked")
        index = index_of(model_path)
        journal = Journal(model_path, index.generation)
        limit = MemoryLimit.choose(memory_limit, index.memory_limit)
        if chosen is not None:
            chosen.append(limit)
        unfolded = len(journal.read().records)
        if not unfolded:
            return 0
        report = compact(w, index, journal, limit, None)
        return unfolded if report is not None else 0


def resident_mb(field: str = "VmHWM") -> float | None:
    """This process's resident memory in MB: its peak (``VmHWM``) or now (``VmRSS``); None
    where /proc does not say (not Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def memory_note(start: float | None, limit: MemoryLimit) -> str | None:
    """What the fold's peak memory was against ``limit`` (``start``: the process's resident
    memory once its code was loaded, the interpreter's floor): said plainly, held or not."""
    peak = resident_mb()
    if start is None or peak is None:
        return None
    grown = max(0.0, peak - start)
    held = "held" if grown * 2**20 <= limit.size else "NOT held"
    return (f"fold memory: peak {peak:.1f} MB, {grown:.1f} MB above the {start:.1f} MB its "
            f"code takes; memory limit {limit.size / 2**20:g} MB: {held}")


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
    # Loaded before the floor is taken: what a fold adds is its data, measured against the limit.
    import aprender_shell.model.training.update.compaction  # noqa: F401

    start = resident_mb("VmRSS")
    chosen: list[MemoryLimit] = []
    try:
        limit = MemoryLimit.parse(argv[1]) if len(argv) == 2 else None
        folded = fold(Path(argv[0]), limit, chosen)
    except (AprenderError, OSError) as error:
        print(f"fold failed: {error}")
        return 1
    print(f"folded {folded} records", flush=True)
    note = memory_note(start, chosen[0]) if folded and chosen else None
    if note is not None:
        # On stderr (the server logs both): stdout's one line is what callers read.
        print(note, file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

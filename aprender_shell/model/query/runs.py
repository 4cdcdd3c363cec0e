"""Where, in which shell and how well commands ran: the model's tables and the overlay as one.

What the shells recorded since training is in the overlay (learned/overlay.py); what a fold or
``update`` folded into the model is in its ``dir`` and ``run`` tables (store/runs.py). The
predictor asks here, so a folder's or a shell's preferences read the same before a fold and
after it: the counts of both are added.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aprender_shell.limits import SHELLS
from aprender_shell.model.learned.overlay import Overlay
from aprender_shell.model.store.runs import NO_RUNS, RunCounts, RunTables

# Look-ups of the model's run table kept between keystrokes: a query asks for each of its few
# dozen candidates, and the next keystroke for mostly the same ones. Bounded: about 50 KB.
CACHED_RUNS = 256


class RunContext:
    """The folder, shell and exit-status counts of an open model and what it learned since."""

    __slots__ = ("_tables", "_folder", "_runs")

    def __init__(self, tables: RunTables) -> None:
        self._tables = tables
        # The model's counts for the last folder asked about (a shell's keystrokes share one).
        self._folder: tuple[str, dict[str, int]] | None = None
        self._runs: dict[str, RunCounts | None] = {}

    @property
    def segments(self) -> int:
        """How many segments the model's folder and run tables take."""
        return self._tables.segments

    def folder(self, cwd: str, overlay: Overlay) -> Mapping[str, int]:
        """How often each command ran in ``cwd``: the model's most run there, plus the
        overlay's."""
        if self._folder is None or self._folder[0] != cwd:
            self._folder = (cwd, self._tables.folder(cwd))
        folded = self._folder[1]
        learned = overlay.in_directory(cwd)
        if not folded:
            return learned
        if not learned:
            return folded
        merged = dict(folded)
        for text, count in learned.items():
            merged[text] = merged.get(text, 0) + count
        return merged

    def runs(self, command: str, overlay: Overlay) -> RunCounts | None:
        """How ``command``'s recorded runs went, folded and learned (None: none recorded)."""
        cache = self._runs
        if not self._tables.has_runs:
            folded = None
        elif command in cache:
            folded = cache[command]
        else:
            if len(cache) >= CACHED_RUNS:
                cache.clear()
            folded = cache[command] = self._tables.runs(command)
        learned = overlay.runs(command)
        if learned is None:
            return folded
        return (folded or NO_RUNS).plus(learned)
    def shell_share(self, overlay: Overlay) -> Callable[[str, str], float | None]:
        """A command's share of its recorded uses run in a shell (None: no shell recorded for
        it, or a shell this model does not tell apart)."""

        def share(command: str, shell: str) -> float | None:
            if shell not in SHELLS:
                return None
            counts = self.runs(command, overlay)
            if counts is None:
                return None
            uses = counts.shells
            total = uses[0] + uses[1] + uses[2]
            return uses[SHELLS.index(shell)] / total if total else None

        return share

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


class RunContext:
    """The folder, shell and exit-status counts of an open model and what it learned since."""

    __slots__ = ("_tables",)

    def __init__(self, tables: RunTables) -> None:
        self._tables = tables

    def folder(self, cwd: str, overlay: Overlay) -> Mapping[str, int]:
        """How often each command ran in ``cwd``: the model's most run there, plus the
        overlay's."""
        folded = self._tables.folder(cwd)
        learned = overlay.in_directory(cwd)
        if not folded:
            return learned
        if learned:
            for text, count in learned.items():
                folded[text] = folded.get(text, 0) + count
        return folded

    def runs(self, command: str, overlay: Overlay) -> RunCounts | None:
        """How ``command``'s recorded runs went, folded and learned (None: none recorded)."""
        folded = self._tables.runs(command)
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

"""What a command's exit status says about offering it again.

A command whose last run failed weighs less; one whose last run failed as a usage error or was
never run at all (a typo, a missing program, a bad option) is not offered until a run of it
succeeds. Known from the exit statuses the shells record: the journal's records since training
tell the last run and how it failed; what a fold or ``update`` folded into the model survives as
its run table's counts (store/runs.py, exits 0 and others), read through ``runs``. Those counts
do not tell a usage error from another failure, so a folded command that never exited 0 is
taken for one that never ran, until a run of it succeeds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from aprender_shell.limits import INTERRUPTED

# How a command's recorded runs went: (zsh, bash, fish, exited 0, exited otherwise), as
# store/runs.py's RunCounts, folded and learned together; None when none were recorded.
Runs = Callable[[str], Sequence[int] | None]

# Usage errors and "not found": bash's and zsh's misuse of a builtin (2), found but not
# executable (126), not found (127); fish's invalid arguments (121), invalid command name
# (123), wildcard without a match (124), found but not executable (125); git's usage error
# (129, ``usage()``; docker's own failure, a bad flag included, is 125 as well).
NEVER_RAN = frozenset({2, 121, 123, 124, 125, 126, 127, 129})
# What a command whose last run failed keeps of its score.
FAILED_WEIGHT = 0.5
# Commands remembered as failing; past it the oldest are forgotten (a bound, not a policy).
MAX_FAILING = 4096


class Outcomes:
    """The commands whose last recorded run failed, and how."""

    __slots__ = ("_failing",)

    def __init__(self) -> None:
        # command -> True when it failed as a usage error or "not found"
        self._failing: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self._failing)

    def note(self, command: str, exit_status: int | None) -> None:
        """Learn one run's exit status (None: the shell did not say)."""
        if exit_status is None or exit_status in INTERRUPTED:
            return
        if exit_status == 0:
            self._failing.pop(command, None)
            return
        # the last run decides; moved to the end, the oldest failure is the first forgotten
        self._failing.pop(command, None)
        self._failing[command] = exit_status in NEVER_RAN
        if len(self._failing) > MAX_FAILING:
            del self._failing[next(iter(self._failing))]

    def noting(self, records: Iterable[Mapping[str, Any]]) -> Iterator[Any]:
        """Journal records passed through unchanged, each one's exit status noted on the way."""
        for record in records:
            command, status = record.get("c"), record.get("exit")
            if isinstance(command, str) and (status is None or isinstance(status, int)):
                self.note(command, status)
            yield record

    def factor(self, command: str, runs: Runs | None = None) -> float:
        """What the exit statuses leave of ``command``'s score: 1, ``FAILED_WEIGHT`` or 0. A
        command whose last recorded run is not in the journal asks ``runs``: failed and never
        exited 0 (before a fold, say) is 0."""
        usage = self._failing.get(command)
        if usage is None:
            counts = runs(command) if runs is not None else None
            return 0.0 if counts is not None and counts[4] and not counts[3] else 1.0
        return 0.0 if usage else FAILED_WEIGHT

    def weigh(self, results: dict[str, float], runs: Runs | None = None) -> dict[str, float]:
        """``results`` with every failing command's share reduced (or gone); a new dict when
        any changed."""
        factor = self.factor
        weighed: dict[str, float] | None = None
        for text in results:
            kept = factor(text, runs)
            if kept == 1.0:
                continue
            if weighed is None:
                weighed = dict(results)
            if kept:
                weighed[text] *= kept
            else:
                del weighed[text]
        return results if weighed is None else weighed

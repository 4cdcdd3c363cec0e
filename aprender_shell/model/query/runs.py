"""Where, in which shell and how well commands ran: the model's tables and the overlay as one.

What the shells recorded since training is in the overlay (learned/overlay.py); what a fold or
``update`` folded into the model is in its ``dir`` and ``run`` tables (store/runs.py). The
predictor asks here, so a folder's or a shell's preferences read the same before a fold and
after it: the counts of both are added.

Exit statuses (``Outcomes``): a command whose last run failed weighs less; one whose last run
failed as a usage error or was never run at all (a typo, a missing program, a bad option) is
not offered until a run of it succeeds. The journal's records since training tell it, on top of
what training found in the corpus rows (the model's ``exits`` entry), so a fold keeps it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping

from aprender_shell.bundle import BundleError
from aprender_shell.bundle.jsontext import loads
from aprender_shell.limits import INTERRUPTED, SHELLS
from aprender_shell.model.learned.overlay import Overlay
from aprender_shell.model.store.runs import NO_RUNS, RunCounts, RunTables

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from typing import Any, TypeVar

    from aprender_shell.bundle import PagedBundle

    Found = TypeVar("Found")

# Look-ups of the model's run and host tables kept between keystrokes: a query asks for each
# of its few dozen candidates, the next keystroke for mostly the same ones, and a day's typing
# for a few thousand (2,721 over the year benchmark's 2,000 queries). Kept at 256 and cleared
# when full, three look-ups in four searched the table again, and a model with run tables (any
# model once folded) answered 1.3x slower than the same model before. Bounded by the memory
# limit (what is kept lies outside the paged segments it holds): one look-up per 16 KiB of it,
# from 64 to 2,048 (1,024, about 0.25 MB, at the default 16 MB), the oldest quarter dropped
# when full.
CACHED_RUNS = 2048
LIMIT_PER_LOOKUP = 16384


class RunContext:
    """The folder, shell and exit-status counts of an open model and what it learned since."""

    __slots__ = ("_tables", "_folder", "_runs", "_hosts", "_kept")

    def __init__(self, tables: RunTables, memory_limit: int) -> None:
        self._tables = tables
        self._kept = max(64, min(CACHED_RUNS, memory_limit // LIMIT_PER_LOOKUP))
        # The model's counts for the last folder asked about (a shell's keystrokes share one).
        self._folder: tuple[str, dict[str, int]] | None = None
        self._runs: dict[str, RunCounts | None] = {}
        self._hosts: dict[str, tuple[int, int] | None] = {}

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
        folded = self._folded_runs(command) if self._tables.has_runs else None
        learned = overlay.runs(command)
        if learned is None:
            return folded
        return (folded or NO_RUNS).plus(learned)

    def _folded_runs(self, command: str) -> RunCounts | None:
        return _looked_up(self._runs, command, self._tables.runs, self._kept)

    def shell_share(self, overlay: Overlay) -> Callable[[str, str], float | None]:
        """A command's share of its recorded uses run in a shell (None: no shell recorded for
        it, or a shell this model does not tell apart)."""
        if not self._tables.has_runs:
            # Nothing folded: the overlay's counts alone, asked directly (this is called for
            # every candidate of every keystroke).
            return overlay.shell_share
        runs = self.runs

        def share(command: str, shell: str) -> float | None:
            if shell not in SHELLS:
                return None
            counts = runs(command, overlay)
            if counts is None:
                return None
            uses = counts.shells
            total = uses[0] + uses[1] + uses[2]
            return uses[SHELLS.index(shell)] / total if total else None

        return share

    def host_share(self, overlay: Overlay) -> Callable[[str], float | None] | None:
        """A command's share of its recorded uses that ran on this host, folded and learned
        (None: all of them did, as far as is known); None for every command when nothing ran
        on another host (the preference is then left out, as if no host were known)."""
        if not self._tables.has_hosts:
            # Nothing folded: the overlay's alone, asked directly, if it knows of any.
            return overlay.host_share if overlay.away_runs else None
        hosts = self._folded_hosts

        def share(command: str) -> float | None:
            folded = hosts(command)
            if folded is None:
                return overlay.host_share(command)
            uses, away = folded
            learned = overlay.host_runs(command)
            if learned is not None:
                uses, away = uses + learned[0], away + learned[1]
            return 1.0 - away / uses

        return share

    def _folded_hosts(self, command: str) -> tuple[int, int] | None:
        # Kept between keystrokes like the run table's look-ups: the host table was read per
        # candidate and keystroke, a segment search each time.
        return _looked_up(self._hosts, command, self._tables.hosts, self._kept)


def _looked_up(
    cache: dict[str, Found], command: str, read: Callable[[str], Found], most: int
) -> Found:
    """``command``'s look-up, kept in ``cache``: at most ``most``, the oldest quarter (the first
    looked up: dicts keep order) dropped when it is full."""
    if command in cache:
        return cache[command]
    if len(cache) >= most:
        for oldest in list(itertools.islice(cache, len(cache) // 4 or 1)):
            del cache[oldest]
    found = cache[command] = read(command)
    return found


# The bundle entry training writes (training/run_tables.py's ``failing_table``): the commands
# whose last recorded run failed, as of training, so a fold keeps what the journal said.
EXITS_ENTRY = "exits"

# Usage errors and "not found": bash's and zsh's misuse of a builtin (2), found but not
# executable (126), not found (127); fish's invalid arguments (121), invalid command name
# (123), wildcard without a match (124), found but not executable (125); git's usage error
# (129, ``usage()``; docker's own failure, a bad flag included, is 125 as well).
NEVER_RAN = frozenset({2, 121, 123, 124, 125, 126, 127, 129})
# What a command whose last run failed keeps of its score.
FAILED_WEIGHT = 0.5
# Commands remembered as failing; past it the oldest are forgotten (a bound, not a policy).
MAX_FAILING = 4096
# A query process keeps one per this many bytes of its memory limit, 64 at least (4,096, all of
# them, from 16 MB; 256 at 1 MB): each costs about 100 bytes outside the paged segments, and at
# 1 MB all 4,096 held about 185 KiB, more than the model's index.
LIMIT_PER_FAILING = 4096


def failing_kept(memory_limit: int) -> int:
    """How many failing commands a process within ``memory_limit`` bytes remembers."""
    return max(64, min(MAX_FAILING, memory_limit // LIMIT_PER_FAILING))


class Outcomes:
    """The commands whose last recorded run failed, and how (the newest ``kept``)."""

    __slots__ = ("_failing", "_kept")

    def __init__(self, failing: Iterable[tuple[str, bool]] = (), kept: int = MAX_FAILING) -> None:
        # command -> True when it failed as a usage error or "not found", oldest first
        self._failing: dict[str, bool] = {}
        self._kept = kept
        for command, usage in failing:
            self._failing.pop(command, None)
            self._failing[command] = usage
            if len(self._failing) > kept:
                del self._failing[next(iter(self._failing))]

    def __bool__(self) -> bool:
        return bool(self._failing)

    def __iter__(self) -> Iterator[tuple[str, bool]]:
        return iter(self._failing.items())

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
        if len(self._failing) > self._kept:
            del self._failing[next(iter(self._failing))]

    def noting(self, records: Iterable[Mapping[str, Any]]) -> Iterator[Any]:
        """Journal records passed through unchanged, each one's exit status noted on the way."""
        for record in records:
            command, status = record.get("c"), record.get("exit")
            if isinstance(command, str) and (status is None or isinstance(status, int)):
                self.note(command, status)
            yield record

    def factor(self, command: str) -> float:
        """What the exit statuses leave of ``command``'s score: 1, ``FAILED_WEIGHT`` or 0."""
        usage = self._failing.get(command)
        if usage is None:
            return 1.0
        return 0.0 if usage else FAILED_WEIGHT

    def weigh(self, results: dict[str, float]) -> dict[str, float]:
        """``results`` with every failing command's share reduced (or gone); a new dict when
        any changed."""
        failing = [text for text in results if text in self._failing]
        if not failing:
            return results
        weighed = dict(results)
        for text in failing:
            factor = self.factor(text)
            if factor:
                weighed[text] *= factor
            else:
                del weighed[text]
        return weighed


def read_outcomes(bundle: PagedBundle, kept: int = MAX_FAILING) -> Outcomes:
    """What the model's ``exits`` entry says (none: a model trained before it, or on history
    files alone), its newest ``kept``; raises ``BundleError`` for a damaged one."""
    if EXITS_ENTRY not in bundle:
        return Outcomes(kept=kept)
    raw = bundle.get_model(EXITS_ENTRY)
    bundle.evict(EXITS_ENTRY)
    try:
        rows = loads(raw)
    except (ValueError, RecursionError):
        rows = None
    if not isinstance(rows, list) or not all(
        isinstance(row, list) and len(row) == 2 and isinstance(row[0], str)
        and isinstance(row[1], bool) for row in rows
    ):
        raise BundleError("the model's exits entry is damaged: retrain with 'aprender-shell train'")
    return Outcomes(((text, usage) for text, usage in rows[-kept:]), kept)

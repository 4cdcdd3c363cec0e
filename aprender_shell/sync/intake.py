"""Taking in the other devices' records in bounded memory, a segment at a time.

A merge may bring hundreds of thousands of records (a device that joins publishes its whole
corpus). Held as journal dicts they cost about a kilobyte each, several times over; so the
intake keeps a few (up to ``JOURNAL_AT_MOST``) as records, which enter the journal as they
are (the server replays them, no retraining), and past that keeps each as the corpus entry a
fold makes of it (its command and context shared with every equal one), then folds them into
the model in one retraining on the stored corpus, the journal and them (``fold_in``), as
``train`` would on as many commands.

Each record is judged as it arrives: one already in the journal (by device and number) is
skipped, one this device's ``history_filter`` or the secrets filter keeps out is dropped (and a
``prev`` it keeps out is cleared). Tombstones are known only once every segment was read, so
they are applied at ``finish``: a record whose writer had not applied one that matches it was
run before the forget, and is left out.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from aprender_shell.history.formats import Context, HistoryEntry
from aprender_shell.model.learned.journal import Journal, Record
from aprender_shell.model.learned.newest import FOLD_CEILING
from aprender_shell.sync import SyncError

# More records than this (the most a server lets pile up before it folds) are folded in.
JOURNAL_AT_MOST = FOLD_CEILING
# A fold that finds the journal rewritten under it (not just appended to) starts over, this often.
FOLD_ATTEMPTS = 3

Matcher = Callable[[str], bool]
Tombstones = Sequence[tuple[dict[str, Any], Matcher]]


class Intake:
    """The sink ``read_incoming`` hands each segment's records to (see the module)."""

    def __init__(self, model_path: Path) -> None:
        from aprender_shell.history.privacy import default_gate

        self._model_path = model_path
        self._gate = default_gate()
        with contextlib.suppress(Exception):
            self._gate.check()  # an unreadable filter keeps everything out below (fail closed)
        self._verdicts: dict[str, bool] = {}  # the filters judge each distinct command once
        self._present = _in_journal(model_path)
        self._records: list[Record] = []
        self._entries: list[HistoryEntry] | None = None  # once past JOURNAL_AT_MOST
        self._knows: list[frozenset[str]] = []
        self._commands: dict[str, str] = {}  # equal commands and contexts are one object
        self._contexts: dict[Context, Context] = {}
        self._before: str | None = None
        self.kept_out = 0

    def take(self, records: list[Record], knows: frozenset[str]) -> None:
        for record in records:
            if record.get("seq") in self._present.get(str(record.get("dev")), ()):
                continue  # in the journal already (applied again after a retraining)
            if not self._allowed(record["c"]):
                self.kept_out += 1
                continue
            previous = record.get("prev")
            if isinstance(previous, str) and not self._allowed(previous):
                record["prev"] = None
            self._knows.append(knows)
            if self._entries is not None:
                self._entries.append(self._entry(record))
                continue
            self._records.append(record)
            if len(self._records) > JOURNAL_AT_MOST:
                self._entries = [self._entry(kept) for kept in self._records]
                self._records = []

    def finish(self, tombstones: Tombstones) -> int:
        """Learn what was taken, less what ``tombstones`` cover; returns how many records."""
        if self._entries is None:
            kept = []
            for record, known in zip(self._records, self._knows):
                if _covered(record["c"], known, tombstones):
                    continue
                previous = record.get("prev")
                if isinstance(previous, str) and _covered(previous, known, tombstones):
                    record["prev"] = None
                kept.append(record)
            self.kept_out += len(self._records) - len(kept)
            from aprender_shell.sync.merge import learn

            learn(self._model_path, kept)
            return len(kept)
        entries = self._entries
        if tombstones:
            entries = []
            for entry, known in zip(self._entries, self._knows):
                if _covered(entry.command, known, tombstones):
                    continue
                context = entry.context
                if context is not None and context.prev and _covered(context.prev, known,
                                                                     tombstones):
                    entry = HistoryEntry(entry.command, entry.timestamp,
                                         replace(context, prev=None))
                entries.append(entry)
            self.kept_out += len(self._entries) - len(entries)
        self._entries, self._knows = None, []
        fold_in(self._model_path, entries)
        return len(entries)

    def _allowed(self, command: str) -> bool:
        verdict = self._verdicts.get(command)
        if verdict is None:
            try:
                verdict = self._gate.reason(command, reread=False) is None
            except Exception:  # noqa: BLE001 - the filter cannot be read: learn nothing
                verdict = False
            self._verdicts[command] = verdict
        return verdict

    def _entry(self, record: Record) -> HistoryEntry:
        from aprender_shell.model.training.update.compaction import entry_of

        entry = entry_of(record)
        command = self._commands.setdefault(entry.command, entry.command)
        context = entry.context
        if context is not None:
            if context.prev is not None and context.prev == self._before:
                context = replace(context, prev=None)  # the sequence says as much
            context = self._contexts.setdefault(context, context)
        self._before = command
        return HistoryEntry(command, entry.timestamp, context)


def _covered(command: str, known: frozenset[str], tombstones: Tombstones) -> bool:
    # A tombstone its writer had not applied yet covers it: it was run before the forget.
    return any(tomb["id"] not in known and match(command) for tomb, match in tombstones)


def _in_journal(model_path: Path) -> dict[str, set[int]]:
    """The numbers of each device's records in the journal (a few thousand at most: the
    server and ``update`` fold it past their bound)."""
    from aprender_shell.model.training.writer import index_of

    present: dict[str, set[int]] = {}
    for record in Journal(model_path, index_of(model_path).generation).records():
        device, number = record.get("dev"), record.get("seq")
        if isinstance(device, str) and isinstance(number, int):
            present.setdefault(device, set()).add(number)
    return present


def fold_in(model_path: Path, entries: Sequence[HistoryEntry]) -> None:
    """Retrain on the stored corpus, the journal and ``entries`` (in that order), as the one
    writer; the journal keeps what was appended meanwhile (a running server reopens the
    model at its next request)."""
    from aprender_shell.fileio import temp_path
    from aprender_shell.model.learned.records import people_only
    from aprender_shell.model.memory import MemoryLimit
    from aprender_shell.model.store.corpus import read_corpus
    from aprender_shell.model.store.tables import open_model_bundle
    from aprender_shell.model.training.train import train_model
    from aprender_shell.model.training.update.compaction import entries_of
    from aprender_shell.model.training.writer import index_of, writer

    if not entries:
        return
    with writer(model_path) as w:
        for _ in range(FOLD_ATTEMPTS):
            index = index_of(model_path)
            journal = Journal(model_path, index.generation)
            snapshot = journal.read()
            with open_model_bundle(model_path, MemoryLimit.default().paging) as bundle:
                corpus = read_corpus(bundle, index, model_path)
            corpus.extend(entries_of(people_only(snapshot.records),
                                     corpus[-1].command if corpus else None))
            corpus.extend(entries)
            staging = temp_path(model_path, "merge")
            try:
                train_model(
                    corpus, staging, ngram=index.ngram,
                    memory_limit=MemoryLimit.choose(None, index.memory_limit),
                    source=index.source,
                    history_marks=snapshot.marks if snapshot.marks is not None
                    else list(index.history),
                )
                del corpus
                generation = index_of(staging).generation
                with w.replacing(journal.generation, "merging") as state:
                    folded = len(snapshot.records)
                    if (state.generation != snapshot.generation
                            or state.records[:folded] != snapshot.records):
                        continue  # rewritten meanwhile (a forget?): train again on it
                    # As a fold does (fold.py): the journal marked with what the new model
                    # holds, the model, the journal cut to what was appended meanwhile.
                    journal.write(state.records, state.marks, (generation, folded))
                    os.replace(staging, model_path)
                    Journal(model_path, generation).write(state.records[folded:], None)
                    return
            finally:
                with contextlib.suppress(FileNotFoundError):
                    staging.unlink()
    raise SyncError("the model's journal kept being rewritten while merging: run "
                    "'aprender-shell sync now' again (nothing was lost)")

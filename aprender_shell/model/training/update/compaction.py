"""Compaction: the journal folded into the model's segments (``update``'s, the server's fold's
and a sync merge's).

When the journal outgrows what the learned overlay holds or passes the server's fold bound
(``needs_compaction``), ``compact`` retrains on the stored corpus plus the journal (in a
staging file named with its pid), then, holding the journal's lock, puts the new model in
place and starts its journal with the records appended meanwhile (fold.py tells the three
steps a ``kill -9`` may cut short). Each folded record keeps what the shell recorded about it
(``entry_of``): the model learns folders, shells and exit statuses from the corpus.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from dataclasses import replace

from aprender_shell.fileio import temp_path
from aprender_shell.history.formats import Context, HistoryEntry
from aprender_shell.limits import SHELLS
from aprender_shell.model.learned.journal import Journal, Record
from aprender_shell.model.learned.journal_lines import bounded_unseen
from aprender_shell.model.learned.newest import FOLD_RECORDS, fold_bound
from aprender_shell.model.learned.overlay import COMMAND_COST, COMMAND_SHARE
from aprender_shell.model.memory import MemoryLimit
from aprender_shell.model.store.index import ModelIndex
from aprender_shell.model.store.tables import open_model_bundle
from aprender_shell.model.training.entries import read_entries
from aprender_shell.model.training.fold import step
from aprender_shell.model.training.train import Progress, TrainReport
from aprender_shell.model.training.writer import ModelWriter, index_of

# Compact once the journal's distinct commands fill this share of what the overlay may hold, or
# once it holds more records than the server lets pile up (``fold_bound``, at least this many):
# past it, a process that opens the model no longer replays it whole.
COMPACT_OVERLAY_SHARE = 0.75
COMPACT_MAX_RECORDS = FOLD_RECORDS


def needs_compaction(
    records: Sequence[Record], memory_limit: MemoryLimit, model_commands: int = 0
) -> bool:
    """Whether the journal outgrew what the overlay holds within ``memory_limit``, or the fold
    bound of a model of ``model_commands`` (the server's, at least ``COMPACT_MAX_RECORDS``)."""
    if len(records) > fold_bound(model_commands, COMPACT_MAX_RECORDS):
        return True
    learned_commands = memory_limit.learned * COMMAND_SHARE * COMPACT_OVERLAY_SHARE
    distinct = {record["c"] for record in records}
    return sum(COMMAND_COST + sys.getsizeof(text) for text in distinct) > learned_commands


def compact(
    w: ModelWriter,
    index: ModelIndex,
    journal: Journal,
    memory_limit: MemoryLimit,
    progress: Progress | None,
) -> TrainReport | None:
    """Retrain on the corpus plus the journal; None when another writer rewrote the journal
    meanwhile (nothing changes; the next ``update`` tries again)."""
    from aprender_shell.model.training.train import train_model

    model_path = w.model_path
    snapshot = journal.read()
    with open_model_bundle(model_path, MemoryLimit.default().paging) as bundle:
        corpus = read_entries(bundle, index, model_path)
    # Each record with what the shell recorded about it: the model learns folders, shells and
    # exit statuses from the corpus (train.py), and Ctrl-R filters its rows. An agent's runs
    # go into the corpus with their agent, and training keeps them out of what it suggests.
    corpus.extend(entries_of(snapshot.records, corpus.last_person()))
    corpus.consumable = True  # read no more here: training cleans it in place
    marks = snapshot.marks if snapshot.marks is not None else list(index.history)
    staging = temp_path(model_path, "compact")
    try:
        report = train_model(
            corpus,
            staging,
            ngram=index.ngram,
            memory_limit=memory_limit,
            source=index.source,
            history_marks=marks,
            progress=progress,
        )
        report.model_path = model_path
        generation = index_of(staging).generation
        step("staged")
        with w.replacing(journal.generation, "compacting") as state:
            if state.identity != snapshot.identity or state.generation != snapshot.generation:
                return None
            folded = len(snapshot.records)
            # What a history may still show of the records folded now: update reconciles it.
            unseen = bounded_unseen(state.unseen + [
                unseen_entry(r) for r in state.records[:folded] if live_unseen(r)])
            # Under the lock, in three steps a kill may cut short (see fold.py): the journal
            # marked with what the new model holds, the model, the journal cut. The server's
            # next append finds the new model's journal, holding what was appended while this
            # retrained.
            journal.write(state.records, state.marks, (generation, folded), state.unseen, unseen)
            step("marked")
            os.replace(staging, model_path)
            step("swapped")
            Journal(model_path, generation).write(state.records[folded:], None, unseen=unseen)
            step("cut")
        return report
    finally:
        with contextlib.suppress(FileNotFoundError):
            staging.unlink()


def entries_of(records: Sequence[Record], before: str | None) -> list[HistoryEntry]:
    """The corpus entries of ``records`` (``entry_of``), which follow the command ``before``;
    equal contexts are one object (a journal repeats a few folders thousands of times)."""
    made: dict[Context, Context] = {}
    entries = []
    for record in records:
        entry = entry_of(record)
        context = entry.context
        if context is not None and context.agent:
            entries.append(entry)  # not in the sequence training learns (train.py)
            continue
        if context is not None:
            if context.prev is not None and context.prev == before:
                context = replace(context, prev=None)  # the sequence says as much
            context = made.setdefault(context, context)
            entry = HistoryEntry(
                entry.command, entry.timestamp, None if context == _NO_CONTEXT else context
            )
        entries.append(entry)
        before = entry.command
    return entries


def entry_of(record: Record) -> HistoryEntry:
    """The corpus entry a fold keeps of journal record ``record``: the command, when, and what
    the shell recorded about the run (folder, exit status, host, shell, agent, the command
    before it). A field of the wrong type is left out: a journal is a file anyone with the
    user's rights can edit."""
    stamp = record.get("t")
    cwd = record.get("cwd")
    status = record.get("exit")
    host = record.get("host")
    shell = record.get("sh")
    agent = record.get("agent")
    prev = record.get("prev")
    context = Context(
        cwd if isinstance(cwd, str) and cwd else None,
        status if isinstance(status, int) and not isinstance(status, bool) else None,
        host if isinstance(host, str) and host else None,
        shell if shell in SHELLS else None,
        agent if isinstance(agent, str) and agent else None,
        # What ran before it in its shell, as the overlay learned it. A shell names it for
        # every command but its first ("": none); a record of no shell (a history file's
        # line, a client that does not say) follows the record before it.
        prev if isinstance(prev, str) else "" if shell in SHELLS else None,
    )
    return HistoryEntry(
        str(record["c"]),
        stamp if isinstance(stamp, int) and not isinstance(stamp, bool) else None,
        None if context == _NO_CONTEXT else context,
    )


_NO_CONTEXT = Context()


def live_unseen(record: Record) -> bool:
    """Whether ``record`` is a live record no history showed yet. A record another device
    synced ("dev") was run there: never this history's line."""
    return record.get("src") != "history" and not record.get("seen") and "dev" not in record


def unseen_entry(record: Record) -> Record:
    """What the journal's header keeps of a folded live record (journal_lines.py)."""
    stamp = record.get("t")
    return {"c": record["c"], "t": stamp} if isinstance(stamp, int) else {"c": record["c"]}

"""``aprender-shell train`` over a model in use: the new model put in place with the live
records it does not hold.

``train`` retrains from the history files; a record the shells sent that no history file shows
yet stays in the new model's journal (``retrain``), whether it is still in the old model's
journal or a fold already put it in the old model's corpus (``folded_records``), and a model
trained afresh starts its journal empty (``reset_journal``).
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from aprender_shell.errors import AprenderError
from aprender_shell.fileio import temp_path
from aprender_shell.history.formats import HistoryEntry
from aprender_shell.history.marks import HistoryMark, new_entries_since
from aprender_shell.model.learned.journal import Journal, JournalState, Record
from aprender_shell.model.memory import MemoryLimit
from aprender_shell.model.store.index import ModelIndex
from aprender_shell.model.training.train import TrainReport
from aprender_shell.model.training.update import RECONCILE_WINDOW, reconcile
from aprender_shell.model.training.writer import ModelWriter, index_of, writer


def reset_journal(model_path: Path) -> None:
    """Start the journal afresh for the model just trained at ``model_path``."""
    Journal(model_path, index_of(model_path).generation).reset()


def retrain(
    model_path: Path,
    histories: Sequence[Path],
    train: Callable[[Path], TrainReport],
    trained_marks: Sequence[dict[str, Any]] = (),
    trained: Iterable[HistoryEntry] = (),
) -> TrainReport:
    """Run ``train`` (writing the model at the path it is given) and put the new model in
    place, keeping the journal's live records the retrained histories do not hold.

    A record the shells sent after the last ``update`` is in the new model only if its shell
    wrote it to a history file since: those are reconciled with what the histories gained
    since their marks (as ``update`` does) and dropped; the others, and everything appended
    while training, start the new model's journal. So do the records a fold put in the old
    model's corpus that ``trained`` (the entries ``train`` learns from) does not hold. The model
    and its journal are replaced under the journal's lock, so no record acknowledged meanwhile
    is lost.
    """
    with writer(model_path) as w:
        return _retrain(w, histories, train, trained_marks, trained)


def _retrain(
    w: ModelWriter,
    histories: Sequence[Path],
    train: Callable[[Path], TrainReport],
    trained_marks: Sequence[dict[str, Any]],
    trained: Iterable[HistoryEntry],
) -> TrainReport:
    model_path = w.model_path
    carried: list[Record] = []
    folded: list[Record] = []
    snapshot: JournalState | None = None
    old: Journal | None = None
    try:
        index = index_of(model_path)
    except AprenderError:
        index = None  # no model yet, or one we cannot read: nothing to keep
    if index is not None:
        old = Journal(model_path, index.generation)
        try:
            snapshot = old.read()
        except AprenderError:
            old = None  # a journal of a newer aprender-shell: training starts afresh
            snapshot = JournalState()
        pending = [r for r in snapshot.records if r.get("src") != "history" and not r.get("seen")]
        if pending:
            marks_list = snapshot.marks if snapshot.marks is not None else index.history
            gained = _gained_since(marks_list, histories, trained_marks)
            reconcile(pending, gained)
            carried = [dict(r) for r in pending if not r.get("seen")]
        # Older than the journal's: what the shells recorded that a fold put in the corpus.
        folded = folded_records(model_path, index, trained)
    staging = temp_path(model_path, "train")
    try:
        report = train(staging)
        report.model_path = model_path
        generation = index_of(staging).generation
        with w.replacing(generation, "training") as state:
            appended: list[Record] = []
            if old is not None and snapshot is not None:
                now = old.read()
                if now.identity == snapshot.identity and now.generation == snapshot.generation:
                    appended = now.records[len(snapshot.records) :]
                elif now.generation == snapshot.generation:
                    # Rewritten meanwhile (a server's forget or start-up compaction): carry
                    # what it still holds, and what was appended since the snapshot.
                    carried, appended = _after_rewrite(snapshot.records, now.records, carried)
            os.replace(staging, model_path)
            if state.generation != generation:
                Journal(model_path, generation).write(folded + carried + appended, None)
        return report
    finally:
        with contextlib.suppress(FileNotFoundError):
            staging.unlink()


def _after_rewrite(
    snapshot: Sequence[Record], now: Sequence[Record], carried: Sequence[Record]
) -> tuple[list[Record], list[Record]]:
    """Of a journal rewritten since ``snapshot``: the ``carried`` records it still holds, and
    the records it gained since (each record is one run: counted, not deduplicated)."""
    def key(record: Record) -> tuple[str, object]:
        return (record["c"], record.get("t"))

    before = Counter(key(record) for record in snapshot)
    still = Counter(key(record) for record in now)
    appended = []
    for record in now:
        if before[key(record)] > 0:
            before[key(record)] -= 1
        else:
            appended.append(record)
    kept = []
    for record in carried:
        if still[key(record)] > 0:
            still[key(record)] -= 1
            kept.append(record)
    return kept, appended


def _gained_since(
    marks_list: Sequence[dict[str, Any]],
    histories: Sequence[Path],
    trained_marks: Sequence[dict[str, Any]] = (),
) -> list[HistoryEntry]:
    """What ``histories`` gained since their marks (every entry of a file without one), up to
    where the training read them (``trained_marks``): a line a shell wrote since is not in the
    new model, so its live record must stay in the journal."""
    marks = _marks_by_path(marks_list)
    read_to = _marks_by_path(trained_marks)
    gained: list[HistoryEntry] = []
    for path in histories:
        with contextlib.suppress(AprenderError, OSError):
            entries = new_entries_since(Path(path), marks.get(str(path)))[0]
            trained = read_to.get(str(path))
            if trained is not None:
                beyond, _, rewritten = new_entries_since(Path(path), trained)
                if beyond and not rewritten:
                    entries = entries[: max(0, len(entries) - len(beyond))]
            gained.extend(entries)
    return gained


def _marks_by_path(marks_list: Sequence[dict[str, Any]]) -> dict[str, HistoryMark]:
    marks = {}
    for mark in marks_list:
        with contextlib.suppress(KeyError, TypeError, ValueError):
            marks[str(mark["path"])] = HistoryMark.from_dict(mark)
    return marks


def folded_records(
    model_path: Path, index: ModelIndex, trained: Iterable[HistoryEntry]
) -> list[Record]:
    """The rows of the model's corpus that a shell, not a history file, recorded (a fold put
    them there from the journal: each names the host it ran on, which no history file does),
    of which ``trained`` holds no run, as journal records, oldest first.

    Each entry of ``trained`` takes up the oldest such row of the same command recorded
    within ``RECONCILE_WINDOW`` of it (any, without a timestamp), as ``update`` reconciles:
    a command the history holds counts once. A model trained from a database (whose rows
    name their host too) finds its rows in the same database again."""
    from aprender_shell.model.store.corpus import decode_chunk
    from aprender_shell.model.store.tables import open_model_bundle

    rows: list[HistoryEntry] = []
    try:
        with open_model_bundle(model_path, MemoryLimit.default().paging) as bundle:
            for chunk in index.corpus:  # one chunk in memory at a time: keep only those rows
                data = bundle.get_model(chunk.name)
                rows.extend(row for row in decode_chunk(data, chunk, f"model {model_path}")
                            if row.context is not None and row.context.host is not None)
                bundle.evict(chunk.name)
    except AprenderError:
        return []  # a corpus that cannot be read gives nothing: train starts from the histories
    if not rows:
        return []
    waiting: dict[str, deque[int]] = {}
    for number, row in enumerate(rows):
        waiting.setdefault(row.command, deque()).append(number)
    held: set[int] = set()
    for entry in trained:
        queue = waiting.get(entry.command)
        stamp = entry.timestamp
        while queue and stamp is not None and _stamp(rows[queue[0]]) < stamp - RECONCILE_WINDOW:
            queue.popleft()  # recorded long before: another run of the same command
        if queue and (stamp is None or _stamp(rows[queue[0]]) <= stamp + RECONCILE_WINDOW):
            held.add(queue.popleft())
    return [_record(row) for number, row in enumerate(rows) if number not in held]


def _stamp(row: HistoryEntry) -> int:
    return row.timestamp if row.timestamp is not None else 0


def _record(row: HistoryEntry) -> Record:
    """The journal record a fold made ``row`` of (compaction.entry_of, the other way)."""
    record: Record = {"c": row.command}
    context = row.context
    if context is not None:
        for key, value in (("sh", context.shell), ("agent", context.agent),
                           ("cwd", context.cwd), ("exit", context.exit),
                           ("prev", context.prev or None), ("host", context.host)):
            if value is not None:
                record[key] = value
    if row.timestamp is not None:
        record["t"] = row.timestamp
    return record

"""``aprender-shell update``: fold what the history gained since training into the model.

``update`` costs what is new, not what was trained: it reads the history files from where it
last stopped (the marks), and appends the new commands to the journal, the same file the
server appends recorded commands to, so the predictor learns them the same way. The new marks
go in the journal's header: the model file is not rewritten.

Commands the shells recorded live are in the journal already, and most reach the history file
later. They are reconciled, not counted twice: each new history command consumes the oldest
live record of the same text not yet seen in a history (recorded at most
``RECONCILE_WINDOW`` seconds from the history's timestamp, when it has one), which is then
marked ``"seen"``; only history commands without such a record are appended (``"src":
"history"``). Live records never seen in a history (typed with a leading space, or in a shell
without a history file) stay learned.

When the journal outgrows what the learned overlay holds or passes the server's fold bound
(``needs_compaction``), ``update`` folds it (``compact``, the fold the server starts by itself:
fold.py): it retrains on the stored corpus plus the journal (in a staging file named with its
pid), then, holding the journal's lock, puts the new model in place and starts its journal
with the records appended meanwhile. ``train`` retrains from the history files and starts the
journal afresh (``reset_journal``).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aprender_shell.bundle import BundleError
from aprender_shell.errors import AprenderError, UsageError
from aprender_shell.fileio import temp_path
from aprender_shell.history.files import find_history_files
from aprender_shell.history.formats import Context, HistoryEntry
from aprender_shell.history.marks import HistoryMark, new_entries_since
from aprender_shell.limits import SHELLS
from aprender_shell.model.learned.journal import Journal, JournalState, Record
from aprender_shell.model.learned.journal_lines import bounded_unseen
from aprender_shell.model.learned.newest import FOLD_RECORDS, fold_bound
from aprender_shell.model.learned.overlay import COMMAND_COST, COMMAND_SHARE
from aprender_shell.model.memory import MemoryLimit
from aprender_shell.model.store.corpus import read_corpus
from aprender_shell.model.store.index import ModelIndex
from aprender_shell.model.store.tables import open_model_bundle, read_index
from aprender_shell.model.training.fold import step
from aprender_shell.model.training.train import Progress, TrainReport, clean_commands
from aprender_shell.model.training.writer import ModelWriter, writer

# A live record and the history line of the same command are one command run when their
# times are this close (history files without timestamps match by order alone).
RECONCILE_WINDOW = 24 * 3600
# Compact once the journal's distinct commands fill this share of what the overlay may hold, or
# once it holds more records than the server lets pile up (``fold_bound``, at least this many):
# past it, a process that opens the model no longer replays it whole.
COMPACT_OVERLAY_SHARE = 0.75
COMPACT_MAX_RECORDS = FOLD_RECORDS


@dataclass
class UpdateResult:
    """What ``update`` did: ``new_commands`` read from the histories (0: nothing changed), of
    which ``learned`` are new to the model, ``already_recorded`` were learned as the shells
    recorded them, and ``left_out`` the learning gate kept out (secrets, a leading space, the
    user's ``history_filter``, blank lines)."""

    new_commands: int
    total_commands: int = 0
    model_bytes: int = 0
    already_recorded: int = 0
    learned: int = 0
    left_out: int = 0
    compacted: TrainReport | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.new_commands > 0 or self.compacted is not None


def index_of(model_path: Path) -> ModelIndex:
    """The index of the model at ``model_path``, read with the same checks as every query."""
    with open_model_bundle(model_path, MemoryLimit.default().paging) as bundle:
        return read_index(bundle, model_path)  # the same checks as every query


def reset_journal(model_path: Path) -> None:
    """Start the journal afresh for the model just trained at ``model_path``."""
    Journal(model_path, index_of(model_path).generation).reset()


def retrain(
    model_path: Path,
    histories: Sequence[Path],
    train: Callable[[Path], TrainReport],
    trained_marks: Sequence[dict[str, Any]] = (),
) -> TrainReport:
    """Run ``train`` (writing the model at the path it is given) and put the new model in
    place, keeping the journal's live records the retrained histories do not hold.

    A record the shells sent after the last ``update`` is in the new model only if its shell
    wrote it to a history file since: those are reconciled with what the histories gained
    since their marks (as ``update`` does) and dropped; the others, and everything appended
    while training, start the new model's journal. The model and its journal are replaced
    under the journal's lock, so no record acknowledged meanwhile is lost.
    """
    with writer(model_path) as w:
        return _retrain(w, histories, train, trained_marks)


def _retrain(
    w: ModelWriter,
    histories: Sequence[Path],
    train: Callable[[Path], TrainReport],
    trained_marks: Sequence[dict[str, Any]],
) -> TrainReport:
    model_path = w.model_path
    carried: list[Record] = []
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
                Journal(model_path, generation).write(carried + appended, None)
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


def update_model(
    model_path: Path,
    histories: Sequence[Path] = (),
    memory_limit: MemoryLimit | None = None,
    progress: Progress | None = None,
) -> UpdateResult:
    """Learn the history entries added since the marks, through the journal.

    ``new_entries_since`` finds where the old history ends even in a file the shell rewrote or
    rotated. Reads the model's index only; the corpus is read when compacting.
    """
    with writer(model_path) as w:
        return _update(w, histories, memory_limit, progress)


def _update(
    w: ModelWriter,
    histories: Sequence[Path],
    memory_limit: MemoryLimit | None,
    progress: Progress | None,
) -> UpdateResult:
    model_path = w.model_path
    index = index_of(model_path)
    generation = index.generation
    journal = Journal(model_path, generation)
    before = journal.read()
    marks_list = before.marks if before.marks is not None else index.history
    try:
        marks = {str(m["path"]): HistoryMark.from_dict(m) for m in marks_list}
    except (KeyError, TypeError, ValueError) as error:
        where = "journal" if before.marks is not None else "index"
        raise BundleError(
            f"model {model_path} has a damaged {where} (history mark: {error}): "
            "retrain with 'aprender-shell train'"
        ) from None
    paths = [Path(p) for p in histories] or [Path(p) for p in marks]
    if not paths:
        found = find_history_files([])
        if found:
            raise UsageError(
                "the model was trained on the packaged sample history: run 'aprender-shell "
                f"train' to learn from {', '.join(str(path) for path in found)}"
            )
        return UpdateResult(0, notes=["The model was trained on the packaged sample history "
                                      "and no shell history exists yet."])
    notes: list[str] = []
    new_marks = []
    added: list[HistoryEntry] = []
    for path in paths:
        entries, new_mark, rewritten = new_entries_since(path, marks.get(str(path)))
        if rewritten:
            notes.append(f"{path} was rewritten or rotated since training; kept what is new in it.")
        added.extend(entries)
        new_marks.append(new_mark.to_dict())
    # Marks written by versions before hashing hold the last history lines as text: rewrite
    # where they are (the journal's header now, and the model's index by compacting).
    legacy = any(mark.legacy for mark in marks.values())
    if not added and not legacy:
        # Nothing to learn: the model and the journal stay as they are.
        return UpdateResult(0, notes=notes)
    if legacy:
        notes.append("Rewrote the model: an older version kept the last lines of your history "
                     "in it as text; it now keeps only salted hashes of them.")
    kept_marks = [m.to_dict() for p, m in marks.items() if Path(p) not in paths]
    cleaned, _ = clean_commands(added)
    with w.replacing(generation, "updating") as state:
        if state.generation not in (None, generation):
            raise UsageError("the model was retrained while updating: run 'aprender-shell "
                             "update' again")
        # The live records a fold already put in the model count as recorded too (the
        # header's "unseen"): the history line of a command the server folded is no new run.
        folded, matched = reconcile(state.records, cleaned, state.unseen)
        records = state.records + folded
        unseen = [entry for entry in state.unseen if not entry.get("seen")]
        journal.write(records, kept_marks + new_marks, unseen=unseen)
    result = UpdateResult(
        new_commands=len(added),
        total_commands=index.total_commands + len(records),
        model_bytes=_size(model_path) + _size(journal.path),
        already_recorded=matched,
        learned=len(folded),
        left_out=len(added) - len(cleaned),
        notes=notes,
    )
    legacy_index = legacy and before.marks is None
    # One limit decides whether to compact and what the compacted model is trained for.
    limit = MemoryLimit.choose(memory_limit, index.memory_limit)
    if legacy_index or needs_compaction(records, limit, index.total_commands):
        report = compact(w, index, journal, limit, progress)
        if report is not None:
            result.compacted = report
            result.total_commands = report.commands
            result.model_bytes = report.model_bytes
    return result


def reconcile(
    records: list[Record], entries: Sequence[HistoryEntry], unseen: Sequence[Record] = ()
) -> tuple[list[Record], int]:
    """The records to append for ``entries``, and how many live ``records`` (or records a
    fold put in the model before a history showed them, ``unseen``, older) they matched.

    Matched live records are marked ``"seen"`` in place (see the module's docstring).
    """
    pending: dict[str, deque[Record]] = {}
    for record in [*unseen, *records]:
        if _live_unseen(record):
            pending.setdefault(record["c"], deque()).append(record)
    folded: list[Record] = []
    matched = 0
    for entry in entries:
        queue = pending.get(entry.command)
        stamp = entry.timestamp
        while queue and stamp is not None and _recorded_at(queue[0]) < stamp - RECONCILE_WINDOW:
            queue.popleft()  # recorded long before: another run of the same command
        if queue and (stamp is None or _recorded_at(queue[0]) <= stamp + RECONCILE_WINDOW):
            queue.popleft()["seen"] = True
            matched += 1
            continue
        line: Record = {"c": entry.command, "src": "history"}
        if stamp is not None:
            line["t"] = stamp
        folded.append(line)
    return folded, matched


def _live_unseen(record: Record) -> bool:
    """Whether ``record`` is a live record no history showed yet. A record another device
    synced ("dev") was run there: never this history's line."""
    return record.get("src") != "history" and not record.get("seen") and "dev" not in record


def _unseen_entry(record: Record) -> Record:
    """What the journal's header keeps of a folded live record (journal_lines.py)."""
    stamp = record.get("t")
    return {"c": record["c"], "t": stamp} if isinstance(stamp, int) else {"c": record["c"]}


def _recorded_at(record: Record) -> int:
    stamp = record.get("t")
    return stamp if isinstance(stamp, int) and not isinstance(stamp, bool) else 0


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
        corpus = read_corpus(bundle, index, model_path)
    # Each record with what the shell recorded about it: the model learns folders, shells and
    # exit statuses from the corpus (train.py), and Ctrl-R filters its rows. An agent's runs
    # go into the corpus with their agent, and training keeps them out of what it suggests.
    people = (e.command for e in reversed(corpus) if e.context is None or not e.context.agent)
    corpus.extend(entries_of(snapshot.records, next(people, None)))
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
                _unseen_entry(r) for r in state.records[:folded] if _live_unseen(r)])
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


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def journal_for(model_path: Path) -> Journal:
    """The journal of the model now at ``model_path`` (``forget`` calls its ``rewrite``)."""
    return Journal(model_path, index_of(model_path).generation)

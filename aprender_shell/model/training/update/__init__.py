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
(``needs_compaction``), ``update`` folds it (``compact`` in compaction.py, the fold the server
starts by itself: fold.py). ``train`` retrains from the history files (retraining.py).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aprender_shell.bundle import BundleError
from aprender_shell.errors import UsageError
from aprender_shell.history.files import find_history_files
from aprender_shell.history.formats import HistoryEntry
from aprender_shell.history.marks import HistoryMark, new_entries_since
from aprender_shell.model.learned.journal import Journal, Record
from aprender_shell.model.memory import MemoryLimit
from aprender_shell.model.training.train import Progress, TrainReport, clean_commands
from aprender_shell.model.training.update.compaction import compact, live_unseen, needs_compaction
from aprender_shell.model.training.writer import ModelWriter, index_of, writer

# A live record and the history line of the same command are one command run when their
# times are this close (history files without timestamps match by order alone).
RECONCILE_WINDOW = 24 * 3600


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
        model_bytes=_size(model_path) + _size(Path(journal.path)),
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
        if live_unseen(record):
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


def _recorded_at(record: Record) -> int:
    stamp = record.get("t")
    return stamp if isinstance(stamp, int) and not isinstance(stamp, bool) else 0


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0

"""``aprender-shell update``: fold what the history gained since training into the model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aprender_shell.bundle import BundleError, PagedBundle
from aprender_shell.errors import UsageError
from aprender_shell.history.files import find_history_files
from aprender_shell.history.formats import HistoryEntry
from aprender_shell.history.marks import HistoryMark, new_entries_since
from aprender_shell.model.corpus import decode_chunk
from aprender_shell.model.index import ModelIndex
from aprender_shell.model.journal import journal_path
from aprender_shell.model.layout import DEFAULT_MEMORY_LIMIT
from aprender_shell.model.predictor import open_model_bundle, read_index
from aprender_shell.model.train import Progress, TrainReport, train_model


@dataclass
class UpdateResult:
    report: TrainReport | None  # None when there was nothing to learn and the model is unchanged
    new_commands: int
    notes: list[str] = field(default_factory=list)


def _read_corpus(bundle: PagedBundle, index: ModelIndex, path: Path) -> list[HistoryEntry]:
    """The command sequence the model was trained on, one corpus entry in memory at a time."""
    corpus: list[HistoryEntry] = []
    for chunk in index.corpus:
        corpus.extend(decode_chunk(bundle.get_model(chunk.name), chunk, f"model {path}"))
        bundle.evict(chunk.name)
    return corpus


def update_model(
    model_path: Path,
    histories: Sequence[Path] = (),
    memory_limit: int | None = None,
    progress: Progress | None = None,
) -> UpdateResult:
    """Retrain ``model_path`` on its own corpus plus the history entries added since training.

    The corpus stored in the model keeps the update right when the history file was
    truncated or rotated; ``new_entries_since`` finds where the old history ends in a file the
    shell rewrote.
    """
    with open_model_bundle(model_path, DEFAULT_MEMORY_LIMIT) as bundle:
        index = read_index(bundle, model_path)  # the same checks as every query
        return _update(bundle, index, model_path, histories, memory_limit, progress)


def _update(
    bundle: PagedBundle,
    index: ModelIndex,
    model_path: Path,
    histories: Sequence[Path],
    memory_limit: int | None,
    progress: Progress | None,
) -> UpdateResult:
    marks = _marks(index, model_path)
    paths = [Path(p) for p in histories] or [Path(p) for p in marks]
    if not paths:
        found = find_history_files([])
        if found:
            raise UsageError(
                "the model was trained on the packaged sample history: run 'aprender-shell "
                f"train' to learn from {', '.join(str(path) for path in found)}"
            )
        return UpdateResult(None, 0, ["The model was trained on the packaged sample history "
                                      "and no shell history exists yet."])
    notes: list[str] = []
    new_marks = []
    added: list[HistoryEntry] = []
    for path in paths:
        mark = marks.get(str(path))
        entries, new_mark, rewritten = new_entries_since(path, mark)
        if rewritten:
            notes.append(f"{path} was rewritten or rotated since training; kept what is new in it.")
        added.extend(entries)
        new_marks.append(new_mark.to_dict())
    # A model written by an older version keeps raw history lines in its marks: rewrite it
    # even with nothing new, keeping its generation so the journal stays valid.
    legacy = any(mark.legacy for mark in marks.values())
    if not added and not legacy:
        # Nothing to learn: keep the model and the journal of what the shells recorded as is.
        return UpdateResult(None, 0, notes)
    if legacy:
        notes.append("Rewrote the model: an older version kept the last lines of your history "
                     "in it as text; it now keeps only salted hashes of them.")
    corpus = _read_corpus(bundle, index, model_path)  # only now: nothing new reads nothing
    kept_marks = [
        m for p, m in ((p, m.to_dict()) for p, m in marks.items()) if Path(p) not in paths
    ]
    report = train_model(
        corpus + added,
        model_path,
        ngram=index.ngram,
        memory_limit=memory_limit or index.memory_limit,
        history_marks=kept_marks + new_marks,
        progress=progress,
        source=index.source,
        generation=None if added else index.generation,
    )
    if added:
        # What the shells recorded is in the history now, or will be when they write it.
        journal_path(model_path).unlink(missing_ok=True)
    return UpdateResult(
        report=report,
        new_commands=max(0, report.commands - index_commands(index)),
        notes=notes,
    )


def index_commands(index: ModelIndex) -> int:
    return index.total_commands


def _marks(index: ModelIndex, path: Path) -> dict[str, HistoryMark]:
    """Where each history file ended at training, from the index."""
    try:
        return {str(m["path"]): HistoryMark.from_dict(m) for m in index.history}
    except (KeyError, TypeError, ValueError) as error:
        raise BundleError(
            f"model {path} has a damaged index (history mark: {error}): "
            "retrain with 'aprender-shell train'"
        ) from None

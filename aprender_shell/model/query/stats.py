"""A model's figures as ``stats`` and the server's status show them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from aprender_shell.model.learned.overlay import Overlay
    from aprender_shell.model.query.predictor import Predictor
    from aprender_shell.model.store.tables import Table


class ModelStats(NamedTuple):
    """Figures about a model and the paging activity of this predictor."""

    model_path: Path
    model_bytes: int
    ngram: int
    total_commands: int
    unique_commands: int
    vocabulary: int
    families: int
    segments: int
    loaded_segments: int
    memory_limit: int
    loaded_bytes: int
    hits: int
    misses: int
    evictions: int
    hit_rate: float
    total_bytes_loaded: int
    learned_commands: int
    replayed_records: int = 0  # of the journal, at open: at most FOLD_RECORDS (newest.py)
    top_commands: Sequence[tuple[str, int]] = ()
    # The score's weights, and whether training tuned them on this history (else defaults).
    weights: Sequence[tuple[str, float]] = ()
    tuned: bool = False
    trained_on: str = "history"  # or "sample": the packaged sample history, not the user's
    generation: str = ""  # which training made the model: a retrained model has a new one

    def to_dict(self) -> dict[str, Any]:
        data = self._asdict()
        data["model_path"] = str(self.model_path)
        data["top_commands"] = [list(item) for item in self.top_commands]
        data["weights"] = [list(item) for item in self.weights]
        return data


def model_stats(
    predictor: Predictor,
    overlay: Overlay,
    commands: Table,
    ngram: int,
    segments: int,
    model_bytes: int,
    learned_since: int,
) -> ModelStats:
    """``predictor``'s figures: its model's, its paging's so far, and what it learned since
    training (``learned_since`` commands, ``overlay``)."""
    from aprender_shell.model import scoring

    paging = predictor.bundle.stats()
    index = predictor.index
    return ModelStats(
        model_path=predictor.model_path,
        model_bytes=model_bytes,
        ngram=ngram,
        total_commands=index.total_commands + learned_since,
        unique_commands=index.unique_commands,
        vocabulary=index.vocabulary,
        families=index.families,
        segments=segments,
        loaded_segments=paging.cached_count,
        memory_limit=predictor.memory_limit.size,
        loaded_bytes=paging.memory_used,
        hits=paging.hits,
        misses=paging.misses,
        evictions=paging.evictions,
        hit_rate=paging.hit_rate,
        total_bytes_loaded=paging.total_bytes_loaded,
        learned_commands=len(overlay),
        replayed_records=predictor.replayed,
        top_commands=top_commands(index.top_commands, overlay, commands,
                                  len(index.top_commands) or 10),
        trained_on=index.source,
        weights=scoring.describe(predictor.weights),
        # a short history's tuning holds only what was measured, no chosen weights
        tuned=index.tuning is not None and "recency" in index.tuning,
        generation=index.generation,
    )


def top_commands(
    trained: Sequence[tuple[str, int]], overlay: Overlay, commands: Table, limit: int
) -> list[tuple[str, int]]:
    """The most used commands, the ``trained`` counts and those learned since together."""
    counts = dict(trained)
    learned = overlay.most_used(limit)
    for text in {text for text, _ in learned} - set(counts):
        found = commands.find(text) if len(commands) else None
        counts[text] = found[0].command_stats(found[1]).count if found else 0
    for text in counts:
        stats = overlay.stats(text)
        if stats is not None:
            counts[text] += stats.count
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]

"""``aprender-shell evaluate``: train on the start of a history, replay the rest as typed."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aprender_shell.history.formats import HistoryEntry
from aprender_shell.model.store.layout import DEFAULT_NGRAM_ORDER
from aprender_shell.model.training.train import clean_commands, train_model

if TYPE_CHECKING:
    from aprender_shell.model.memory import MemoryLimit


def evaluate_history(
    entries: Sequence[HistoryEntry],
    split: float = 0.8,
    online: bool = False,
    ngram: int = DEFAULT_NGRAM_ORDER,
    memory_limit: MemoryLimit | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Any:
    """Compare the model with zsh-autosuggestions' strategies on the same replayed commands.

    Commands holding secrets are removed before the split, for every strategy alike: the
    model never learns them, and no report should show them.
    """
    from aprender_shell.evaluate.baselines import HistoryStrategy, MatchPrevCmdStrategy
    from aprender_shell.evaluate.replay import Strategy, evaluate, split_history
    from aprender_shell.model.query.predictor import Predictor

    cleaned, _ = clean_commands(entries)
    train, test = split_history(cleaned, split)
    with tempfile.TemporaryDirectory(prefix="aprender-evaluate-") as folder:
        model_path = Path(folder) / "evaluate.apbundle"
        train_model(train, model_path, ngram=ngram, memory_limit=memory_limit)
        with Predictor.open(model_path, memory_limit) as predictor:
            commands = [entry.command for entry in train]
            strategies: dict[str, Strategy] = {
                "aprender-shell": predictor,
                "history": HistoryStrategy(commands),
                "match_prev_cmd": MatchPrevCmdStrategy(commands),
            }
            return evaluate(train, test, strategies, online=online, progress=progress)

"""Paging figures from real queries: replay the most recent commands as a user types them."""

from __future__ import annotations

from pathlib import Path

from aprender_shell.model.memory import MemoryLimit
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.model.query.stats import ModelStats

REPLAYED_COMMANDS = 200


def replayed_activity(model_path: Path, memory_limit: MemoryLimit | None) -> tuple[ModelStats, str]:
    """The model's figures with paging statistics from replaying the most recent commands.

    For when no server serves the model (the server's own figures are better: they are the
    queries your shells made).
    """
    with Predictor.open(model_path, memory_limit) as predictor:
        replayed = replay_recent(predictor, REPLAYED_COMMANDS)
        return (
            predictor.stats(),
            f"replaying your {replayed} most recent commands as typed just now",
        )


def replay_recent(predictor: Predictor, count: int) -> int:
    """Query ``predictor`` as a user typing their ``count`` most recent commands would."""
    from aprender_shell.model.store.corpus import decode_chunk

    source = f"model {predictor.model_path}"
    recent: list[str] = []
    for chunk in reversed(predictor.index.corpus):
        if len(recent) >= count:
            break
        entries = decode_chunk(predictor.bundle.get_model(chunk.name), chunk, source)
        predictor.bundle.evict(chunk.name)
        recent = [e.command for e in entries[-(count - len(recent)) :]] + recent
    previous: list[str] = []
    for command in recent:
        for typed in {0, 1, 2, len(command.split(" ", 1)[0]) + 1}:
            predictor.suggest(command[:typed], k=5, prev=previous[-2:])
        previous.append(command)
    return len(recent)

"""Where ``aprender-shell stats`` gets real paging figures from."""

from __future__ import annotations

from pathlib import Path

from aprender_shell.model.predictor import ModelStats, Predictor

REPLAYED_COMMANDS = 200


def paging_activity(model_path: Path, memory_limit: int | None) -> tuple[ModelStats, str]:
    """The model's figures with paging statistics from real queries, and where they came from.

    Prefer the running server's own statistics (the queries your shells made); without a
    server for this model, replay your most recent commands as typed queries here.
    """
    from_server = _server_stats(model_path)
    if from_server is not None:
        return from_server, "the running server (your shells' queries since it started)"
    with Predictor.open(model_path, memory_limit) as predictor:
        replayed = replay_recent(predictor, REPLAYED_COMMANDS)
        return (
            predictor.stats(),
            f"replaying your {replayed} most recent commands as typed just now",
        )


def replay_recent(predictor: Predictor, count: int) -> int:
    """Query ``predictor`` as a user typing their ``count`` most recent commands would."""
    from aprender_shell.model.train import decode_corpus

    names = predictor.index.get("corpus", [])
    recent: list[str] = []
    for name in reversed(names):
        if len(recent) >= count:
            break
        entries = decode_corpus(predictor.bundle.get_model(name))
        predictor.bundle.evict(name)
        recent = [e.command for e in entries[-(count - len(recent)) :]] + recent
    previous: list[str] = []
    for command in recent:
        for typed in {0, 1, 2, len(command.split(" ", 1)[0]) + 1}:
            predictor.suggest(command[:typed], k=5, prev=previous[-2:])
        previous.append(command)
    return len(recent)


def _server_stats(model_path: Path) -> ModelStats | None:
    try:
        from aprender_shell.service.client import server_model_stats
    except ImportError:
        return None
    try:
        return server_model_stats(model_path)
    except Exception:  # noqa: BLE001 - a sick server must not break 'stats'; fall back to replay
        return None

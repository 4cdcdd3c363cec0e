"""No secret from the history reaches any byte of the model, its corpus or its journal."""

from __future__ import annotations

import contextlib
import zlib
from pathlib import Path

from aprender_shell.bundle import ModelBundle
from aprender_shell.history.files import read_history
from aprender_shell.model.predictor import Predictor
from aprender_shell.model.train import train_model
from tests.history.secret_samples import CLEAN_COMMANDS, SECRET_COMMANDS
from tests.model.sessions import WORKDAY, write_zsh_history


def every_view(model: Path) -> list[bytes]:
    """The file's bytes, each entry as stored and inflated, and zlib-packed parts inflated."""
    views = [model.read_bytes()]
    bundle = ModelBundle.load(model)
    for name in bundle.model_names():
        data = bundle.get_model(name)
        views.append(data)
        with contextlib.suppress(zlib.error):  # the corpus is zlib inside its entry
            views.append(zlib.decompress(data))
    return views


def leaked(views: list[bytes], secret: str) -> bool:
    needles = {secret.encode(), secret.encode("utf-16-le")}
    # a secret split by a tokenizer still leaks if a long piece of it is stored
    needles |= {secret[i : i + 16].encode() for i in range(0, max(1, len(secret) - 15), 8)}
    return any(needle in view for view in views for needle in needles)


def test_training_on_a_history_full_of_secrets_stores_none(tmp_path: Path) -> None:
    commands = []
    for number, (command, _) in enumerate(SECRET_COMMANDS):
        commands += [WORKDAY[number % len(WORKDAY)], command, command]  # repeated: frequent
    commands += CLEAN_COMMANDS
    history = tmp_path / "history"
    write_zsh_history(history, commands)
    model = tmp_path / "model.apbundle"
    report = train_model(read_history(history), model, memory_limit=256 * 1024)
    assert report.secrets_dropped == 2 * len(SECRET_COMMANDS)

    views = every_view(model)
    assert any(b"git commit -m fix" in view for view in views)  # the search does see text
    for command, secret in SECRET_COMMANDS:
        assert not leaked(views, secret), command
    with Predictor.open(model) as predictor:
        clean = {s.text for c in CLEAN_COMMANDS for s in predictor.suggest(c, k=1)}
    assert clean == set(CLEAN_COMMANDS)  # ordinary commands mentioning passwords stay learnable


def test_recorded_secrets_never_reach_the_journal(tmp_path: Path) -> None:
    model = tmp_path / "model.apbundle"
    train_model([], model)
    with Predictor.open(model) as predictor:
        for command, _ in SECRET_COMMANDS:
            predictor.record(command, cwd="/src", exit_status=0, prev=["git status"])
            predictor.record("git status", prev=[command])
        predictor.save()
        for command, secret in SECRET_COMMANDS:
            assert all(secret not in s.text for s in predictor.suggest(command[:3], k=20))
    journal = model.with_name(model.name + ".journal").read_bytes()
    assert b"git status" in journal
    for command, secret in SECRET_COMMANDS:
        assert not leaked([journal], secret), command

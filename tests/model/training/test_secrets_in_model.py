"""No secret from the history reaches any byte of the model, its corpus or its journal."""

from __future__ import annotations

import contextlib
import json
import zlib
from pathlib import Path

import pytest

from aprender_shell.bundle import ModelBundle
from aprender_shell.history.files import read_history
from aprender_shell.history.formats import HistoryEntry
from aprender_shell.history.marks import mark_history
from aprender_shell.model.learned.journal import journal_path
from aprender_shell.model.memory import MemoryLimit
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.model.training.train import train_model
from aprender_shell.model.training.update import update_model
from aprender_shell.paths import history_filter_path
from aprender_shell.service.session import Session
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
    report = train_model(read_history(history), model, memory_limit=MemoryLimit(256 * 1024))
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


def test_a_history_ending_in_a_password_leaves_no_trace_in_the_model(tmp_path: Path) -> None:
    """The index once kept the last raw lines of the history, for 'update' to find its place."""
    password = "Xq7-createsuperuser-Pw"
    history = tmp_path / "history"
    last = f"python manage.py createsuperuser --password {password}"
    write_zsh_history(history, [*WORKDAY, last])
    entries = read_history(history)
    model = tmp_path / "model.apbundle"
    train_model(entries, model, history_marks=[mark_history(history, entries).to_dict()])
    views = every_view(model)
    assert not leaked(views, password)
    assert not any(b"createsuperuser" in view for view in views)


def test_an_older_model_holding_raw_lines_is_rewritten_by_update(tmp_path: Path) -> None:
    password = "Old-Format-Pw-4411"
    history = tmp_path / "history"
    commands = [*WORKDAY[:8], f"mysql -uroot -p{password}"]
    write_zsh_history(history, commands)
    entries = read_history(history)
    mark = mark_history(history, entries).to_dict()
    del mark["tail_hashes"], mark["salt"]
    mark["tail_commands"] = commands[-5:]  # what versions before hashing wrote
    model = tmp_path / "model.apbundle"
    train_model(entries, model, history_marks=[mark])
    with Predictor.open(model) as predictor:
        predictor.record("make lint")
        predictor.save()
    assert any(password.encode() in view for view in every_view(model))

    result = update_model(model)
    assert result.changed and any("salted hashes" in note for note in result.notes)
    assert not leaked(every_view(model), password)
    with Predictor.open(model) as predictor:  # the journal still counts: same generation
        assert "make lint" in [s.text for s in predictor.suggest("make l")]


def test_a_leading_space_keeps_a_command_out_of_training_and_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "model.apbundle"
    train_model([HistoryEntry(c) for c in [*WORKDAY, " echo train-marker-5521"]], model)
    assert not any(b"train-marker" in view for view in every_view(model))
    session = Session(lambda: Predictor.open(model), model_path=model)
    assert json.loads(session.handle_line('{"record": " echo json-marker-5521"}')) == {"ok": True}
    assert session.handle_line("record\tzsh\t/src\t0\t echo line-marker-5521") == "ok"
    assert json.loads(session.handle_line('{"record": "echo kept", "prev": [" echo prev-marker"]}'))
    answer = json.loads(session.handle_line('{"prefix": " echo", "k": 20}'))
    assert not any("marker" in s["text"] for s in answer["suggestions"])
    session.close()
    journal = journal_path(model).read_bytes()
    assert b"echo kept" in journal and b"marker" not in journal

    monkeypatch.setenv("APRENDER_SHELL_RECORD_SPACE", "1")  # the setting that turns it off
    with Predictor.open(model) as predictor:
        predictor.record(" echo learned-with-space")
        assert " echo learned-with-space" in [s.text for s in predictor.suggest(" echo l")]


def test_a_broken_history_filter_line_is_skipped_and_the_others_still_apply(
    tmp_path: Path,
) -> None:
    # One bad line must neither stop learning nor let through what the good lines keep out.
    model = tmp_path / "model.apbundle"
    train_model([HistoryEntry(c) for c in WORKDAY], model)
    filter_file = history_filter_path()
    filter_file.parent.mkdir(parents=True, exist_ok=True)
    filter_file.write_text("kept-out\n[broken\n")
    with Session(lambda: Predictor.open(model), model_path=model) as session:
        assert json.loads(session.handle_line('{"record": "echo kept-out 1"}')) == {"ok": True}
        assert json.loads(session.handle_line('{"record": "echo learned"}')) == {"ok": True}
        filter_file.write_text("kept-out\nwhile-fixed\n")
        assert json.loads(session.handle_line('{"record": "echo while-fixed"}')) == {"ok": True}
        assert json.loads(session.handle_line('{"record": "echo after"}')) == {"ok": True}
    journal = journal_path(model).read_bytes()
    assert b"kept-out" not in journal and b"while-fixed" not in journal
    assert b"echo learned" in journal and b"echo after" in journal

"""Every byte the tool writes, searched for every secret it was shown.

A fixture history holds a secret of each class the filter knows, a command with a leading space,
a command the user's ``history_filter`` names, and one that is later forgotten. It is trained on,
grown and updated, the same commands are recorded through a real background server (JSON and
line form, as context and in malformed requests too), one is forgotten while the server runs,
and the server is stopped. Then every file under the test's home, data, config and runtime
folders (model, journal, server log, pid and lock files, the filter file aside), every bundle
entry inflated, must hold none of them.
"""

from __future__ import annotations

import contextlib
import json
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from aprender_shell.bundle import ModelBundle
from aprender_shell.paths import history_filter_path, runtime_dir
from aprender_shell.service.client import Client
from aprender_shell.service.protocol.line_form import escape
from tests.history.secret_samples import SECRET_COMMANDS
from tests.model.sessions import WORKDAY, write_zsh_history
from tests.model.training.test_secrets_in_model import leaked
from tests.service.conftest import aprender

SPACE_MARKER = "leading-space-marker-6203"
FILTER_MARKER = "filtered-marker-8817"
FORGET_MARKER = "forgotten-marker-4490"
SPACED = f" echo {SPACE_MARKER}"
FILTERED = f"ssh ops@{FILTER_MARKER}.internal"
FORGOTTEN = f"./release.sh --target {FORGET_MARKER}"
SUPERUSER = "python manage.py createsuperuser --password Sup3r-Pw-1977"


def every_view(path: Path) -> Iterator[bytes]:
    data = path.read_bytes()
    yield data
    if data.startswith(b"APBUNDLE"):
        bundle = ModelBundle.load(path)
        for name in bundle.model_names():
            entry = bundle.get_model(name)
            yield entry
            with contextlib.suppress(zlib.error):
                yield zlib.decompress(entry)


@pytest.fixture
def stopped_server() -> Iterator[None]:
    yield
    aprender("server", "stop")


def test_no_written_byte_holds_a_secret_a_spaced_filtered_or_forgotten_command(
    tmp_path: Path, stopped_server: None
) -> None:
    home = tmp_path / "aprender"
    filter_file = history_filter_path()
    filter_file.parent.mkdir(parents=True, exist_ok=True)
    filter_file.write_text(f"# kept out\n{FILTER_MARKER}\n")

    secrets = [command for command, _ in SECRET_COMMANDS] + [SUPERUSER]
    half = len(secrets) // 2
    history = tmp_path / "zsh_history"
    first = [*WORKDAY, *secrets[:half], SPACED, FILTERED, FORGOTTEN, "git status", FORGOTTEN]
    write_zsh_history(history, [*first, SUPERUSER])  # the history ends in a password
    model = home / "model.apbundle"
    trained = aprender("train", "--history", str(history), "--model", str(model))
    assert trained.returncode == 0, trained.stderr

    with open(history, "a", encoding="utf-8") as grown:
        for number, command in enumerate([*secrets[half:], SPACED, "make test", FILTERED]):
            grown.write(f": {1_700_100_000 + number}:0;{command}\n")
    updated = aprender("update", "--model", str(model))
    assert updated.returncode == 0, updated.stderr

    started = aprender("server", "start", "--model", str(model))
    assert started.returncode == 0, started.stderr
    with Client(timeout=60) as client:
        for command in [*secrets, SPACED, FILTERED, FORGOTTEN, "docker ps"]:
            assert client.request({"record": command, "cwd": "/src", "prev": [command]}) == {
                "ok": True
            }
            line = "\t".join(["record", "zsh", "/src", "0", escape(command), escape(command)])
            assert client.request_line(line.encode()) == b"ok"
            # Malformed requests carrying the command: answered with an error, never logged.
            client.request_line(json.dumps({"record": command, "exit": "x"}).encode())
            client.request_line(f"record\tksh\t/src\t0\t{escape(command)}".encode())
        answer = client.request({"prefix": "docker p", "k": 5})
        assert "docker ps" in [s["text"] for s in answer["suggestions"]]
    forgotten = aprender("forget", FORGOTTEN, "--model", str(model))
    assert forgotten.returncode == 0, forgotten.stderr
    assert "The running server" in forgotten.stdout
    with Client(timeout=60) as client:
        answer = client.request({"prefix": "./release", "k": 20})
        assert not any(FORGET_MARKER in s["text"] for s in answer["suggestions"])
    assert aprender("server", "stop").returncode == 0

    written = [
        path for path in tmp_path.rglob("*")
        if path.is_file() and path not in (history, filter_file)
    ]
    names = {path.name for path in written}
    assert {"model.apbundle", "model.apbundle.journal", "server.log"} <= names, names
    assert runtime_dir().is_relative_to(home)
    views = [view for path in written for view in every_view(path)]
    assert any(b"docker ps" in view for view in views)  # the search does see what was learned
    for command, secret in [*SECRET_COMMANDS, (SUPERUSER, "Sup3r-Pw-1977")]:
        assert not leaked(views, secret), command
    for marker in (SPACE_MARKER, FILTER_MARKER, FORGET_MARKER):
        assert not leaked(views, marker), marker

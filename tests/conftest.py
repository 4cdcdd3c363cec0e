"""Test-wide fixtures: every test runs with a private, empty home.

``APRENDER_SHELL_HOME`` and ``HOME`` point into ``tmp_path`` so no test reads the developer's
history or writes a model into the real data folder.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("APRENDER_SHELL_HOME", str(tmp_path / "aprender"))
    for name in ("HISTFILE", "XDG_RUNTIME_DIR", "XDG_DATA_HOME", "ZDOTDIR"):
        monkeypatch.delenv(name, raising=False)
    yield home


@pytest.fixture
def victim() -> Iterator[subprocess.Popen[bytes]]:
    """One of the user's own processes, which nothing of ours may signal."""
    process = subprocess.Popen(["sleep", "600"])
    try:
        yield process
    finally:
        process.kill()
        process.wait()

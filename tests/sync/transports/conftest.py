"""Fixtures for the real transports: a Syncthing pair on loopback and a bare git repository."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sync.transports.gitrepo import GitRemote, require_git
from tests.sync.transports.syncthing import Pair, syncthing_pair


@pytest.fixture
def syncthing(tmp_path: Path) -> Iterator[Pair]:
    """Two running Syncthing instances sharing one folder (``pair[0].folder``, ``pair[1].folder``).

    The instances are stopped when the test ends, whether it passed or failed.
    """
    folders = [tmp_path / "machine-a" / "synced", tmp_path / "machine-b" / "synced"]
    with syncthing_pair(tmp_path / "syncthing", folders) as pair:
        yield pair


@pytest.fixture
def git_remote(tmp_path: Path) -> GitRemote:
    require_git()
    return GitRemote(tmp_path / "remote.git")

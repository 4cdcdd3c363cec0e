"""A merge of many records holds about what training on them holds, not a dict per record.

The peak resident memory of each process is the kernel's (``wait4``), measured from outside, in
a fresh process started by a small launcher: a child started from pytest itself would begin its
peak at pytest's own size (exec keeps the high-water mark), which hides what the command adds."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from benchmarks.predictor import run_process
from tests.sync.conftest import Devices

RECORDS = 60_000


def commands(count: int) -> list[str]:
    """What a person types: a few hundred distinct commands, repeated, with folders and files."""
    verbs = ["git status", "git diff", "ls -la", "make test", "cd src", "vim main.py",
             "docker ps", "kubectl get pods", "cargo build", "python3 -m pytest"]
    return [f"{verbs[i % len(verbs)]} {i % 97:02d}" if i % 3 else verbs[i % len(verbs)]
            for i in range(count)]


def peak_rss(home: Path, *args: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """Run the command line under ``home``; its own peak resident memory in bytes."""
    with monkeypatch.context() as patch:
        patch.setenv("APRENDER_SHELL_HOME", str(home))
        return run_process([sys.executable, "-m", "aprender_shell", *args]).peak


def test_the_peak_measured_is_the_command_s_own_not_pytest_s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ballast = bytearray(400 * 2**20)  # pytest grown large by the tests before this one
    assert peak_rss(tmp_path, "--version", monkeypatch=monkeypatch) < len(ballast) // 4


def test_sync_now_taking_in_many_records_peaks_near_train_on_them(
    devices: Devices, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = devices.first("a", ["echo a"])
    b = devices.joined("b", ["echo b"], a.key())
    # A device with a long history joins: it publishes all of it, for b to take in.
    many = commands(RECORDS)
    devices.joined("c", many, a.key())
    history = devices.root / "many.bash_history"
    history.write_text("".join(f"{command}\n" for command in many))
    train = peak_rss(devices.root / "trainer", "train", "--history", str(history),
                     monkeypatch=monkeypatch)
    merge = peak_rss(b.home, "sync", "now", monkeypatch=monkeypatch)
    assert "git status 01" in b.suggest("git status 0")
    # A record held as a dict, twice over, costs about 1.8 KB: 60,000 of them would add
    # about 100 MB. Entries sharing their commands cost what training's do.
    assert merge < train * 1.3, (merge >> 20, train >> 20)

"""A merge of many records holds about what training on them holds, not a dict per record.

The peak resident memory of each process is the kernel's (``wait4``), measured from outside."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.sync.conftest import Devices

RECORDS = 60_000


def commands(count: int) -> list[str]:
    """What a person types: a few hundred distinct commands, repeated, with folders and files."""
    verbs = ["git status", "git diff", "ls -la", "make test", "cd src", "vim main.py",
             "docker ps", "kubectl get pods", "cargo build", "python3 -m pytest"]
    return [f"{verbs[i % len(verbs)]} {i % 97:02d}" if i % 3 else verbs[i % len(verbs)]
            for i in range(count)]


def peak_rss(home: Path, *args: str) -> int:
    """Run the command line under ``home``; its peak resident memory in bytes."""
    env = {**os.environ, "APRENDER_SHELL_HOME": str(home)}
    child = subprocess.Popen([sys.executable, "-m", "aprender_shell", *args], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert child.stderr is not None
    _, status, usage = os.wait4(child.pid, 0)
    error = child.stderr.read().decode(errors="replace")
    child.stderr.close()
    child.returncode = os.waitstatus_to_exitcode(status)
    assert child.returncode == 0, (args, error)
    return usage.ru_maxrss * 1024


def test_sync_now_taking_in_many_records_peaks_near_train_on_them(devices: Devices) -> None:
    a = devices.first("a", ["echo a"])
    b = devices.joined("b", ["echo b"], a.key())
    # A device with a long history joins: it publishes all of it, for b to take in.
    many = commands(RECORDS)
    devices.joined("c", many, a.key())
    history = devices.root / "many.bash_history"
    history.write_text("".join(f"{command}\n" for command in many))
    train = peak_rss(devices.root / "trainer", "train", "--history", str(history))
    merge = peak_rss(b.home, "sync", "now")
    assert "git status 01" in b.suggest("git status 0")
    # A record held as a dict, twice over, costs about 1.8 KB: 60,000 of them would add
    # about 100 MB. Entries sharing their commands cost what training's do.
    assert merge < train * 1.3, (merge >> 20, train >> 20)

"""What the other machines contribute: their commands keep their host, this host's own
commands are preferred where the habits differ, and 'stats' counts commands per device."""

from __future__ import annotations

import os

from aprender_shell.model.learned.journal import Journal
from aprender_shell.model.training.writer import index_of
from tests.sync.conftest import Devices


def test_this_hosts_commands_come_first_where_habits_differ(devices: Devices) -> None:
    a = devices.device("a", ["ls"])
    journal = Journal(a.model, index_of(a.model).generation)
    here = os.uname().nodename
    # Run as often on each machine; the other machine's most recently (synced last).
    for host, command in ((here, "make run-here"), ("desktop", "make run-there")) * 2:
        journal.append({"c": command, "host": host, "t": 1})
    journal.close()
    assert a.suggest("make")[:2] == ["make run-here", "make run-there"]
    # Where only the other machine runs it, it is still suggested.
    assert a.suggest("make run-t") == ["make run-there"]


def test_stats_shows_commands_per_device(devices: Devices) -> None:
    a = devices.first("a", ["echo one", "echo two"])
    b = devices.joined("b", ["echo three"], a.key())
    a.ok("sync", "now")
    out = a.ok("stats")
    section = out[out.index("Commands per device"):]
    lines = section.splitlines()[1:3]
    assert any("this device" in line and " 2 " in f" {line} " for line in lines), section
    assert any(" 1 " in f" {line} " for line in lines), section
    del b

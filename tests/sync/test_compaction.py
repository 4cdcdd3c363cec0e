"""A device compacts its own segments; the others take the compacted chain wherever they were
in it: nothing applied twice, nothing lost, forgets kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sync.conftest import Device, Devices


def segments(devices: Devices, device: Device) -> list[Path]:
    own = [line.split()[2].rstrip(",") for line in device.status().splitlines()
           if line.startswith("This:")][0]
    return sorted((devices.folder / own).glob("*.aps"))


def test_a_compacted_chain_is_taken_in_once_by_every_device(
        devices: Devices, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("aprender_shell.sync.compaction.COMPACT_AT", 4)
    a = devices.first("a", ["echo a-trained"])
    b = devices.joined("b", ["echo b-trained"], a.key())
    a.record("echo first")
    a.record("ssh secret-host")
    a.ok("sync", "now")
    b.ok("sync", "now")  # b has applied the start of a's chain
    a.ok("forget", "ssh secret-host")
    published = 2  # the init segment and 'echo first'; then the forget's
    for number in range(2, 7):
        a.record(f"echo number-{number}")
        a.ok("sync", "now")
        published += 1
    files = segments(devices, a)
    assert len(files) < published, [path.name for path in files]  # compacted
    # The segments b applied are gone; what replaced them holds the rest.
    b.ok("sync", "now")
    c = devices.joined("c", ["echo c-trained"], a.key())  # from the compacted chain alone
    for device in (b, c):
        assert not [line for line in device.status().splitlines()
                    if line.startswith("Refused:")], device.status()
        learned = [record["c"] for record in device.journal()]
        for command in ["echo a-trained", "echo first",
                        *(f"echo number-{number}" for number in range(2, 7))]:
            assert learned.count(command) == 1, (device.name, command, learned)
        assert "ssh secret-host" not in learned
    # And a later segment follows the compacted one for both.
    a.record("echo after-compaction")
    a.ok("sync", "now")
    for device in (b, c):
        device.ok("sync", "now")
        assert [r["c"] for r in device.journal()].count("echo after-compaction") == 1


def test_replaced_segments_still_delivered_beside_the_compacted_one_are_learned_once(
        devices: Devices, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sync tool may deliver the compacted segment before it deletes those it replaces."""
    import shutil

    monkeypatch.setattr("aprender_shell.sync.compaction.COMPACT_AT", 4)
    a = devices.first("a", ["echo a-trained"])
    b = devices.joined("b", ["echo b-trained"], a.key())
    a.record("echo first")
    a.ok("sync", "now")
    b.ok("sync", "now")
    kept = devices.root / "kept"
    for number in range(2, 7):
        shutil.copytree(segments(devices, a)[0].parent, kept, dirs_exist_ok=True)
        a.record(f"echo number-{number}")
        a.ok("sync", "now")
    own = segments(devices, a)[0].parent
    assert len(list(kept.glob("*.aps"))) > len(list(own.glob("*.aps")))  # it compacted
    shutil.copytree(kept, own, dirs_exist_ok=True)  # the removals not delivered yet
    b.ok("sync", "now")
    learned = [record["c"] for record in b.journal()]
    for command in ["echo first", *(f"echo number-{number}" for number in range(2, 7))]:
        assert learned.count(command) == 1, (command, learned)

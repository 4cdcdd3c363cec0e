"""The transports themselves, with plain files: what one device writes, the other receives."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.sync.transports.gitrepo import GitRemote
from tests.sync.transports.syncthing import Pair, synced_files, syncthing_pair


@pytest.mark.slow  # two Syncthing processes start and connect
def test_a_file_written_in_one_syncthing_folder_appears_in_the_other(syncthing: Pair) -> None:
    a, b = syncthing[0].folder, syncthing[1].folder
    (a / "device-a").mkdir()
    (a / "device-a" / "segment-1").write_bytes(b"\x00sealed by a\xff")
    (b / "device-b").mkdir()
    (b / "device-b" / "segment-1").write_bytes(b"sealed by b")
    syncthing.settle()
    assert (b / "device-a" / "segment-1").read_bytes() == b"\x00sealed by a\xff"
    assert (a / "device-b" / "segment-1").read_bytes() == b"sealed by b"
    # A file deleted on one side is deleted on the other: how a device that leaves is seen.
    (a / "device-a" / "segment-1").unlink()
    syncthing.settle()
    assert not (b / "device-a" / "segment-1").exists()
    assert synced_files(a) == synced_files(b) == {"device-b/segment-1": b"sealed by b"}
    # As Syncthing itself reports its settings: nothing reaches beyond the loopback.
    for instance in syncthing.instances:
        options = instance.rest("GET", "/rest/config/options")
        assert isinstance(options, dict)
        assert options["listenAddresses"] == [f"tcp://127.0.0.1:{instance.listen_port}"]
        for switch in ("globalAnnounceEnabled", "localAnnounceEnabled", "relaysEnabled",
                       "natEnabled", "crashReportingEnabled"):
            assert options[switch] is False, switch
        assert options["urAccepted"] == -1 and options["autoUpgradeIntervalH"] == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes: it no longer runs, its parent has not reaped it yet.
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


@pytest.mark.slow
def test_no_syncthing_process_outlives_a_failing_test(tmp_path: Path) -> None:
    pids: list[int] = []
    with pytest.raises(RuntimeError, match="the test failed"), syncthing_pair(
        tmp_path, [tmp_path / "a", tmp_path / "b"]
    ) as pair:
        pids = [instance.process.pid for instance in pair.instances if instance.process]
        raise RuntimeError("the test failed")
    assert len(pids) == 2
    assert not [pid for pid in pids if _alive(pid)]
    # Nor any child of theirs: the whole process group is gone.
    listed = subprocess.run(["ps", "-e", "-o", "pgid="], capture_output=True, text=True,
                            check=True).stdout.split()
    assert not {str(pid) for pid in pids} & set(listed)


def test_a_file_committed_in_one_clone_reaches_the_other_by_pull(
    git_remote: GitRemote, tmp_path: Path
) -> None:
    a = git_remote.clone(tmp_path / "machine-a" / "synced")
    b = git_remote.clone(tmp_path / "machine-b" / "synced")
    (a / "device-a").mkdir()
    (a / "device-a" / "segment-1").write_bytes(b"sealed by a")
    (b / "device-b").mkdir()
    (b / "device-b" / "segment-1").write_bytes(b"sealed by b")
    # Both publish before either takes in: their own files never conflict.
    git_remote.publish(a)
    git_remote.publish(b)
    git_remote.take_in(a)
    assert (a / "device-b" / "segment-1").read_bytes() == b"sealed by b"
    assert (b / "device-a" / "segment-1").read_bytes() == b"sealed by a"

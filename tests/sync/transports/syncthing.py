"""Two (or more) real Syncthing instances on loopback, sharing one folder, for the sync tests.

Each instance has a home of its own (``syncthing generate --home``), listens on a static
``tcp://127.0.0.1:PORT`` and knows the others by device id at their static addresses. Global and
local discovery, relays, NAT traversal, upgrades, usage reporting and crash reporting are off, so
nothing leaves the machine. The GUI/REST listens on loopback with an API key of ours, which is how
``settle`` waits for "in sync" instead of sleeping: it asks each instance to scan, then polls until
every instance is idle, needs nothing, sees every other at 100% and the folders hold the same
bytes.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

FOLDER_ID = "aprender-sync"
# Syncthing's own bookkeeping inside a shared folder: never part of what was synced.
OWN_ENTRIES = (".stfolder", ".stversions", ".stignore")
WAIT = 90.0  # seconds: a deadline for a failing test, never a speed target


def require_syncthing() -> str:
    """syncthing's path; missing, it skips the test, or fails it when CI requires the tools."""
    found = shutil.which("syncthing")
    if found is None:
        if os.environ.get("APRENDER_SHELL_REQUIRE_SHELLS") == "1":
            pytest.fail("syncthing is not installed (APRENDER_SHELL_REQUIRE_SHELLS=1)")
        pytest.skip("syncthing is not installed")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def synced_files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` but Syncthing's own entries and its temporary files."""
    found: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if relative.parts[0] in OWN_ENTRIES or path.name.startswith(".syncthing."):
            continue
        if path.is_file():
            found[str(relative)] = path.read_bytes()
    return found


@dataclass
class Instance:
    """One Syncthing device: its home, its shared folder, its ports and its REST API key."""

    name: str
    home: Path
    folder: Path
    listen_port: int
    gui_port: int
    api_key: str
    device_id: str = ""
    process: subprocess.Popen[bytes] | None = None

    def rest(self, method: str, path: str) -> object:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.gui_port}{path}", method=method,
            headers={"X-API-Key": self.api_key},
        )
        with urllib.request.urlopen(request, timeout=WAIT) as answer:
            body = answer.read()
        return json.loads(body) if body.strip() else None

    def log(self) -> str:
        path = self.home / "syncthing.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def _configure(instance: Instance, peers: Sequence[Instance]) -> None:
    """Rewrite the generated config.xml: loopback only, static peers, the one shared folder."""
    path = instance.home / "config.xml"
    tree = ElementTree.parse(path)
    root = tree.getroot()
    for device in root.findall("device"):
        root.remove(device)
    everyone = [instance, *peers]
    for member in everyone:
        device = ElementTree.SubElement(root, "device", id=member.device_id, name=member.name,
                                        compression="metadata", introducer="false")
        address = "dynamic" if member is instance else f"tcp://127.0.0.1:{member.listen_port}"
        ElementTree.SubElement(device, "address").text = address
    gui = root.find("gui")
    assert gui is not None
    gui.set("tls", "false")
    for tag, text in (("address", f"127.0.0.1:{instance.gui_port}"), ("apikey", instance.api_key)):
        element = gui.find(tag)
        assert element is not None
        element.text = text
    options = root.find("options")
    assert options is not None
    settings = {
        "listenAddress": f"tcp://127.0.0.1:{instance.listen_port}",
        "globalAnnounceEnabled": "false", "localAnnounceEnabled": "false",
        "relaysEnabled": "false", "natEnabled": "false", "startBrowser": "false",
        "urAccepted": "-1", "autoUpgradeIntervalH": "0", "crashReportingEnabled": "false",
        "reconnectionIntervalS": "1", "minHomeDiskFree": "0",
    }
    for tag, text in settings.items():
        element = options.find(tag)
        if element is None:
            element = ElementTree.SubElement(options, tag)
        element.text = text
    folder = ElementTree.SubElement(
        root, "folder", id=FOLDER_ID, label=FOLDER_ID, path=str(instance.folder),
        type="sendreceive", rescanIntervalS="2", fsWatcherEnabled="true", fsWatcherDelayS="1",
    )
    for member in everyone:
        ElementTree.SubElement(folder, "device", id=member.device_id)
    ElementTree.SubElement(folder, "markerName").text = ".stfolder"
    ElementTree.SubElement(folder, "minDiskFree", unit="%").text = "0"
    tree.write(path)


class Pair:
    """Running instances that share ``FOLDER_ID``; ``settle()`` waits until they agree."""

    def __init__(self, instances: Sequence[Instance]) -> None:
        self.instances = list(instances)

    def __getitem__(self, index: int) -> Instance:
        return self.instances[index]

    def settle(self) -> None:
        """Scan every folder now, then wait until every instance holds the same files."""
        deadline = time.monotonic() + WAIT
        for instance in self.instances:
            instance.rest("POST", f"/rest/db/scan?folder={FOLDER_ID}")
        while not self._agree():
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {one.name}\n{one.log()}" for one in self.instances)
                raise AssertionError(f"Syncthing did not settle in {WAIT:.0f}s\n{logs}")
            time.sleep(0.1)

    def _agree(self) -> bool:
        for instance in self.instances:
            status = instance.rest("GET", f"/rest/db/status?folder={FOLDER_ID}")
            assert isinstance(status, dict)
            if status["state"] != "idle" or status["needTotalItems"] or status["pullErrors"]:
                return False
            for other in self.instances:
                if other is instance:
                    continue
                done = instance.rest(
                    "GET", f"/rest/db/completion?folder={FOLDER_ID}&device={other.device_id}")
                assert isinstance(done, dict)
                if done["completion"] < 100 or done["needItems"] or done["needDeletes"]:
                    return False
        contents = [synced_files(instance.folder) for instance in self.instances]
        return all(content == contents[0] for content in contents[1:])


def _connected(instance: Instance, others: Sequence[Instance]) -> bool:
    try:
        answer = instance.rest("GET", "/rest/system/connections")
    except (urllib.error.URLError, ConnectionError, OSError):
        return False
    assert isinstance(answer, dict)
    connections = answer["connections"]
    return all(connections.get(other.device_id, {}).get("connected") for other in others)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)
    except ProcessLookupError:  # it exited between the poll and the signal
        process.wait(timeout=20)


@contextmanager
def syncthing_pair(root: Path, folders: Sequence[Path]) -> Iterator[Pair]:
    """One running Syncthing instance per folder, all sharing it; stopped on the way out."""
    executable = require_syncthing()
    instances = []
    for number, folder in enumerate(folders):
        name = f"device{number}"
        home = root / f"syncthing-{name}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".stfolder").mkdir(exist_ok=True)
        subprocess.run([executable, "generate", "--home", str(home), "--no-default-folder",
                        "--skip-port-probing"], check=True, capture_output=True, timeout=WAIT)
        device_id = subprocess.run(
            [executable, "serve", "--home", str(home), "--device-id"],
            check=True, capture_output=True, text=True, timeout=WAIT,
        ).stdout.strip()
        instances.append(Instance(name, home, folder, free_port(), free_port(),
                                  secrets.token_hex(16), device_id))
    for instance in instances:
        _configure(instance, [other for other in instances if other is not instance])
    environment = {**os.environ, "STNORESTART": "1", "STNOUPGRADE": "1",
                   "STNODEFAULTFOLDER": "1"}
    try:
        for instance in instances:
            instance.process = subprocess.Popen(
                [executable, "serve", "--home", str(instance.home), "--no-browser",
                 "--no-restart", "--no-upgrade", "--logfile",
                 str(instance.home / "syncthing.log")],
                env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True,
            )
        deadline = time.monotonic() + WAIT
        for instance in instances:
            others = [other for other in instances if other is not instance]
            while not _connected(instance, others):
                assert instance.process is not None
                if instance.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"Syncthing {instance.name} did not connect to its "
                                         f"peers\n{instance.log()}")
                time.sleep(0.1)
        pair = Pair(instances)
        pair.settle()
        yield pair
    finally:
        for instance in instances:
            if instance.process is not None:
                _stop(instance.process)

"""The shared folder's layout, and what else a sync engine may leave in it.

::

    FOLDER/aprender-shell.sync            the folder's sealed marker (written by 'sync init')
    FOLDER/<device>/<seq>.aps              one device's segments: 16 hex digits, 10 digits

Only a device writes in its own folder, and never the same name twice, so no sync engine sees
two writers of one file. Names say nothing but a random device id and a number. Temporary
names of sync tools (``.syncthing.*.tmp``, ``~*``), their conflict copies
(``*.sync-conflict-*``, "conflicted copy"), our own temporaries and every dot-file (the tools'
bookkeeping: ``.stfolder``, ``.git``, ``.gitignore``) are recognised and passed over; other
names are counted as unknown (one line in 'sync status').
"""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from aprender_shell.sync import SyncError

MARKER_NAME = "aprender-shell.sync"
SEGMENT_SUFFIX = ".aps"
DEVICE_NAME = re.compile(r"^[0-9a-f]{16}$")
SEGMENT_NAME = re.compile(r"^([0-9]{10})\.aps$")
# A segment larger than this is refused unread (a device writes at most a few MB at once).
MAX_SEGMENT_BYTES = 64 << 20
_TOOL_FOLDERS = {"desktop.ini", "Icon\r", "Thumbs.db"}


def new_device_id() -> str:
    return os.urandom(8).hex()


def segment_name(seq: int) -> str:
    return f"{seq:010d}{SEGMENT_SUFFIX}"


def is_tool_file(name: str) -> bool:
    """Whether ``name`` is a sync tool's (or our own) temporary, conflict copy or bookkeeping."""
    lowered = name.lower()
    return (
        name in _TOOL_FOLDERS
        # Every dot-file: ours are never one but our temporaries, and the tools' are
        # (.git, .gitignore, .stignore, .sync_*.db, .DS_Store, ...).
        or name.startswith(("~", "."))
        or ".sync-conflict-" in lowered
        or "conflicted copy" in lowered
        or "conflict" in lowered and "(" in name
        or lowered.endswith((".tmp", ".part", ".partial", ".swp"))
    )


@dataclass
class Listing:
    """What the folder holds now: each device's segment numbers, ascending."""

    devices: dict[str, list[int]] = field(default_factory=dict)
    marker: bool = False
    tool_files: int = 0
    unknown: list[str] = field(default_factory=list)


def list_folder(folder: Path) -> Listing:
    """Read the folder's names (no file contents); ``SyncError`` when it cannot be read."""
    listing = Listing()
    try:
        names = os.listdir(folder)
    except OSError as error:
        raise _unreachable(folder, error) from None
    for name in names:
        if name == MARKER_NAME:
            listing.marker = True
        elif is_tool_file(name):
            listing.tool_files += 1
        elif DEVICE_NAME.match(name):
            listing.devices[name] = _segments(folder / name, listing)
        else:
            listing.unknown.append(name)
    return listing


def _segments(device_folder: Path, listing: Listing) -> list[int]:
    numbers = []
    try:
        names = os.listdir(device_folder)
    except NotADirectoryError:
        listing.unknown.append(device_folder.name)
        return []
    except OSError as error:
        raise _unreachable(device_folder, error) from None
    for name in names:
        match = SEGMENT_NAME.match(name)
        if match:
            numbers.append(int(match.group(1)))
        elif is_tool_file(name):
            listing.tool_files += 1
        else:
            listing.unknown.append(f"{device_folder.name}/{name}")
    numbers.sort()
    return numbers


def read_segment(folder: Path, device: str, seq: int) -> bytes:
    """The bytes of one segment; ``OSError`` when it is gone, ``SyncError`` if oversized."""
    path = folder / device / segment_name(seq)
    with open(path, "rb") as handle:
        data = handle.read(MAX_SEGMENT_BYTES + 1)
    if len(data) > MAX_SEGMENT_BYTES:
        raise SyncError(f"larger than {MAX_SEGMENT_BYTES >> 20} MB")
    return data


def write_once(path: Path, data: bytes) -> None:
    """Write ``data`` at ``path`` through a temporary name, fsynced, then renamed: a sync
    engine never ships a half-written segment under its final name."""
    from aprender_shell.fileio import atomic_write_bytes

    path.parent.mkdir(mode=0o700, exist_ok=True)
    try:
        atomic_write_bytes(path, data, 0o600)
    except OSError as error:
        full = error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
        raise SyncError(
            f"could not write {path}: {error.strerror or error}"
            + ("; free some space there, nothing is lost: it is written at the next sync"
               if full else "")
        ) from None


def fingerprint(folder: Path, own: str = "") -> tuple[int, ...]:
    """A cheap summary that changes when any device but ``own`` adds a file (one stat per
    device)."""
    stamps: list[int] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name != own and DEVICE_NAME.match(entry.name):
                    stamps.append(entry.stat().st_mtime_ns)
        stamps.append(os.stat(folder).st_mtime_ns)
    except OSError:
        return (-1,)
    stamps.sort()
    return tuple(stamps)


def _unreachable(folder: Path, error: OSError) -> SyncError:
    return SyncError(f"the sync folder {folder} cannot be read ({error.strerror or error}): "
                     "check that it is mounted and your sync tool runs; nothing was changed")

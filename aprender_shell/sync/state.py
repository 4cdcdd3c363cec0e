"""What this device remembers about syncing, in the data folder (never in the shared folder).

``sync/state.json`` (0600, beside the key): the folder, this device's id and next segment
number, what it published, each other device's last segment applied (its number and digest, so
the next must follow it), the tombstones known, and what the last sync refused.

Version history (``STATE_VERSION``): 1 = this layout. Newer versions are refused.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aprender_shell.sync import KEY_FILENAME, SyncError
from aprender_shell.sync import key_path as key_path
from aprender_shell.sync import sync_dir as sync_dir

STATE_VERSION = 1
STATE_FILENAME = "state.json"
LOCK_FILENAME = "lock"
# Every file of ours in sync_dir() ('uninstall' takes them away with the model).
SYNC_FILES = (KEY_FILENAME, STATE_FILENAME, LOCK_FILENAME)


def state_path() -> Path:
    return sync_dir() / STATE_FILENAME


@dataclass
class Peer:
    """Another device, as far as its segments were applied here."""

    seq: int = 0  # the last segment applied
    digest: str = ""  # of that segment's sealed bytes: the next one names it
    records: int = 0
    host: str = ""
    last_t: int | None = None  # the newest record's time, by that device's clock
    left: bool = False
    upto: int = 0  # the highest record number applied (a compacted segment repeats some)


@dataclass
class SyncState:
    folder: str | None
    device: str
    host: str = ""
    folder_id: str = ""  # from the folder's marker: joining the same folder again resumes
    next_seq: int = 1
    last_digest: str = ""
    records_published: int = 0
    # Digests of this device's journal records already published, with their counts.
    published: dict[str, int] = field(default_factory=dict)
    peers: dict[str, Peer] = field(default_factory=dict)
    tombstones: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    last_sync: float | None = None
    last_error: str | None = None  # why the last sync failed, until one succeeds

    @property
    def active(self) -> bool:
        return self.folder is not None

    def published_counter(self) -> Counter[str]:
        return Counter(self.published)


def load_state() -> SyncState | None:
    """The state, or None when this device never synced."""
    path = state_path()
    try:
        raw = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise SyncError(f"cannot read {path} ({error}): run 'aprender-shell sync leave' and "
                        "join again") from None
    if not isinstance(raw, dict) or raw.get("version") != STATE_VERSION:
        raise SyncError(f"{path} was written by another version of aprender-shell: upgrade it, "
                        "or run 'aprender-shell sync leave' and join again")
    try:
        peers = {str(k): Peer(**v) for k, v in raw.pop("peers", {}).items()}
        raw.pop("version")
        return SyncState(**raw, peers=peers)
    except TypeError as error:
        raise SyncError(f"{path} is damaged ({error}): run 'aprender-shell sync leave' and "
                        "join again") from None


def save_state(state: SyncState) -> None:
    from aprender_shell.fileio import atomic_write_bytes
    from aprender_shell.paths import ensure_private_dir

    ensure_private_dir(sync_dir())
    data = asdict(state)
    data["version"] = STATE_VERSION
    atomic_write_bytes(state_path(), json.dumps(data, sort_keys=True).encode(), 0o600)


def active_state() -> SyncState:
    """The state of a device that syncs now; ``SyncError`` saying how to start otherwise."""
    state = load_state()
    if state is None or not state.active:
        raise SyncError("this device does not sync: run 'aprender-shell sync init FOLDER' or "
                        "'aprender-shell sync join FOLDER --key KEY'")
    return state


def syncing() -> bool:
    """Cheap: whether this device has a key (it syncs), without reading anything."""
    return os.path.exists(key_path())


def summary() -> dict[str, Any] | None:
    """The status answer's ``sync`` part (PROTOCOL.md) and ``doctor``'s sync line, from this
    device's state alone (nothing in the shared folder is read: both must answer at once);
    None when this device does not sync."""
    if not syncing():
        return None
    try:
        state = load_state()
    except SyncError as error:
        return {"folder": None, "device": None, "devices": 0, "last_sync": None,
                "error": str(error), "refused": []}
    if state is None or not state.active:
        return None
    return {"folder": state.folder, "device": state.device, "devices": len(state.peers),
            "last_sync": state.last_sync, "error": state.last_error,
            "refused": list(state.refused)}

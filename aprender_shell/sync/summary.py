"""What ``doctor`` and the server's status say about this device's sync, from its state alone
(nothing in the shared folder is read: both must answer at once)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aprender_shell.sync import SyncError
from aprender_shell.sync.state import load_state, syncing

if TYPE_CHECKING:
    from aprender_shell.doctor import Finding

STATUS = "'aprender-shell sync status'"


def summary() -> dict[str, Any] | None:
    """The status answer's ``sync`` part (PROTOCOL.md); None when this device does not sync."""
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


def check_sync() -> list[Finding]:
    """``doctor``'s sync line: joined or not, the last merge, what it refused."""
    from aprender_shell.doctor import Finding

    found = summary()
    if found is None:
        return [Finding("sync", True, "this device does not sync (optional: 'aprender-shell "
                                      "sync init FOLDER' sets it up)")]
    if found["folder"] is None:
        return [Finding("sync", False, str(found["error"]), "run 'aprender-shell sync leave' "
                                                           "and join again")]
    last = found["last_sync"]
    when = ("never merged yet" if last is None
            else "last merge " + time.strftime("%Y-%m-%d %H:%M", time.localtime(last)))
    detail = f"syncs with {found['folder']} ({found['devices']} other devices seen), {when}"
    if found["error"]:
        return [Finding("sync", False, f"{detail}; the last sync failed: {found['error']}",
                        f"see {STATUS}, then 'aprender-shell sync now'")]
    refused = found["refused"]
    if refused:
        more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        return [Finding("sync", False, f"{detail}; refused {refused[0]}{more}",
                        f"see {STATUS}")]
    return [Finding("sync", True, detail)]

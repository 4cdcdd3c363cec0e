"""Several machines, one model: sync through a folder the user already keeps in step.

Each device writes only files of its own into the shared folder (``layout``), each one sealed
with the key that never enters the folder (``keys``, ``sealing``), in segments written once
(``segments``). Publishing (``publish``) seals what this device learned since it last did;
merging (``merge``) reads the other devices' segments in order and puts their records into the
journal through the writer protocol, so the fold learns them like the shells' own records.
``engine`` runs both (``sync now``); ``watch`` lets a running server do it by itself.
"""

from __future__ import annotations

from pathlib import Path

from aprender_shell.errors import AprenderError

# Here, not in ``state``: a server checks for the key at every check, and a device that does
# not sync must not pay for importing the rest of sync (``dataclasses``, ``hashlib``, ...).
KEY_FILENAME = "key"


def sync_dir() -> Path:
    from aprender_shell.paths import data_dir

    return data_dir() / "sync"


def key_path() -> Path:
    return sync_dir() / KEY_FILENAME


class SyncError(AprenderError):
    """Sync is not set up, or the folder or key cannot be used (the message says what to do)."""

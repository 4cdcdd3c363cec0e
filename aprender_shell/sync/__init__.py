"""Several machines, one model: sync through a folder the user already keeps in step.

Each device writes only files of its own into the shared folder (``layout``), each one sealed
with the key that never enters the folder (``keys``, ``sealing``), in segments written once
(``segments``). Publishing (``publish``) seals what this device learned since it last did;
merging (``merge``) reads the other devices' segments in order and puts their records into the
journal through the writer protocol, so the fold learns them like the shells' own records.
``engine`` runs both (``sync now``); ``watch`` lets a running server do it by itself.
"""

from __future__ import annotations

from aprender_shell.errors import AprenderError


class SyncError(AprenderError):
    """Sync is not set up, or the folder or key cannot be used (the message says what to do)."""

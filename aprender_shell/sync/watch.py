"""The server's side of sync: publish and merge within seconds of anything changing.

Every check (two seconds) costs one ``stat`` of the key, the journal and each other device's
folder (a new segment changes its folder's time). When another device wrote, or this one's
journal grew (at most every ``PUBLISH_INTERVAL``, so a burst of commands is one segment and a
year of use is not a folder of a hundred thousand files), one sync runs in a child process
(``python -m aprender_shell.sync.child``), niced like a fold: it may wait for the writer lock
or decrypt many segments, and a keystroke must never wait for it, nor share a core with it.
The journal it rewrites makes the server reopen the model, so merged records are suggested
from the next keystroke.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

from aprender_shell.sync import key_path

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    import subprocess
    from typing import Callable

# What only a device that syncs needs (subprocess, the state, the folder's layout) is
# imported once its key is seen: a server's start does not wait for it.

# This device's new records are published at most this often (seconds); what the others
# write is merged at the next check.
PUBLISH_INTERVAL = 10.0


class SyncWatch:
    """Runs a sync whenever the journal or the shared folder changed (see the module)."""

    def __init__(self, model_path: Path, reopen: Callable[[], object],
                 log: Callable[[str], None]) -> None:
        self._model_path = model_path
        self._reopen = reopen
        self._log = log
        self._child: subprocess.Popen[str] | None = None
        self._key: tuple[int, int] | None = None
        self._where: tuple[Path, str] | None = None  # the folder, and our device there
        self._folder: tuple[int, ...] = ()
        self._journal: tuple[int, int, int] | None = None
        self._publish_at = 0.0
        self.syncs = 0

    def poll(self) -> None:
        if self._child is not None:
            self._reap()
            return
        try:
            key = os.stat(key_path())
        except OSError:
            self._key = None
            return  # this device does not sync
        joined = (key.st_ino, key.st_mtime_ns) != self._key
        if joined:  # set up, or joined again: read where to look (once, not every check)
            self._key = (key.st_ino, key.st_mtime_ns)
            self._where = _where()
        from aprender_shell.sync.layout import fingerprint

        folder = fingerprint(self._where[0], self._where[1]) if self._where else ()
        journal = _stamp(self._model_path.with_name(self._model_path.name + ".journal"))
        others_wrote = joined or folder != self._folder
        # Our own records wait a little, so a burst of commands is one segment, not many.
        publish_due = journal != self._journal and time.monotonic() >= self._publish_at
        if not (others_wrote or publish_due):
            return
        import subprocess

        try:
            self._child = subprocess.Popen(
                [sys.executable, "-m", "aprender_shell.sync.child", str(self._model_path)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                text=True, errors="replace",
            )
        except OSError as error:
            self._log(f"could not start a sync: {error}")
            return
        self._folder, self._journal = folder, journal
        self._publish_at = time.monotonic() + PUBLISH_INTERVAL

    def status(self) -> dict[str, object]:
        """The server's status answer's ``sync`` part (PROTOCOL.md)."""
        from aprender_shell.sync.state import summary

        found: dict[str, object] | None = summary()
        if found is not None:
            found.update(syncs=self.syncs, syncing=self._child is not None)
        return {"sync": found}

    def _reap(self) -> None:
        child = self._child
        if child is None:
            return
        from aprender_shell.children import finished

        output = finished(child)
        if output is None:
            return
        self._child = None
        self.syncs += 1
        if output and not output.startswith("synced: published 0, learned 0,"):
            self._log(output)
        # The journal the sync rewrote makes one more (throttled) sync that finds nothing
        # to publish but what was appended meanwhile. The merged model opens now, before
        # the next keystroke.
        with contextlib.suppress(Exception):
            self._reopen()

    def close(self) -> None:
        child = self._child
        if child is not None:
            from aprender_shell.children import stop

            stop(child)
            self._reap()


def _where() -> tuple[Path, str] | None:
    from aprender_shell.sync.state import load_state

    try:
        state = load_state()
    except Exception:  # noqa: BLE001 - the sync itself reports a damaged state
        return None
    if state is None or not state.folder:
        return None
    return Path(state.folder), state.device


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns

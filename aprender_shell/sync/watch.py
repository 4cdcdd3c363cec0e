"""The server's side of sync: publish and merge within seconds of anything changing.

Every check (two seconds) costs one ``stat`` of the key, the journal and each device's folder
(a new segment changes its folder's time); when any changed, one sync runs in a child process
(``python -m aprender_shell.sync.engine``), like a fold: it may wait for the writer lock or
decrypt many segments, and a keystroke must never wait for it. The journal it rewrites makes
the server reopen the model, so merged records are suggested from the next keystroke.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

from aprender_shell.sync.layout import fingerprint
from aprender_shell.sync.state import key_path, load_state


class SyncWatch:
    """Runs a sync whenever the journal or the shared folder changed (see the module)."""

    def __init__(self, model_path: Path, reopen: Callable[[], object],
                 log: Callable[[str], None]) -> None:
        self._model_path = model_path
        self._reopen = reopen
        self._log = log
        self._child: subprocess.Popen[str] | None = None
        self._seen: tuple[object, ...] | None = None
        self.syncs = 0

    def poll(self) -> None:
        if self._child is not None:
            self._reap()
            return
        try:
            os.stat(key_path())
        except OSError:
            self._seen = None
            return  # this device does not sync
        now = self._fingerprint()
        if now == self._seen:
            return
        try:
            self._child = subprocess.Popen(
                [sys.executable, "-m", "aprender_shell.sync.engine", str(self._model_path)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                text=True, errors="replace",
            )
        except OSError as error:
            self._log(f"could not start a sync: {error}")
            return
        self._seen = now

    def _fingerprint(self) -> tuple[object, ...]:
        journal = self._model_path.with_name(self._model_path.name + ".journal")
        stamps: list[object] = []
        for path in (journal, key_path()):
            try:
                info = os.stat(path)
                stamps.append((info.st_ino, info.st_size, info.st_mtime_ns))
            except OSError:
                stamps.append(None)
        try:
            state = load_state()
        except Exception:  # noqa: BLE001 - the sync itself reports a damaged state
            state = None
        if state is not None and state.folder:
            stamps.extend(fingerprint(Path(state.folder)))
        return tuple(stamps)

    def _reap(self) -> None:
        child = self._child
        if child is None or child.poll() is None:
            return
        self._child = None
        output = (child.stdout.read() if child.stdout else "").strip()
        if child.stdout:
            child.stdout.close()
        self.syncs += 1
        if output and not output.startswith("synced: published 0, learned 0,"):
            self._log(output)
        # What the sync itself changed (the journal, our folder) makes one more sync that
        # finds nothing to do; a record appended meanwhile is published by it. The merged
        # model opens now, before the next keystroke.
        with contextlib.suppress(Exception):
            self._reopen()

    def close(self) -> None:
        child = self._child
        if child is not None:
            child.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(10)
            if child.poll() is None:
                child.kill()
                child.wait()
            self._reap()

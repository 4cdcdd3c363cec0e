"""Noticing that a running server has been orphaned: what it serves is no longer where it was.

A server outlives the folders it was started for: ``uninstall`` deletes them, a test's
temporary home is removed, a new ``APRENDER_SHELL_HOME`` points elsewhere. Left alone it would
serve a deleted model for its whole idle hour while a second server starts beside it. The loop
calls ``OrphanWatch.check`` every few seconds: a handful of ``stat`` calls.

A retrain replaces the model *file* inside the same folder; that is not orphaning (the session
reloads it). The model's folder gone or replaced by another folder, or the socket file removed
or replaced (by another server), is: the server should exit.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from aprender_shell import fileio
from aprender_shell.fileio import FileIdentity

# Seconds between checks: a few stat calls, so cheap enough to run this often while idle.
CHECK_INTERVAL = 2.0

def identity(path: Path) -> FileIdentity | None:
    """Which file ``path`` itself (not a link's target) is, by fileio's one rule."""
    return fileio.identity(path, follow=False, changed=True)


class OrphanWatch:
    """What a server started with; ``check`` says why it is orphaned, or None.

    The model's folder is held open, so its inode number cannot be handed to a folder made in
    its place: a folder at the same path with another inode is another folder.
    """

    def __init__(self, model_path: Path, socket_path: Path) -> None:
        self.model_folder = model_path.parent
        self.socket_path = socket_path
        self._folder_fd: int | None = None
        with contextlib.suppress(OSError):
            self._folder_fd = os.open(self.model_folder,
                                      os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self._socket = identity(socket_path)

    def check(self) -> str | None:
        if self._folder_fd is not None:
            held = os.fstat(self._folder_fd)
            try:
                now = os.stat(self.model_folder)
            except OSError:
                now = None
            if now is None:
                return f"the model's folder {self.model_folder} was removed"
            if fileio.identity_of(now) != fileio.identity_of(held):
                return f"the model's folder {self.model_folder} was replaced by another"
        if self._socket is not None:
            current = identity(self.socket_path)
            if current is None:
                return f"its socket {self.socket_path} was removed"
            if current != self._socket:
                return f"its socket {self.socket_path} was replaced (by another server?)"
        return None

    def close(self) -> None:
        if self._folder_fd is not None:
            os.close(self._folder_fd)
            self._folder_fd = None

"""The server's side of folding (model/training/fold.py): start a fold in a child process once the
journal passes the bound, reap it, and open the folded model before the next keystroke.

A child process rather than a thread: retraining holds the GIL for seconds and allocates tables
that grow with the corpus, while the server must answer every keystroke within its memory
limit. The child ends by saying how much memory it took against the limit (fold.py's
``memory_note``), which the server logs with its output.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

from aprender_shell.errors import AprenderError
from aprender_shell.model.learned.newest import fold_bound
from aprender_shell.model.memory import MemoryLimit
from aprender_shell.service.session import Session

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    import subprocess  # imported when a fold starts: a server's start does not wait for it
    from typing import Callable

# After a failed fold, wait this long before the next try (a full disk, a broken corpus);
# after one that found the journal rewritten meanwhile (a forget), this long.
RETRY_AFTER = 300.0
RETRY_CHANGED = 30.0


class Folder:
    """Folds the model a session serves whenever its journal is past ``fold_bound``."""

    def __init__(
        self,
        session: Session,
        model_path: Path,
        memory_limit: MemoryLimit | None,
        log: Callable[[str], None],
    ) -> None:
        self._session = session
        self._model_path = model_path
        self._memory_limit = memory_limit
        self._log = log
        self._child: subprocess.Popen[str] | None = None
        self._retry_at = 0.0
        self.folds = 0
        session.status_extras.append(lambda: {"folds": self.folds, "folding": self.running})

    @property
    def running(self) -> bool:
        return self._child is not None

    def poll(self) -> None:
        """Reap a finished fold, or start one when the journal is past the bound."""
        if self._child is not None:
            self._reap()
        elif self._session.loaded and time.monotonic() >= self._retry_at:
            try:
                predictor = self._session.predictor()
            except (AprenderError, OSError):
                return  # each request reports it
            unfolded = predictor.unfolded
            if unfolded > fold_bound(predictor.index.total_commands):
                self._start(unfolded)

    def _start(self, unfolded: int) -> None:
        command = [sys.executable, "-m", "aprender_shell.model.training.fold",
                   str(self._model_path)]
        if self._memory_limit is not None:
            command.append(self._memory_limit.argument())
        import subprocess

        try:
            self._child = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, errors="replace",
            )
        except OSError as error:
            self._log(f"could not start a fold: {error}")
            self._retry_at = time.monotonic() + RETRY_AFTER
            return
        self._log(f"folding {unfolded}+ journal records into the model (pid {self._child.pid})")

    def _reap(self) -> None:
        child = self._child
        if child is None:
            return
        from aprender_shell.children import finished

        output = finished(child)
        if output is None:
            return
        self._child = None
        if child.returncode == 0:
            self._log(output or "folded")
            if output.startswith("folded 0 "):
                self._retry_at = time.monotonic() + RETRY_CHANGED
            else:
                self.folds += 1
            # Opened now, so the next keystroke does not pay for it.
            with contextlib.suppress(AprenderError, OSError):
                self._session.predictor()
        else:
            self._retry_at = time.monotonic() + RETRY_AFTER
            self._log(f"fold ended with status {child.returncode}: {output}")

    def close(self) -> None:
        """Stop a fold still running (safe at any step: the next one starts over)."""
        child = self._child
        if child is not None:
            from aprender_shell.children import stop

            stop(child)
            self._reap()

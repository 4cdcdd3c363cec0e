"""The server's background children (a fold, a sync): stopped the one way both need."""

from __future__ import annotations

import contextlib
import subprocess


def stop(child: subprocess.Popen[str]) -> None:
    """End ``child``: asked first (SIGTERM, ten seconds to finish), then killed; always reaped."""
    child.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(10)
    if child.poll() is None:
        child.kill()
        child.wait()

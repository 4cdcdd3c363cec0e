"""The server's background children (a fold, a sync): reaped and stopped the one way both need."""

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


def finished(child: subprocess.Popen[str]) -> str | None:
    """What ``child`` printed, stripped, once it has exited (its pipe closed); None while it
    runs."""
    if child.poll() is None:
        return None
    output = (child.stdout.read() if child.stdout else "").strip()
    if child.stdout:
        child.stdout.close()
    return output

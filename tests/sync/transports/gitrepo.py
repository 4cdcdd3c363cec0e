"""A bare git repository as a sync transport: each device's sync folder is a clone of it.

A device publishes by committing what it wrote (only its own files) and pushing; it takes in the
others' by pulling. Since no two devices write one file, a pull never conflicts: it is the same
promise the sync folder makes to Syncthing. The tests drive ``git`` themselves, as a user's cron
job or shell hook would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

WAIT = 60.0


def require_git() -> str:
    found = shutil.which("git")
    if found is None:
        if os.environ.get("APRENDER_SHELL_REQUIRE_SHELLS") == "1":
            pytest.fail("git is not installed (APRENDER_SHELL_REQUIRE_SHELLS=1)")
        pytest.skip("git is not installed")
    return found


def gitrepo_identity() -> dict[str, str]:
    """Neither the machine's nor the developer's git configuration changes what is tested."""
    identity = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
                "GIT_TERMINAL_PROMPT": "0"}
    for who in ("AUTHOR", "COMMITTER"):
        identity[f"GIT_{who}_NAME"] = "aprender-shell tests"
        identity[f"GIT_{who}_EMAIL"] = "tests@aprender-shell.invalid"
    return identity


def _environment() -> dict[str, str]:
    return {**os.environ, **gitrepo_identity()}


def git(folder: Path, *args: str) -> str:
    done = subprocess.run([require_git(), "-C", str(folder), *args], env=_environment(),
                          capture_output=True, text=True, timeout=WAIT, check=False)
    if done.returncode:
        raise AssertionError(f"git {' '.join(args)} in {folder} failed:\n{done.stderr}")
    return done.stdout


class GitRemote:
    """A bare repository and the clones the devices sync through."""

    def __init__(self, bare: Path) -> None:
        self.bare = bare
        bare.mkdir(parents=True)
        git(bare, "init", "--quiet", "--bare", "--initial-branch=main")

    def clone(self, folder: Path) -> Path:
        """A device's sync folder: a clone of the bare repository, on branch main."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        git(folder.parent, "clone", "--quiet", str(self.bare), folder.name)
        git(folder, "checkout", "--quiet", "-B", "main")
        return folder

    @staticmethod
    def publish(folder: Path, message: str = "aprender-shell sync") -> None:
        """Commit what the device wrote in its clone, take in the others', push."""
        git(folder, "add", "--all")
        if git(folder, "status", "--porcelain").strip():
            git(folder, "commit", "--quiet", "-m", message)
        GitRemote.take_in(folder)
        git(folder, "push", "--quiet", "origin", "main")

    @staticmethod
    def take_in(folder: Path) -> None:
        """Pull the others' commits; the remote may still be empty."""
        if git(folder, "ls-remote", "--heads", "origin", "main").strip():
            git(folder, "pull", "--quiet", "--rebase", "--autostash", "origin", "main")

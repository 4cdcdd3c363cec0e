"""How fast Ctrl-R's list is there, beside plain fzf over the same lines.

A generated zsh history (100,000 commands by default) is trained into a private home. Each
way below is a shell pipeline run as one process, alternated round by round so that machine
noise hits them alike, and timed to its end (the whole list read and matched by fzf's
non-interactive ``--filter``, which is when the last of it could be on the screen):

- plain fzf: ``fzf --no-sort --filter QUERY < lines``, the ranked lines saved to a file
  beforehand (what fzf alone costs, as with a history file that is already there);
- through the server: ``aprender-shell search --list ... | fzf ...`` with the server running
  (what Ctrl-R costs once the server has read the corpus, at the first search);
- cold: the same with ``--model``, which reads the model in the process (no server).

``python -m benchmarks.ctrl_r [--commands N] [--rounds N] [--quick]`` (from the repository).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.predictor import _table, compare, write_histories

QUERY = "git c"


def _cli(*args: str) -> str:
    return " ".join(shlex.quote(word) for word in [sys.executable, "-m", "aprender_shell", *args])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--commands", type=int, default=100_000, help="history size (100000)")
    parser.add_argument("--rounds", type=int, default=15, help="rounds (15)")
    parser.add_argument("--quick", action="store_true", help="20000 commands, 5 rounds")
    args = parser.parse_args(argv)
    if args.quick:
        args.commands, args.rounds = 20_000, 5
    fzf = shutil.which("fzf")
    if fzf is None:
        print("Ctrl-R benchmark skipped: fzf is not installed (Debian package fzf)")
        return 0
    print(f"Ctrl-R: the ranked list of {args.commands} commands, beside plain fzf\n")
    before = os.environ.get("APRENDER_SHELL_HOME")
    try:
        _measure(fzf, args.commands, args.rounds)
    finally:
        if before is None:
            os.environ.pop("APRENDER_SHELL_HOME", None)
        else:
            os.environ["APRENDER_SHELL_HOME"] = before
    return 0


def _measure(fzf: str, commands: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="aprender-ctrl-r-bench-") as name:
        folder = Path(name)
        home = folder / "home"
        # The model, the server and its socket all in the temporary folder.
        os.environ["APRENDER_SHELL_HOME"] = str(home)
        history, _ = write_histories(commands, folder)
        model = home / "model.apbundle"
        subprocess.run(
            [sys.executable, "-m", "aprender_shell", "train", "--history", str(history)],
            check=True, capture_output=True,
        )
        context = ["--shell", "zsh", "--cwd", str(folder), "--prev", "git status"]
        lines = folder / "lines"
        with lines.open("wb") as out:
            subprocess.run(
                [sys.executable, "-m", "aprender_shell", "search", "--list", "--model",
                 str(model), *context], check=True, stdout=out,
            )
        search = f"{shlex.quote(fzf)} --no-sort --filter {shlex.quote(QUERY)}"
        ways = {
            "plain fzf over the lines": f"{search} < {shlex.quote(str(lines))}",
            "search through the server": f"{_cli('search', '--list', *context)} | {search}",
            "search cold (--model)": (
                f"{_cli('search', '--list', '--model', str(model), *context)} | {search}"
            ),
        }
        subprocess.run([sys.executable, "-m", "aprender_shell", "server", "start"], check=True)
        try:
            costs = compare({way: ["/bin/sh", "-c", line] for way, line in ways.items()},
                            rounds)
        finally:
            subprocess.run([sys.executable, "-m", "aprender_shell", "server", "stop"],
                           check=False, capture_output=True)
        count = len(lines.read_bytes().splitlines())
        _table(f"{count} distinct commands, query {QUERY!r}, median of {rounds} rounds",
               costs, "plain fzf over the lines", "no noticeable pause: under ~0.1 s", print)


if __name__ == "__main__":
    sys.exit(main())

"""The path check's time budget on a slow folder, beside the same queries on a fast one.

Suggestions any of whose paths names nothing in the shell's folder are not offered (as in
fish), and the looking is bounded by ``PathCheck.BUDGET`` of stats per query, not by a count. This
trains a model in which hundreds of files were edited, paged and entered (``vim src/modN.c``,
``less docs/noteN.md``, ``cd dirN``), then asks ``suggest --batch`` for them from a folder
where none exists, so that every path candidate is looked at and rejected: the worst case.

The folder is made slow for real, not simulated in Python: the same ``suggest --batch``
process runs under ``strace``, which delays each stat system call by ``--delay`` microseconds
(``-e inject=...:delay_enter``), as a network or a sleeping disk would. Side by side, in one
run, alternating round by round: the fast folder (under ``strace``, no delay) and the slow
one, each with the folder (``cwd``) and without it (no path check). What checking costs is
the median with the folder less the median without it; on the slow folder, less what it costs
on the fast one (ranking every rejected candidate, which a slow disk does not change), it is
the time spent waiting for stats. The goal: that waiting stays within the budget plus two stats
as slow as measured in the same run (the folder's own, and the one under way when the budget
runs out), whatever the number of paths. Also printed:
suggestions offered in the empty folder that name a path (goal: none: nothing unchecked is
offered).

``python -m benchmarks.pathcheck [--files N] [--rounds N] [--delay MICROSECONDS] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PREFIXES = ("vim ", "vim s", "vim src/", "vim src/mod1", "less ", "less d", "cd ", "cd d")
STATS = "newfstatat,statx,stat,lstat,fstatat64"


def history(files: int) -> list[str]:
    commands: list[str] = []
    for number in range(files):
        commands += [f"vim src/mod{number}.c", f"less docs/note{number}.md", f"cd dir{number}",
                     "make", "git status"]
    return commands


def strace(delay: int) -> list[str]:
    """``strace`` delaying each stat by ``delay`` microseconds (0: traced, not delayed)."""
    inject = ["-e", f"inject={STATS}:delay_enter={delay}"] if delay else []
    return ["strace", "-f", "-qq", "--seccomp-bpf", "-e", f"trace={STATS}", *inject,
            "-o", "/dev/null"]


class Batch:
    """A ``suggest --batch`` process under ``strace``, answering one request at a time."""

    def __init__(self, model: Path, delay: int) -> None:
        command = [*strace(delay), sys.executable, "-m", "aprender_shell", "suggest", "--batch",
                   "--model", str(model)]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def ask(self, prefix: str, cwd: str | None) -> tuple[float, list[str]]:
        assert self.process.stdin is not None and self.process.stdout is not None
        request = {"prefix": prefix, "k": 10, **({"cwd": cwd} if cwd else {})}
        started = time.perf_counter()
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        took = time.perf_counter() - started
        if "error" in answer:
            raise SystemExit(f"suggest --batch answered an error: {answer['error']}")
        return took, [item["text"] for item in answer["suggestions"]]

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=120)


def one_stat(delay: int) -> float:
    """Seconds one stat of a missing file takes under ``strace`` with ``delay``."""
    code = ("import os, time; t = time.perf_counter()\n"
            "for n in range(50): os.path.lexists(f'/nonexistent/{n}')\n"
            "print((time.perf_counter() - t) / 50)")
    command = [*strace(delay), sys.executable, "-c", code]
    return float(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pathcheck")
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--delay", type=int, default=1000, help="microseconds per stat")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.files, args.rounds = 100, 4
    if shutil.which("strace") is None:
        # Not a failure of what is measured: the rest of ``python -m benchmarks`` goes on.
        print("Path check on a slow folder: skipped, it needs strace (apt-get install strace)")
        return 0
    from aprender_shell.history.formats import HistoryEntry
    from aprender_shell.model.query.pathcheck import PathCheck
    from aprender_shell.model.training.train import train_model

    budget_ms, delay_ms = PathCheck.BUDGET * 1000, args.delay / 1000
    print(f"Path check on a slow folder: {args.files} files edited, paged and entered, none of "
          f"them in the folder; each stat delayed {delay_ms:g} ms by strace; budget "
          f"{budget_ms:g} ms per query; {args.rounds} rounds (Python "
          f"{sys.version.split()[0]})\n")
    with tempfile.TemporaryDirectory(prefix="aprender-pathcheck-") as folder:
        model = Path(folder) / "model.apbundle"
        train_model([HistoryEntry(command) for command in history(args.files)], model)
        empty = Path(folder) / "empty"
        empty.mkdir()
        fast, slow = Batch(model, 0), Batch(model, args.delay)
        times: dict[tuple[str, str, bool], list[float]] = {}
        unchecked: set[str] = set()
        try:
            for batch in (fast, slow):  # warm: imports and the model's pages
                for prefix in PREFIXES:
                    batch.ask(prefix, str(empty))
                    batch.ask(prefix, None)
            for _ in range(args.rounds):
                for prefix in PREFIXES:
                    for name, batch in (("fast", fast), ("slow", slow)):
                        for checked in (True, False):
                            took, texts = batch.ask(prefix, str(empty) if checked else None)
                            times.setdefault((prefix, name, checked), []).append(took)
                            if checked:
                                unchecked.update(t for t in texts if "/" in t or " dir" in t)
        finally:
            fast.close()
            slow.close()
    stat_ms = one_stat(args.delay) * 1000
    print(f"  {'prefix':<14}{'fast':>9}{'fast, no cwd':>14}{'slow':>9}{'slow, no cwd':>14}"
          f"{'waiting':>10}")
    worst = 0.0
    for prefix in PREFIXES:
        cell = {key: statistics.median(times[(prefix, *key)]) * 1000
                for key in (("fast", True), ("slow", True), ("fast", False), ("slow", False))}
        # The checking the fast folder also does (ranking every rejected candidate) aside,
        # what is left is waiting for the slow folder's stats.
        costs = (cell["slow", True] - cell["slow", False]) - (
            cell["fast", True] - cell["fast", False])
        worst = max(worst, costs)
        print(f"  {prefix!r:<14}{cell['fast', True]:>7.2f}ms{cell['fast', False]:>12.2f}ms"
              f"{cell['slow', True]:>7.2f}ms{cell['slow', False]:>12.2f}ms{costs:>8.2f}ms")
    goal = budget_ms + 2 * stat_ms
    print(f"\n  A stat on the slow folder, measured under the same strace: {stat_ms:.2f} ms")
    print(f"  Most the path check waited on the slow folder (median per prefix): {worst:.2f} ms; "
          f"goal: at most the budget plus two stats (the folder's, and the one under way), "
          f"{goal:.2f} ms: {'met' if worst <= goal else 'NOT met'}")
    print(f"  Suggestions naming a path that is not there: {len(unchecked)} (goal: 0)"
          + (f": {sorted(unchecked)[:3]}" if unchecked else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

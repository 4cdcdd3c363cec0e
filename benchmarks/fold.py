"""Folding: what a journal costs a cold ``suggest``, and what a fold costs the server's answers.

Three tables, each subject beside its reference in the same run:

- cold ``suggest`` with 0, ``FOLD_RECORDS``, 4x and 40x that many records in the journal,
  against ``python -c pass`` (past the bound only the newest ``FOLD_RECORDS`` are read);
- per-query p50/p99 over a real server's socket while idle, and while the server folds its
  journal in its child process (one fold, triggered by recording past the bound);
- the fold's wall time against a ``train`` of the same corpus;
- the fold child's peak resident memory against the memory limit (16 MB and 4 MB), above the
  floor its code takes, on a model whose every row has a folder, exit status, host and shell;
  with ``--against REF``, beside the fold of that commit (``git archive``, run from the same
  interpreter), fold time side by side (b612997: the trainer before it streamed);
- the same for ``train`` on a bash history of as many commands (``--memory-only``: these two).

``python -m benchmarks.fold [--commands N] [--rounds N] [--quick] [--against REF]
[--memory-only]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable

from benchmarks.predictor import compare
from benchmarks.server import percentile, running_server, synthetic_commands, typed_queries

Out = Callable[[str], None]


def write_journal(model: Path, records: int) -> None:
    """``records`` journal lines with every field a shell sends, as the server writes them."""
    from aprender_shell.model.learned.journal import journal_path
    from aprender_shell.model.query.predictor import Predictor

    with Predictor.open(model) as predictor:
        generation = predictor.index.generation
    commands = synthetic_commands(max(records, 1), seed=5)
    with open(journal_path(model), "w", encoding="utf-8") as handle:
        handle.write(json.dumps({"journal": 1, "generation": generation}) + "\n")
        for number, command in enumerate(commands[:records]):
            handle.write(json.dumps({
                "c": f"{command} --n{number}", "sh": "zsh", "cwd": "/home/me/src", "exit": 0,
                "prev": commands[number - 1], "t": 1_700_000_000 + number,
            }) + "\n")


def cold_suggest(model: Path, rounds: int, out: Out) -> None:
    from aprender_shell.model.learned.newest import FOLD_RECORDS

    out(f"Cold 'suggest' by records in the journal (at most {FOLD_RECORDS:,} are read), "
        f"median of {rounds}, against python -c pass in the same rounds:")
    out(f"  {'records':>9}{'suggest ms':>12}{'pass ms':>10}{'ratio':>8}")
    for records in (0, FOLD_RECORDS, 4 * FOLD_RECORDS, 40 * FOLD_RECORDS):
        write_journal(model, records)
        costs = compare({
            "pass": [sys.executable, "-c", "pass"],
            "suggest": [sys.executable, "-m", "aprender_shell", "suggest", "--model",
                        str(model), "git st"],
        }, rounds)
        ratio = costs["suggest"].wall / costs["pass"].wall
        out(f"  {records:>9,}{costs['suggest'].wall * 1e3:>12.1f}"
            f"{costs['pass'].wall * 1e3:>10.1f}{ratio:>7.2f}x")


def during_a_fold(model: Path, home: Path, commands: Sequence[str], out: Out) -> float:
    """Query a real server idle, then while it folds; returns the fold's wall time."""
    from aprender_shell.model.learned.newest import FOLD_RECORDS

    write_journal(model, 0)
    queries = typed_queries(commands, 3000)
    with running_server(model, home) as client:
        def ask(number: int) -> float:
            prefix, prev = queries[number % len(queries)]
            started = time.perf_counter()
            client.request({"prefix": prefix, "prev": prev})
            return time.perf_counter() - started

        def folding() -> bool:
            return bool(client.request({"status": True})["status"]["folding"])

        idle = [ask(number) for number in range(len(queries))]
        for number, command in enumerate(commands[: FOLD_RECORDS + 20]):
            client.request({"record": f"{command} --live{number}", "cwd": "/src"})
        while not folding():
            time.sleep(0.01)
        started = time.monotonic()
        busy: list[float] = []
        while len(busy) % 200 or folding():
            busy.append(ask(len(busy)))
        took = time.monotonic() - started
        folds = client.request({"status": True})["status"]["folds"]
    out(f"Per query over the server's socket, idle and while it folds {FOLD_RECORDS + 20:,} "
        f"records in its child process ({took:.1f} s to see it reaped, {folds} fold):")
    for name, samples in (("idle", idle), ("during the fold", busy)):
        out(f"  {name:<18}p50 {percentile(samples, 0.5) * 1e3:7.3f} ms   "
            f"p99 {percentile(samples, 0.99) * 1e3:7.3f} ms   ({len(samples):,} queries)")
    out(f"  during / idle      p50 {percentile(busy, 0.5) / percentile(idle, 0.5):.2f}x   "
        f"p99 {percentile(busy, 0.99) / percentile(idle, 0.99):.2f}x")
    return took


LIMITS = ("16", "4")
FLOOR = "import aprender_shell.model.training.update, aprender_shell.model.training.train"


def context_model(model: Path, commands: int) -> None:
    """A model of ``commands`` generated commands, each with the context a shell records, and
    ``FOLD_RECORDS`` journal records to fold."""
    from aprender_shell.history.formats import Context, HistoryEntry
    from aprender_shell.model.learned.newest import FOLD_RECORDS
    from aprender_shell.model.training.train import train_model
    from benchmarks.sessions import generate_sessions

    entries, before = [], ""
    for item in generate_sessions(commands, seed=0):
        entries.append(HistoryEntry(item.command, item.timestamp,
                                    Context(item.cwd, item.exit_status, "laptop", "zsh", None,
                                            before)))
        before = item.command
    train_model(entries, model)
    write_journal(model, FOLD_RECORDS)


def checkout_of(ref: str, into: Path) -> Path:
    """The package as it was at ``ref`` (``git archive`` of this repository), under ``into``."""
    import io
    import subprocess
    import tarfile

    root = Path(__file__).resolve().parents[1]
    archive = subprocess.run(["git", "-C", str(root), "archive", ref, "aprender_shell"],
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        # Only regular files and folders of our own repository; the filter where it exists.
        safe: dict[str, Any] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(into, **safe)
    return into


def fold_memory(commands: int, rounds: int, against: str | None, folder: Path, out: Out) -> None:
    """The fold child's peak memory against the limit, and beside ``against``'s fold."""
    import os
    import shutil

    from aprender_shell.model.learned.journal import journal_path
    from aprender_shell.model.learned.newest import FOLD_RECORDS
    from benchmarks.predictor import run_process

    model = folder / "memory" / "model.apbundle"
    model.parent.mkdir()
    context_model(model, commands)
    ways = {"this checkout": str(Path(__file__).resolve().parents[1])}
    if against is not None:
        ways[against] = str(checkout_of(against, folder / "against"))
    out(f"The fold child's memory, a model of {commands:,} commands with a folder, exit, host "
        f"and shell on each, {FOLD_RECORDS:,} journal records, median of {rounds} (floor: the "
        "peak of an interpreter that imported the trainer):")
    out(f"  {'limit':>6}  {'code':<16}{'peak MB':>9}{'floor MB':>10}{'above':>8}{'wall s':>8}"
        f"{'CPU s':>8}  held")
    before, here = os.environ.get("PYTHONPATH"), os.getcwd()
    # Run from elsewhere: ``python -m`` puts the working folder first on the path, ahead of
    # PYTHONPATH, and this checkout's working folder would shadow the code compared with it.
    os.chdir(folder)
    try:
        for limit in LIMITS:
            found: dict[str, list[tuple[float, float, float, float]]] = {way: [] for way in ways}
            for _ in range(rounds):
                for way, path in ways.items():
                    os.environ["PYTHONPATH"] = path
                    copy = folder / "memory" / "folded.apbundle"
                    shutil.copyfile(model, copy)
                    shutil.copyfile(journal_path(model), journal_path(copy))
                    cost = run_process([sys.executable, "-m", "aprender_shell.model.training.fold",
                                        str(copy), limit])
                    floor = run_process([sys.executable, "-c", FLOOR])
                    found[way].append((cost.peak / 2**20, floor.peak / 2**20, cost.wall,
                                       cost.cpu))
            medians = {way: [sorted(column)[len(column) // 2] for column in zip(*samples)]
                       for way, samples in found.items()}
            for way, (peak, floor, wall, cpu) in medians.items():
                held = "yes" if peak - floor <= float(limit) else "no"
                out(f"  {limit + ' MB':>6}  {way:<16}{peak:>9.1f}{floor:>10.1f}"
                    f"{peak - floor:>8.1f}{wall:>8.2f}{cpu:>8.2f}  {held}")
            if against is not None:
                (peak, floor, wall, cpu), (old_peak, old_floor, old_wall, old_cpu) = (
                    medians.values())
                out(f"  {'':>6}  {'ratio':<16}{peak / old_peak:>8.2f}x{'':>10}"
                    f"{(peak - floor) / (old_peak - old_floor):>7.2f}x{wall / old_wall:>7.2f}x"
                    f"{cpu / old_cpu:>7.2f}x")
    finally:
        os.chdir(here)
        if before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = before


def train_memory(commands: int, rounds: int, against: str | None, folder: Path, out: Out) -> None:
    """``aprender-shell train`` on a bash history of ``commands`` lines: its peak memory above
    the trainer's code, beside ``against``'s."""
    import os

    from benchmarks.predictor import run_process
    from benchmarks.sessions import generate_sessions

    history = folder / "train" / "bash_history"
    history.parent.mkdir()
    with open(history, "w", encoding="utf-8") as handle:
        for item in generate_sessions(commands, seed=0):
            handle.write(f"#{item.timestamp}\n{item.command}\n")
    ways = {"this checkout": str(Path(__file__).resolve().parents[1])}
    if against is not None:
        ways[against] = str(folder / "against")  # fold_memory's checkout
    out(f"'train' on a bash history of {commands:,} commands (the CLI, the file read whole), "
        f"median of {rounds}:")
    out(f"  {'limit':>6}  {'code':<16}{'peak MB':>9}{'floor MB':>10}{'above':>8}{'CPU s':>8}"
        "  held")
    saved = {name: os.environ.get(name) for name in ("PYTHONPATH", "APRENDER_SHELL_HOME")}
    here = os.getcwd()
    os.chdir(folder)
    try:
        for limit in LIMITS:
            found: dict[str, list[tuple[float, float, float]]] = {way: [] for way in ways}
            for number in range(rounds):
                for way, path in ways.items():
                    os.environ["PYTHONPATH"] = path
                    home = folder / "train" / f"home-{number}-{len(found[way])}-{limit}"
                    os.environ["APRENDER_SHELL_HOME"] = str(home)
                    cost = run_process([sys.executable, "-m", "aprender_shell", "train",
                                        "--history", str(history), "--memory-limit", limit])
                    floor = run_process([sys.executable, "-c", FLOOR])
                    found[way].append((cost.peak / 2**20, floor.peak / 2**20, cost.cpu))
            medians = {way: [sorted(column)[len(column) // 2] for column in zip(*samples)]
                       for way, samples in found.items()}
            for way, (peak, floor, cpu) in medians.items():
                held = "yes" if peak - floor <= float(limit) else "no"
                out(f"  {limit + ' MB':>6}  {way:<16}{peak:>9.1f}{floor:>10.1f}"
                    f"{peak - floor:>8.1f}{cpu:>8.2f}  {held}")
            if against is not None:
                (peak, floor, cpu), (old_peak, old_floor, old_cpu) = medians.values()
                out(f"  {'':>6}  {'ratio':<16}{peak / old_peak:>8.2f}x{'':>10}"
                    f"{(peak - floor) / (old_peak - old_floor):>7.2f}x{cpu / old_cpu:>7.2f}x")
    finally:
        os.chdir(here)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run(
    commands: int, rounds: int, out: Out = print, against: str | None = None,
    memory_only: bool = False,
) -> None:
    from aprender_shell.history.formats import HistoryEntry
    from aprender_shell.model.learned.newest import FOLD_RECORDS
    from aprender_shell.model.training.fold import fold
    from aprender_shell.model.training.train import train_model

    history = synthetic_commands(commands)
    with tempfile.TemporaryDirectory(prefix="aprender-fold-bench-") as name:
        folder = Path(name)
        if memory_only:
            fold_memory(commands, rounds, against, folder, out)
            out("")
            train_memory(commands, rounds, against, folder, out)
            return
        model = folder / "model.apbundle"
        started = time.perf_counter()
        train_model([HistoryEntry(command) for command in history], model)
        trained = time.perf_counter() - started
        out(f"aprender-shell fold benchmark (Python {sys.version.split()[0]}): a model of "
            f"{commands:,} commands, trained in {trained:.2f} s")
        out("")
        cold_suggest(model, rounds, out)
        out("")
        during_a_fold(model, folder / "home", history, out)
        out("")
        write_journal(model, FOLD_RECORDS)
        started = time.perf_counter()
        fold(model)
        took = time.perf_counter() - started
        out(f"A fold of {FOLD_RECORDS:,} records against training the same corpus, in this "
            f"process: {took:.2f} s against {trained:.2f} s ({took / trained:.2f}x; a fold "
            "retrains the corpus plus the journal)")
        out("")
        fold_memory(commands, rounds, against, folder, out)
        out("")
        train_memory(commands, rounds, against, folder, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--commands", type=int, default=50_000, help="history size (50000)")
    parser.add_argument("--rounds", type=int, default=7, help="cold-start rounds (7)")
    parser.add_argument("--quick", action="store_true", help="5000 commands, 3 rounds")
    parser.add_argument("--against", metavar="REF",
                        help="also fold with the code of this commit, side by side")
    parser.add_argument("--memory-only", action="store_true",
                        help="only the fold child's memory table")
    args = parser.parse_args(argv)
    if args.quick:
        args.commands, args.rounds = 5_000, 3
    run(args.commands, args.rounds, against=args.against, memory_only=args.memory_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Training and update cost, and cold-start cost, of the predictor, each beside its reference.

- Training: ``aprender-shell train`` on a generated zsh history (300,000 commands by default),
  beside the Counter floor (``predictor/counter_floor.py``: read the same file, count whole
  commands and word bigrams and trigrams with ``collections.Counter``). Each is a separate
  process, run
  alternately; wall time, CPU time and peak memory (the process's maximum resident set) are
  compared as ratios. Goals: at most 5x the time and 2x the memory.
- Update: ``aprender-shell update`` after 100 commands were appended to that history, beside a
  full ``train`` on the same 300,100 commands. Goal: at most 0.1x.
- Cold start: ``aprender-shell suggest "git "`` as a new process (what a shell pays without the
  server) beside ``python3 -c pass`` on the same interpreter, alternated round by round so
  that machine noise hits both alike. Goal: at most 1.5 times it.

``python -m benchmarks.predictor [--commands N] [--train-rounds N] [--rounds N]
[--quick]``. Per-query time in ``--batch`` mode is measured by
``python -m benchmarks.server``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Callable, NamedTuple

Out = Callable[[str], None]
NEW_COMMANDS = 100
# What the original Rust aprender-shell published for its training throughput.
RUST_COMMANDS_PER_SECOND = (42_000, 180_000)


class ProcessCost(NamedTuple):
    """What one process cost: wall and CPU (user + system) seconds, peak resident bytes."""

    wall: float
    cpu: float
    peak: int


# Starts the measured command and reports its own rusage. A child's peak resident size starts
# from its parent's (fork copies the page tables, and exec keeps the high-water mark), so the
# command is started from this small process, never from the benchmark holding its data.
_LAUNCHER = """
import json, os, sys, time
started = time.perf_counter()
devnull = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)]
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ, file_actions=devnull)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
print(json.dumps([os.waitstatus_to_exitcode(status), wall, usage.ru_utime + usage.ru_stime,
                  usage.ru_maxrss]))
"""


def run_process(argv: Sequence[str]) -> ProcessCost:
    """Run ``argv`` (an absolute program path first) to completion and measure it alone."""
    launcher = [sys.executable, "-S", "-c", _LAUNCHER, *argv]
    done = subprocess.run(launcher, capture_output=True, text=True, check=True)
    status, wall, cpu, peak = json.loads(done.stdout)
    if status != 0:
        lines = done.stderr.strip().splitlines()
        raise RuntimeError(
            f"{' '.join(argv)} exited with {status}: {lines[-1] if lines else 'no message'}"
        )
    # Linux reports the peak in KiB, macOS in bytes.
    return ProcessCost(wall, cpu, peak * (1 if sys.platform == "darwin" else 1024))


def _median(costs: Sequence[ProcessCost]) -> ProcessCost:
    return ProcessCost(
        statistics.median(c.wall for c in costs),
        statistics.median(c.cpu for c in costs),
        int(statistics.median(c.peak for c in costs)),
    )


def compare(ways: dict[str, list[str]], rounds: int) -> dict[str, ProcessCost]:
    """Median cost of each way over ``rounds`` rounds, the ways alternated within a round."""
    samples: dict[str, list[ProcessCost]] = {name: [] for name in ways}
    for _ in range(rounds):
        for name, argv in ways.items():
            samples[name].append(run_process(argv))
    return {name: _median(costs) for name, costs in samples.items()}


def _table(title: str, costs: dict[str, ProcessCost], reference: str, goal: str,
           out: Out) -> tuple[float, float, float]:
    """Print ``costs`` and each one's ratio to ``reference``; returns the last ratios."""
    out(title)
    out(f"  {'process (aprender-shell ...)':<34}{'wall s':>9}{'CPU s':>9}{'peak MB':>10}")
    for name, cost in costs.items():
        out(f"  {name:<34}{cost.wall:>9.2f}{cost.cpu:>9.2f}{cost.peak / 2**20:>10.1f}")
    base = costs[reference]
    ratios = (0.0, 0.0, 0.0)
    for name, cost in costs.items():
        if name == reference:
            continue
        ratios = (cost.wall / base.wall, cost.cpu / base.cpu, cost.peak / base.peak)
        out(f"  {name + ' / ' + reference:<34}{ratios[0]:>8.2f}x{ratios[1]:>8.2f}x"
            f"{ratios[2]:>9.2f}x   ({goal})")
    return ratios


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "aprender_shell", *args]


def write_histories(commands: int, folder: Path) -> tuple[Path, Path]:
    """A zsh history of ``commands`` generated commands, and the same with 100 more after it."""
    from benchmarks.sessions import generate_sessions, write_zsh_history

    sessions = generate_sessions(commands + NEW_COMMANDS, seed=3)
    history, longer = folder / "zsh_history", folder / "zsh_history_longer"
    write_zsh_history(history, sessions[:commands])
    write_zsh_history(longer, sessions)
    if not longer.read_bytes().startswith(history.read_bytes()):
        raise RuntimeError("the longer history does not extend the shorter one")
    return history, longer


def training_cost(history: Path, commands: int, folder: Path, rounds: int,
                  out: Out = print) -> tuple[float, float, float]:
    """``train`` against the Counter floor, printed; returns the wall, CPU and memory ratios."""
    from benchmarks.predictor import counter_floor

    model = folder / "model.apbundle"
    ways = {
        "Counter floor": [sys.executable, counter_floor.__file__, str(history)],
        "train": _cli("train", "--history", str(history), "--model", str(model)),
    }
    run_process(ways["Counter floor"])  # the history into the page cache
    costs = compare(ways, rounds)
    size = history.stat().st_size / 2**20
    ratios = _table(
        f"Training on {commands:,} commands ({size:.0f} MB of zsh history), median of {rounds} "
        "alternated rounds, each a separate process",
        costs, "Counter floor", "goals: time <= 5x, memory <= 2x", out,
    )
    low, high = RUST_COMMANDS_PER_SECOND
    train = costs["train"]
    out(f"  train: {commands / train.wall:,.0f} commands/s wall, {commands / train.cpu:,.0f} per "
        f"CPU second, process start and model writing included (the Rust original published "
        f"{low:,} to {high:,})")
    return ratios


def update_cost(history: Path, longer: Path, commands: int, folder: Path, rounds: int,
                out: Out = print) -> float:
    """``update`` after 100 new commands against a full ``train`` on all of them, printed;
    returns the wall-time ratio.

    Each round restores the history and the model folder to their state after the first
    training, then appends the new commands to the history the model remembers.
    """
    models = folder / "models"
    models.mkdir()
    model = models / "model.apbundle"
    run_process(_cli("train", "--history", str(history), "--model", str(model)))
    trained = {path.name: path.read_bytes() for path in models.iterdir()}
    original, extended = history.read_bytes(), longer.read_bytes()
    full_model = folder / "full.apbundle"
    samples: dict[str, list[ProcessCost]] = {"full train": [], "update": []}
    for _ in range(rounds):
        for path in models.iterdir():
            if path.name not in trained:
                path.unlink()
        for name, data in trained.items():
            (models / name).write_bytes(data)
        history.write_bytes(original)
        history.write_bytes(extended)  # the shell appended the new commands
        samples["update"].append(run_process(_cli("update", "--model", str(model))))
        samples["full train"].append(
            run_process(_cli("train", "--history", str(longer), "--model", str(full_model)))
        )
    costs = {name: _median(values) for name, values in samples.items()}
    wall, _, _ = _table(
        f"Update after {NEW_COMMANDS} new commands against a full train on all "
        f"{commands + NEW_COMMANDS:,}, median of {rounds} alternated rounds",
        costs, "full train", "goal: time <= 0.1x", out,
    )
    history.write_bytes(original)
    return wall


def _median_seconds(argv: Sequence[str], rounds: int, env: dict[str, str]) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, env=env, check=True)
        samples.append(time.perf_counter() - started)
    return samples


def _compile_package() -> None:
    """Compile the package's bytecode, as ``pip install`` does.

    With PYTHONDONTWRITEBYTECODE set (some CI images set it) and an editable install, every
    process would otherwise compile our modules from source, about 10 ms that no user pays.
    """
    import compileall

    import aprender_shell

    compileall.compile_dir(str(Path(aprender_shell.__file__).parent), quiet=1)


def cold_start(model: Path, rounds: int, out: Out = print) -> float:
    """Median wall time of a cold ``suggest`` over that of ``python3 -c pass``; printed."""
    env = dict(os.environ)
    ways: dict[str, list[str]] = {
        "python3 -c pass": [sys.executable, "-c", "pass"],
        "python3 -m aprender_shell suggest": [
            sys.executable, "-m", "aprender_shell", "suggest", "git ", "--model", str(model)
        ],
    }
    script = shutil.which("aprender-shell")
    if script is not None:
        ways["aprender-shell suggest"] = [script, "suggest", "git ", "--model", str(model)]
    samples: dict[str, list[float]] = {name: [] for name in ways}
    for argv in ways.values():  # warm the page cache and .pyc files
        _median_seconds(argv, 2, env)
    for _ in range(rounds):  # alternate, so noise lands on every way alike
        for name, argv in ways.items():
            samples[name] += _median_seconds(argv, 1, env)
    base = statistics.median(samples["python3 -c pass"])
    out(f"Cold start, median of {rounds} alternated rounds (goal: suggest within 1.5x of python)")
    out(f"  {'command':<36}{'median':>10}{'ratio':>8}")
    worst = 1.0
    for name, values in samples.items():
        ratio = statistics.median(values) / base
        if name != "python3 -c pass":
            worst = max(worst, ratio)
        out(f"  {name:<36}{statistics.median(values) * 1e3:>8.1f}ms{ratio:>7.2f}x")
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--commands", type=int, default=300_000, help="history size (300000)")
    parser.add_argument("--train-rounds", type=int, default=3,
                        help="rounds of training and update (3)")
    parser.add_argument("--rounds", type=int, default=30, help="cold-start rounds (30)")
    parser.add_argument("--quick", action="store_true",
                        help="20000 commands, 1 training round, 5 cold-start rounds")
    args = parser.parse_args(argv)
    if args.quick:
        args.commands, args.train_rounds, args.rounds = 20_000, 1, 5
    print(f"aprender-shell predictor benchmark (Python {sys.version.split()[0]})\n")
    _compile_package()
    with tempfile.TemporaryDirectory(prefix="aprender-predictor-bench-") as name:
        folder = Path(name)
        history, longer = write_histories(args.commands, folder)
        training_cost(history, args.commands, folder, args.train_rounds)
        print()
        update_cost(history, longer, args.commands, folder, args.train_rounds)
        print()
        cold_start(folder / "model.apbundle", args.rounds)
    return 0


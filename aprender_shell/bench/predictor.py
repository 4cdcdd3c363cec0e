"""Training throughput and cold-start cost of the predictor, each beside its reference.

- Training: a 1,000,000-command zsh history (the session generator's), read and parsed, then
  trained into a model; reported as commands per second beside the parse alone.
- Cold start: ``aprender-shell suggest "git "`` as a new process (what a shell pays without the
  server) beside ``python3 -c pass`` on the same interpreter, alternated round by round so
  that machine noise hits both alike. Goal: at most 1.5 times it.

``python -m aprender_shell.bench.predictor [--commands N] [--rounds N] [--quick]``.
Per-query time in ``--batch`` mode is measured by ``python -m aprender_shell.bench.server``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Callable

Out = Callable[[str], None]


def training_throughput(commands: int, folder: Path, out: Out = print) -> Path:
    """Parse and train on ``commands`` generated commands; returns the model's path."""
    from aprender_shell.bench.sessions import generate_sessions, write_zsh_history
    from aprender_shell.history.files import read_history
    from aprender_shell.model.train import train_model

    history = folder / "zsh_history"
    write_zsh_history(history, generate_sessions(commands, seed=3))
    started = time.perf_counter()
    entries = read_history(history)
    parsed = time.perf_counter() - started
    model = folder / "model.apbundle"
    started = time.perf_counter()
    report = train_model(entries, model)
    trained = time.perf_counter() - started
    size = history.stat().st_size / 2**20
    out(f"Training on {len(entries):,} commands ({size:.0f} MB of zsh history)")
    out(f"  {'step':<28}{'seconds':>10}{'commands/s':>14}")
    for step, seconds in (("read + parse the history", parsed), ("train the model", trained),
                          ("total", parsed + trained)):
        out(f"  {step:<28}{seconds:>10.2f}{len(entries) / seconds:>14,.0f}")
    out(f"  training costs {trained / parsed:.1f}x the parse; model "
        f"{report.model_bytes / 2**20:.1f} MB in {report.segments} segments, "
        f"{report.unique_commands:,} unique commands")
    return model


def _median_seconds(argv: Sequence[str], rounds: int, env: dict[str, str]) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, env=env, check=True)
        samples.append(time.perf_counter() - started)
    return samples


def cold_start(model: Path, rounds: int, out: Out = print) -> float:
    """Median wall time of a cold ``suggest`` over that of ``python3 -c pass``; printed.

    The package's bytecode is compiled first, as ``pip install`` does: with
    PYTHONDONTWRITEBYTECODE set (some CI images set it) and an editable install, every run
    would otherwise compile our modules from source, about 10 ms that no user pays.
    """
    import compileall

    import aprender_shell

    compileall.compile_dir(str(Path(aprender_shell.__file__).parent), quiet=1)
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
    parser.add_argument("--commands", type=int, default=1_000_000, help="history size (1000000)")
    parser.add_argument("--rounds", type=int, default=30, help="cold-start rounds (30)")
    parser.add_argument("--quick", action="store_true", help="20000 commands, 5 rounds")
    args = parser.parse_args(argv)
    if args.quick:
        args.commands, args.rounds = 20_000, 5
    print(f"aprender-shell predictor benchmark (Python {sys.version.split()[0]})\n")
    with tempfile.TemporaryDirectory(prefix="aprender-predictor-bench-") as folder:
        model = training_throughput(args.commands, Path(folder))
        print()
        cold_start(model, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())

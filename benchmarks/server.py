"""Per-request latency of the resident server against the predictor called in-process.

Trains a model on 100,000 synthetic commands, then replays commands being typed (prefixes of
one to several characters, with the previous command as context) three ways, side by side:
``Predictor.suggest`` in this process, a round trip over the server's Unix socket (what zsh
does), and a round trip through a ``suggest --batch`` pipe.

``python -m benchmarks.server [--commands N] [--queries N] [--quick]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from aprender_shell.service.client import Client

Query = tuple[str, list[str]]


def synthetic_commands(n: int, seed: int = 0) -> list[str]:
    """``n`` realistic commands from the session generator."""
    from benchmarks.sessions import generate_sessions

    return [item.command for item in generate_sessions(n, seed=seed)]


def typed_queries(commands: Sequence[str], count: int, seed: int = 1) -> list[Query]:
    """Prefixes a user would have typed on the way to each command, with the one before it."""
    rng = random.Random(seed)
    queries: list[Query] = []
    start = max(1, len(commands) - count)
    for index in range(start, len(commands)):
        command = commands[index]
        typed = rng.randint(1, min(len(command), 12))
        queries.append((command[:typed], [commands[index - 1]]))
        if len(queries) == count:
            break
    return queries


def percentile(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    position = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[position]


def time_each(queries: Sequence[Query], ask: Callable[[str, list[str]], object]) -> list[float]:
    """Seconds per call of ``ask`` for each query (after one untimed pass to warm caches)."""
    for prefix, prev in queries[: min(len(queries), 200)]:
        ask(prefix, prev)
    samples = []
    clock = time.perf_counter
    for prefix, prev in queries:
        start = clock()
        ask(prefix, prev)
        samples.append(clock() - start)
    return samples


def in_process(model: Path, queries: Sequence[Query]) -> list[float]:
    from aprender_shell.model.query.predictor import Predictor

    with Predictor.open(model) as predictor:
        return time_each(queries, lambda prefix, prev: predictor.suggest(prefix, 5, prev))


LEARNED = 3_000


def in_process_after_learning(
    model: Path, queries: Sequence[Query], learned: Sequence[str]
) -> list[float]:
    """``in_process`` once ``learned`` distinct commands were recorded since training (days of
    use without ``update``): a query must not cost what was learned."""
    from aprender_shell.model.query.predictor import Predictor

    copy = model.with_name("learned.apbundle")
    shutil.copyfile(model, copy)
    with Predictor.open(copy) as predictor:
        previous: list[str] = []
        for command in learned:
            predictor.record(command, cwd="/tmp", prev=previous, shell="zsh")
            previous = [command]
        return time_each(queries, lambda prefix, prev: predictor.suggest(prefix, 5, prev))


@contextlib.contextmanager
def running_server(model: Path, home: Path) -> Iterator[Client]:
    """A real ``server run`` process under a private ``APRENDER_SHELL_HOME``, connected to."""
    from aprender_shell.service.client import Client
    from aprender_shell.service.instance import accepts

    environment = dict(os.environ, APRENDER_SHELL_HOME=str(home))
    server = subprocess.Popen(
        [sys.executable, "-m", "aprender_shell", "server", "run", "--model", str(model)],
        env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    socket_path = home / "run" / "server.sock"
    try:
        deadline = time.monotonic() + 60
        while not accepts(socket_path):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the benchmark server did not start")
            time.sleep(0.02)
        with Client(socket_path, timeout=60).connect() as client:
            yield client
    finally:
        server.terminate()
        server.wait(timeout=60)


def over_socket(model: Path, home: Path, queries: Sequence[Query]) -> list[float]:
    """Round trips to a real ``server run`` process under a private ``APRENDER_SHELL_HOME``."""
    with running_server(model, home) as client:
        return time_each(
            queries,
            lambda prefix, prev: client.request({"prefix": prefix, "k": 5, "prev": prev}),
        )


def over_batch_pipe(model: Path, queries: Sequence[Query]) -> list[float]:
    """Round trips through ``aprender-shell suggest --batch`` on a pipe."""
    process = subprocess.Popen(
        [sys.executable, "-m", "aprender_shell", "suggest", "--batch", "--model", str(model)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    stdin, stdout = process.stdin, process.stdout

    def ask(prefix: str, prev: list[str]) -> object:
        stdin.write(json.dumps({"prefix": prefix, "k": 5, "prev": prev}).encode() + b"\n")
        stdin.flush()
        return stdout.readline()

    try:
        return time_each(queries, ask)
    finally:
        stdin.close()
        process.wait(timeout=60)


def run(commands: int, queries: int, out: Callable[[str], None] = print) -> dict[str, list[float]]:
    """Train, measure the three ways, print the table; returns the samples by way."""
    from aprender_shell.history.formats import HistoryEntry
    from aprender_shell.model.training.train import train_model

    history = synthetic_commands(commands)
    with tempfile.TemporaryDirectory(prefix="aprender-server-bench-") as folder:
        model = Path(folder) / "model.apbundle"
        started = time.perf_counter()
        report = train_model([HistoryEntry(command) for command in history], model)
        trained = time.perf_counter() - started
        asked = typed_queries(history, queries)
        out(f"aprender-shell server benchmark (Python {sys.version.split()[0]}): "
            f"{report.commands} commands, model {report.model_bytes / 2**20:.1f} MB "
            f"({report.segments} segments) trained in {trained:.1f} s; {len(asked)} typed queries")
        results = {
            "in-process Predictor.suggest": in_process(model, asked),
            f"in-process, {LEARNED:,} learned since": in_process_after_learning(
                model, asked, [f"{command} --learned-{n}" for n, command in
                               enumerate(synthetic_commands(LEARNED, seed=2))]
            ),
            "server socket round trip": over_socket(model, Path(folder) / "home", asked),
            "suggest --batch pipe round trip": over_batch_pipe(model, asked),
        }
    out("")
    out(f"  {'way':<34}{'p50':>10}{'p99':>10}{'mean':>10}{'max':>10}")
    for name, samples in results.items():
        figures = [percentile(samples, 0.5), percentile(samples, 0.99),
                   statistics.fmean(samples), max(samples)]
        out(f"  {name:<34}" + "".join(f"{value * 1e3:>8.3f}ms" for value in figures))
    base = percentile(results["in-process Predictor.suggest"], 0.5)
    overhead = percentile(results["server socket round trip"], 0.5) - base
    out("")
    out(f"  socket overhead at p50: {overhead * 1e3:.3f} ms per request (JSON + Unix socket)")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--commands", type=int, default=100_000, help="history size (100000)")
    parser.add_argument("--queries", type=int, default=5_000, help="typed queries (5000)")
    parser.add_argument("--quick", action="store_true", help="5000 commands, 300 queries")
    args = parser.parse_args(argv)
    if args.quick:
        args.commands, args.queries = 5_000, 300
    run(args.commands, args.queries)
    return 0


if __name__ == "__main__":
    sys.exit(main())

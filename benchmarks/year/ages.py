"""Per-query time at every age of the year, side by side: a copy of the data folder is kept at
each point (0, 10k, 50k, 150k learned), and at the end a server runs on each copy at once and
the same queries go to them in turn, the first server asked changing every query. Whatever
loads the machine then loads every age alike, which one server measured after another (minutes
apart, under other work) could not show: there p50/p99 against the first point swung from 0.7x
to 27x at a load of 8 to 10.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable

from benchmarks.server import Query, percentile
from benchmarks.year.installed import Server, Setup

Out = Callable[[str], None]
WARM = 200  # queries each server answers untimed first (its caches and pages)


def keep_copy(setup: Setup, learned: int) -> Path:
    """Copy the data folder as it is now (its server stopped) for ``side_by_side``."""
    copy = setup.folder / "ages" / str(learned)
    shutil.copytree(setup.data, copy, ignore=shutil.ignore_patterns("run"))
    return copy


def side_by_side(setup: Setup, copies: Sequence[tuple[int, Path]],
                 queries: Sequence[Query]) -> list[dict[str, Any]]:
    """p50 and p99 (seconds) of ``queries`` asked of a server on each copy, alternated; each
    with its ratios to the first copy's."""
    from aprender_shell.service.orphan import CHECK_INTERVAL

    servers = [Server(setup, data) for _, data in copies]
    try:
        # A fold starts at a server's first check: measured after it, never beside it.
        for server in servers:
            while server.status()["uptime"] < 1.5 * CHECK_INTERVAL:
                time.sleep(0.05)
            server.wait_for_folds()
        asks = [_asker(server) for server in servers]
        for prefix, prev in queries[:WARM]:
            for ask in asks:
                ask(prefix, prev)
        samples: list[list[float]] = [[] for _ in servers]
        clock = time.perf_counter
        for number, (prefix, prev) in enumerate(queries):
            for turn in range(len(asks)):
                which = (number + turn) % len(asks)
                start = clock()
                asks[which](prefix, prev)
                samples[which].append(clock() - start)
    finally:
        for server in servers:
            server.end()
    first = samples[0]
    rows = []
    for (learned, _), timed in zip(copies, samples):
        p50, p99 = percentile(timed, 0.5), percentile(timed, 0.99)
        rows.append({"learned": learned, "p50": p50, "p99": p99,
                     "p50_ratio": p50 / percentile(first, 0.5),
                     "p99_ratio": p99 / percentile(first, 0.99)})
    return rows


def _asker(server: Server) -> Callable[[str, list[str]], Any]:
    def ask(prefix: str, prev: list[str]) -> Any:
        return server.request({"prefix": prefix, "prev": prev, "shell": "bash"})

    return ask


def report(rows: Sequence[dict[str, Any]], queries: int, out: Out) -> None:
    out("")
    out(f"Per query side by side: a server on a copy of each age, {queries:,} queries asked of "
        "each in turn:")
    out(f"  {'learned':>9}{'p50 ms':>9}{'p99 ms':>9}{'p50/1st':>9}{'p99/1st':>9}")
    for row in rows:
        out(f"  {row['learned']:>9,}{row['p50'] * 1e3:>9.3f}{row['p99'] * 1e3:>9.3f}"
            f"{row['p50_ratio']:>8.2f}x{row['p99_ratio']:>8.2f}x")
    out("  (goal: p50/p99 within 1.2x of the first)")

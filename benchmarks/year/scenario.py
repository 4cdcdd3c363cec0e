"""A year of use: what cold starts, queries, memory and disk cost after 0 to 150,000 commands
learned live, in a regular (non-editable) install, each beside its reference in one run.

A real server (the installed ``aprender-shell server run``) is sent 150,000 records with the
shells' fields (cwd, exit status, shell, the previous command) from the session generator, on
top of a model trained on 20,000 earlier commands; each is also appended to the bash history,
as the shell writes it. Along the way: two ``update``s, a retrain (``train``), a ``forget``
(``--history-file``), and ``kill -9``s of the server (one while it folds, when one is seen).
After 0, 10k, 50k and 150k learned it reports, side by side:

- a cold ``aprender-shell suggest`` and a server's start-to-first-answer against
  ``python -c pass`` on the same interpreter (goals: 2x at 0 learned, 3x later, flat);
- per-query p50/p99 over the server's socket (goal: within 1.2x of the first point), at
  each point and again at the end side by side: servers on copies of the data folder kept at
  each point, asked in turn (ages.py);
- the peak resident memory of the server and of a cold suggest against the memory limit;
- bytes on disk (model + journal) against a model trained from scratch on the same history
  (goal: within 1.5x).

Then the checks: no acknowledged record lost nor counted twice (over the model's corpus and
its journal, against what the server acknowledged and the history holds),
and the newest learned command is suggested, by the server and by a cold ``suggest``.

``python -m benchmarks.year [--records N] [--venv DIR] [--rounds N] [--quick]``. Without
``--venv`` it builds one in a temporary folder with ``pip install <this checkout>``.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from benchmarks.predictor import compare
from benchmarks.server import percentile, time_each, typed_queries
from benchmarks.year import ages
from benchmarks.year.installed import (
    Server,
    Setup,
    build_venv,
    known_commands,
    learnable,
    scratch_bytes,
    start_to_first_answer,
)

Out = Callable[[str], None]
NEWEST = "year-end-report --quarter 4 --final"


def measure(setup: Setup, server: Server, learned: int, queries: list[tuple[str, list[str]]],
            rounds: int) -> dict[str, Any]:
    """One point of the table; the server is stopped on return."""
    from aprender_shell.service.orphan import CHECK_INTERVAL

    # A fold starts at the server's next check: measured after it, not beside it.
    while server.status()["uptime"] < 1.5 * CHECK_INTERVAL:
        time.sleep(0.05)
    server.wait_for_folds()
    samples = time_each(queries, lambda prefix, prev: server.request(
        {"prefix": prefix, "prev": prev, "shell": "bash"}))
    point: dict[str, Any] = {
        "learned": learned,
        "p50": percentile(samples, 0.5), "p99": percentile(samples, 0.99),
        "server_peak": server.peak_rss(),
        "memory_limit": int(server.status()["stats"]["memory_limit"]),
    }
    point["folds"] = server.end()
    costs = compare({
        "pass": [setup.python, "-c", "pass"],
        "suggest": [setup.program, "suggest", "--model", str(setup.model), "git st"],
    }, rounds)
    point.update(pass_s=costs["pass"].wall, pass_peak=costs["pass"].peak,
                 suggest_s=costs["suggest"].wall, suggest_peak=costs["suggest"].peak,
                 start_s=start_to_first_answer(setup, rounds),
                 disk=setup.disk(), scratch=scratch_bytes(setup))
    return point



def run(records: int, initial: int, rounds: int, queries: int, venv: Path | None,
        out: Out = print) -> dict[str, Any]:
    """The whole year; prints the tables and returns their figures and the checks."""
    from benchmarks.sessions import generate_sessions, write_bash_history

    points_at = (0, records // 15, records // 3, records)
    events = {round(records * share): name for share, name in (
        (0.2, "update"), (0.3, "kill -9"), (0.4, "train"), (0.6, "update"),
        (0.7, "kill -9"), (0.8, "forget"), (0.9, "kill -9 during a fold"))}
    with tempfile.TemporaryDirectory(prefix="aprender-year-") as name:
        folder = Path(name)
        venv = venv.resolve() if venv else build_venv(folder)
        setup = Setup(venv, folder)
        try:
            sessions = generate_sessions(initial + records, seed=11)
            write_bash_history(setup.history, sessions[:initial])
            setup.cli("train", "--history", str(setup.history), "--model", str(setup.model))
            live = sessions[initial:]
            out(f"aprender-shell year benchmark (Python {sys.version.split()[0]}, installed in "
                f"{venv}): a model trained on {initial:,} commands, then {records:,} recorded "
                "through a real server")
            done: list[str] = []
            acknowledged: list[str] = []
            forgotten = kills = folds = 0
            happened: list[str] = []
            points: list[dict[str, Any]] = []
            copies: list[tuple[int, Path]] = []  # the data folder at each point (ages.py)
            server = Server(setup)
            previous = sessions[initial - 1].command if initial else ""
            for number in range(records + 1):
                if number in points_at:
                    asked = typed_queries([s.command for s in sessions[: initial + number]],
                                          queries)
                    points.append(measure(setup, server, number, asked, rounds))
                    copies.append((number, ages.keep_copy(setup, number)))
                    folds += points[-1]["folds"]
                    server = Server(setup)
                event = events.get(number)
                if event == "update" or event == "train":
                    if event == "train":
                        setup.cli("train", "--history", str(setup.history), "--model",
                                  str(setup.model))
                    else:
                        setup.cli("update", "--model", str(setup.model))
                    happened.append(f"{event} at {number:,}")
                elif event == "forget":
                    # The most recent command that ran but once: the model, the journal and the
                    # history file lose it together.
                    counts: dict[str, int] = {}
                    for command in acknowledged:
                        counts[command] = counts.get(command, 0) + 1
                    target = next(c for c in reversed(acknowledged) if counts[c] == 1)
                    said = setup.cli("forget", "--history-file", "--model", str(setup.model),
                                     target)
                    found = re.search(r"Forgot (\d+) command", said)
                    forgotten += int(found.group(1)) if found else 0
                    happened.append(f"forget at {number:,} ({forgotten} run)")
                elif event is not None and event.startswith("kill"):
                    during = bool(server.status()["folding"])
                    if event.endswith("fold") and not during and number + 25 < records:
                        events.setdefault(number + 25, event)  # until a fold is seen running
                    else:
                        folds += server.end(signal.SIGKILL)
                        kills += 1
                        happened.append(f"kill -9 at {number:,}"
                                        + (" during a fold" if during else ""))
                        server = Server(setup)
                if number == records:
                    break
                item = live[number]
                command = NEWEST if number == records - 1 else item.command
                answer = server.request({"record": command, "cwd": item.cwd,
                                         "exit": item.exit_status, "shell": "bash",
                                         "prev": [previous]})
                if answer == {"ok": True}:
                    acknowledged.append(command)
                setup.append_history([command], int(time.time()))
                done.append(command)
                previous = command
            newest_by_server = NEWEST in texts(server.request({"prefix": NEWEST[:-3]}))
            folds += server.end()
            cold = setup.cli("suggest", "--model", str(setup.model), NEWEST[:-3])
            newest_cold = NEWEST in cold.splitlines()[0] if cold else False
            expected = learnable(setup, [s.command for s in sessions[:initial]]) \
                + learnable(setup, acknowledged) - forgotten
            known = known_commands(setup)
            together = ages.side_by_side(
                setup, copies, typed_queries([s.command for s in sessions], queries))
        finally:
            setup.stop_servers()
    result = {"points": points, "acknowledged": len(acknowledged), "expected": expected,
              "known": known, "lost": expected - known, "kills": kills, "folds": folds,
              "events": happened, "newest_by_server": newest_by_server,
              "newest_cold": newest_cold, "side_by_side": together}
    report(result, out)
    ages.report(together, queries, out)
    return result


def texts(answer: dict[str, Any]) -> list[str]:
    return [item["text"] for item in answer.get("suggestions", [])]


def report(result: dict[str, Any], out: Out) -> None:
    points = result["points"]
    first = points[0]
    out("")
    out("Cold start against python -c pass (medians, same rounds), per query over the socket:")
    out(f"  {'learned':>9}{'suggest ms':>12}{'pass ms':>9}{'ratio':>7}{'start ms':>10}"
        f"{'ratio':>7}{'p50 ms':>9}{'p99 ms':>9}{'p50/1st':>9}{'p99/1st':>9}")
    for p in points:
        out(f"  {p['learned']:>9,}{p['suggest_s'] * 1e3:>12.1f}{p['pass_s'] * 1e3:>9.1f}"
            f"{p['suggest_s'] / p['pass_s']:>6.2f}x{p['start_s'] * 1e3:>10.1f}"
            f"{p['start_s'] / p['pass_s']:>6.2f}x{p['p50'] * 1e3:>9.3f}{p['p99'] * 1e3:>9.3f}"
            f"{p['p50'] / first['p50']:>8.2f}x{p['p99'] / first['p99']:>8.2f}x")
    out("  (goals: suggest 2x pass at 0 learned, 3x later; p50/p99 within 1.2x of the first)")
    out("")
    out("Peak resident memory (MB) against the memory limit, and bytes on disk:")
    out(f"  {'learned':>9}{'server':>9}{'grown':>7}{'suggest':>9}{'pass':>7}{'limit':>7}"
        f"{'disk MB':>10}{'scratch MB':>12}{'ratio':>7}{'folds':>7}")
    for p in points:
        grown = (p["server_peak"] - first["server_peak"]) / 2**20
        out(f"  {p['learned']:>9,}{p['server_peak'] / 2**20:>9.1f}{grown:>7.1f}"
            f"{p['suggest_peak'] / 2**20:>9.1f}{p['pass_peak'] / 2**20:>7.1f}"
            f"{p['memory_limit'] / 2**20:>7.1f}{p['disk'] / 2**20:>10.2f}"
            f"{p['scratch'] / 2**20:>12.2f}{p['disk'] / p['scratch']:>6.2f}x{p['folds']:>7}")
    out("  (goals: the server grown and a cold suggest above python -c pass within the limit;"
        " disk within 1.5x scratch)")
    out("")
    out(f"Along the way: {'; '.join(result['events'])}; {result['folds']} folds in all.")
    lost = result["lost"]
    verdict = ("none lost" if lost == 0 else f"{lost:,} LOST" if lost > 0
               else f"none lost, but {-lost:,} COUNTED TWICE")
    out(f"Records acknowledged: {result['acknowledged']:,}; commands the model holds: "
        f"{result['known']:,} of {result['expected']:,} expected ({verdict}).")
    out(f"The newest learned command is suggested: by the server "
        f"{'yes' if result['newest_by_server'] else 'NO'}, by a cold suggest "
        f"{'yes' if result['newest_cold'] else 'NO'}.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=150_000, help="learned live (150000)")
    parser.add_argument("--initial", type=int, default=20_000, help="trained first (20000)")
    parser.add_argument("--rounds", type=int, default=9, help="cold-start rounds (9)")
    parser.add_argument("--queries", type=int, default=2_000, help="queries per point (2000)")
    parser.add_argument("--venv", type=Path, help="an installed venv (default: build one)")
    parser.add_argument("--quick", action="store_true",
                        help="1500 records on 400 commands, 3 rounds, 200 queries")
    args = parser.parse_args(argv)
    if args.quick:
        args.records, args.initial, args.rounds, args.queries = 1_500, 400, 3, 200
    if args.records < 15 or args.initial < 1:
        parser.error("--records must be at least 15 and --initial at least 1")
    result = run(args.records, args.initial, args.rounds, args.queries, args.venv)
    ok = result["lost"] == 0 and result["newest_by_server"] and result["newest_cold"]
    return 0 if ok else 1

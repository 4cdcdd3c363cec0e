"""``python -m benchmarks.year.floor``: where a cold ``suggest``'s time goes, against its floor.

In a regular (non-editable) install, side by side in one run (the ways alternated in each
round, medians of wall and CPU time), each as a ratio to ``python -c pass``:

- ``launcher``: what ``bin/aprender-shell`` (``scripts/aprender-shell``) runs before any code
  of ours (``import sys``; pip's own console script imported ``re`` first): no answer can cost
  less than this through the installed command;
- ``stdlib``: the launcher plus every standard-library module a real ``suggest`` imports
  (read off its ``-X importtime``), none of ours: the floor of today's import graph;
- ``suggest``: the whole ``aprender-shell suggest`` at 0 learned, and after ``--learned``
  records sent through a real server (the one-shot replay of the journal included).

``python -m benchmarks.year.floor [--venv DIR] [--rounds N] [--learned N]``; without
``--venv`` it builds one with ``pip install <this checkout>``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.predictor import compare
from benchmarks.year.installed import Server, Setup, build_venv

# What the installed bin/aprender-shell runs before importing aprender_shell.
LAUNCHER = "import sys"


def imported(setup: Setup, argv: list[str]) -> list[str]:
    """The top-level modules ``argv`` (run with -X importtime) imports beyond a bare start."""

    def names(command: list[str]) -> list[str]:
        done = subprocess.run([setup.python, "-X", "importtime", *command], env=setup.environment,
                              cwd=setup.folder, capture_output=True, text=True, timeout=120)
        return [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")]

    bare = set(names(["-c", "pass"]))
    return [name for name in names(argv) if name not in bare]


def measure(setup: Setup, rounds: int) -> dict[str, Any]:
    """The ratios of one point: the launcher, the stdlib floor and the whole suggest."""
    query = ["suggest", "--model", str(setup.model), "git st"]
    modules = imported(setup, ["-c", f"{LAUNCHER}\nfrom aprender_shell.__main__ import main\n"
                               f"import sys; sys.argv = ['aprender-shell', *{query!r}]; main()"])
    stdlib = [name for name in modules if not name.startswith("aprender_shell")]
    costs = compare({
        "pass": [setup.python, "-c", "pass"],
        "launcher": [setup.python, "-c", LAUNCHER],
        # importtime also lists what was tried and missing (nt, _winapi on Linux)
        "stdlib": [setup.python, "-c", f"{LAUNCHER}\nfor name in {stdlib!r}:\n"
                   "    try:\n        __import__(name)\n    except ImportError:\n        pass"],
        "suggest": [setup.program, *query],
    }, rounds)
    base = costs["pass"]
    return {"modules": len(modules), "stdlib_modules": len(stdlib),
            "pass_ms": base.wall * 1e3,
            **{f"{name}_wall": cost.wall / base.wall for name, cost in costs.items()},
            **{f"{name}_cpu": cost.cpu / base.cpu for name, cost in costs.items()}}


def learn(setup: Setup, records: int) -> None:
    """Send ``records`` generated commands through a real server, then stop it."""
    from benchmarks.sessions import generate_sessions

    server = Server(setup)
    previous = ""
    for item in generate_sessions(records, seed=5):
        server.request({"record": item.command, "cwd": item.cwd, "exit": item.exit_status,
                        "shell": "bash", "prev": [previous]})
        previous = item.command
    server.end()


def run(venv: Path | None, rounds: int, learned: int,
        initial: int = 20_000) -> list[tuple[str, dict[str, Any]]]:
    """The two points (0 learned, then ``learned``) on a model trained on ``initial``."""
    from benchmarks.sessions import generate_sessions, write_bash_history

    with tempfile.TemporaryDirectory(prefix="aprender-floor-") as name:
        folder = Path(name)
        setup = Setup(venv.resolve() if venv else build_venv(folder), folder)
        try:
            write_bash_history(setup.history, generate_sessions(initial, seed=11))
            setup.cli("train", "--history", str(setup.history), "--model", str(setup.model))
            points = [("0", measure(setup, rounds))]
            learn(setup, learned)
            points.append((f"{learned:,}", measure(setup, rounds)))
        finally:
            setup.stop_servers()
    return points


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--venv", type=Path, help="an installed venv (default: build one)")
    parser.add_argument("--rounds", type=int, default=21, help="alternated rounds (21)")
    parser.add_argument("--learned", type=int, default=1_000,
                        help="records learned live for the second point (1000)")
    args = parser.parse_args(argv)
    points = run(args.venv, args.rounds, args.learned)
    print(f"Cold suggest against its floor (Python {sys.version.split()[0]}), ratios to "
          f"python -c pass, wall (CPU), medians of {args.rounds} rounds:")
    print(f"  {'learned':>8}{'pass ms':>9}{'launcher':>15}{'stdlib':>15}{'suggest':>15}"
          f"{'modules':>9}")
    for learned, point in points:
        cells = "".join(f"{point[f'{way}_wall']:>7.2f}x ({point[f'{way}_cpu']:.2f}x)"
                        for way in ("launcher", "stdlib", "suggest"))
        print(f"  {learned:>8}{point['pass_ms']:>9.1f}{cells}"
              f"{point['modules']:>5} ({point['stdlib_modules']} stdlib)")
    print("  launcher: bin/aprender-shell before our code; stdlib: it and every standard")
    print("  module the suggest imports (none of ours): the floor of the import graph.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

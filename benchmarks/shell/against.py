"""Per-keystroke time in zsh, this checkout beside another one, alternating rounds.

``python -m benchmarks.shell --against DIR`` (DIR: a checkout with its own ``.venv``, for
example the base of #18 at /work/wt/base). A loaded machine swings one run's figures by tens of
percent, so one run per side proves nothing; here both sides get the same workload (one
generated history and its keystrokes, from this checkout's generator), each its own model
trained by its own code and its own resident server, and then the timed shells alternate:
round after round, each mode runs once per side, the side that goes first swapping every round
(ABBA...), so whatever loads the machine loads both alike. Each round gives a ratio of this
checkout's p50 (and p90) to the other's; the table gives the median of those ratios and their
spread (quartiles, least and most), beside zsh-autosuggestions' own ``history`` strategy,
timed in the same rounds.

Three modes: the integration's own widgets; ours as zsh-autosuggestions' only strategy; ours
first and its ``history`` strategy after (as installed). Then, in the same rounds, each side's
``Predictor.suggest`` in a process of its own on the same keystrokes, in the same folder (what
the server's answer costs without the shell and the socket). The shells run in one folder, the
same for both: by default it holds the files and folders the history names, as a project
does; ``--folder empty`` leaves it empty, where no path a suggestion names exists (the most a
path check costs, and the fewest suggestions offered).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from benchmarks.shell import (
    AUTOSUGGEST_ZSH,
    OWN_WIDGETS_ZSH,
    STRATEGY_ZSH,
    ZSH_AUTOSUGGESTIONS,
    percentile,
    run_in_terminal,
    workload,
)

Out = Callable[[str], None]
# Ours alone as zsh-autosuggestions' strategy: what a key costs in it without the ``history``
# strategy that runs after ours whenever ours has nothing (which costs more than ours, so a side
# that answers fewer keys looks slower in the mode below for that alone).
STRATEGY_ALONE_ZSH = STRATEGY_ZSH.replace(
    '_aprender_connect 2>/dev/null ||', "ZSH_AUTOSUGGEST_STRATEGY=(aprender)\n"
    "_aprender_connect 2>/dev/null ||", 1)
MODES = (("own widgets", OWN_WIDGETS_ZSH),
         ("zsh-autosuggestions, ours alone", STRATEGY_ALONE_ZSH),
         ("zsh-autosuggestions, ours+history", STRATEGY_ZSH))
REFERENCE = "zsh-autosuggestions (history)"
IN_PROCESS = "Predictor.suggest, in process"

# Run by each side's interpreter: its Predictor.suggest on the keystrokes, as the server asks it
# (in the shells' folder, as zsh), after an untimed pass over the first ones. Prints the
# microseconds of each and how many got a suggestion.
TIME_IN_PROCESS = """
import json, sys, time
from pathlib import Path
from aprender_shell.model.query.predictor import Predictor
keys = json.loads(Path(sys.argv[2]).read_text())
cwd, answered, times = sys.argv[3], 0, []
with Predictor.open(Path(sys.argv[1])) as predictor:
    for prefix, prev in keys[:200]:
        predictor.suggest(prefix, 5, [prev], cwd, "zsh")
    for prefix, prev in keys:
        start = time.perf_counter()
        found = predictor.suggest(prefix, 5, [prev], cwd, "zsh")
        times.append((time.perf_counter() - start) * 1e6)
        answered += bool(found)
print(json.dumps([times, answered]))
"""


@dataclass
class Side:
    """One checkout: its interpreter, its user's folder, its model and its zsh script."""

    label: str  # "this" or "other"
    python: str
    folder: Path
    pythonpath: str | None = None  # a checkout without a venv of its own: run from here

    @property
    def home(self) -> Path:
        return self.folder / "home"

    @property
    def model(self) -> Path:
        return self.folder / "model.apbundle"

    @property
    def init(self) -> Path:
        return self.folder / "init.zsh"

    def environment(self, base: dict[str, str]) -> dict[str, str]:
        found = {**base, "APRENDER_SHELL_HOME": str(self.home), "BENCH_INIT": str(self.init)}
        if self.pythonpath is not None:
            found["PYTHONPATH"] = self.pythonpath
        return found

    def prepare(self, history: Path, base: dict[str, str]) -> None:
        """Train this side's model on ``history`` and write its zsh script, with its own code."""
        self.home.mkdir(parents=True)
        environment = self.environment(base)
        subprocess.run([self.python, "-m", "aprender_shell", "train", "--history", str(history),
                        "--model", str(self.model)], env=environment, cwd=self.folder,
                       check=True, stdout=subprocess.DEVNULL)
        script = subprocess.run([self.python, "-m", "aprender_shell", "init", "zsh"],
                                env=environment, cwd=self.folder, check=True,
                                capture_output=True, text=True).stdout
        self.init.write_text(script)

    def start(self, base: dict[str, str]) -> subprocess.Popen[bytes]:
        from aprender_shell.service.instance import accepts

        server = subprocess.Popen(
            [self.python, "-m", "aprender_shell", "server", "run", "--model", str(self.model)],
            env=self.environment(base), cwd=self.folder, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        socket = self.home / "run" / "server.sock"
        deadline = time.monotonic() + 120
        while not accepts(socket):
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                server.wait()
                raise RuntimeError(f"the server of {self.label} did not start")
            time.sleep(0.02)
        return server


    def in_process(self, keys: Path, cwd: Path, base: dict[str, str]) -> tuple[list[float], int]:
        """Microseconds of this side's ``Predictor.suggest`` per keystroke, and how many got a
        suggestion (``TIME_IN_PROCESS``, run by this side's own interpreter)."""
        done = subprocess.run(
            [self.python, "-c", TIME_IN_PROCESS, str(self.model), str(keys), str(cwd)],
            env=self.environment(base), cwd=self.folder, check=True, capture_output=True,
            text=True, timeout=3600,
        )
        times, answered = json.loads(done.stdout)
        return [float(value) for value in times], int(answered)


def other_side(checkout: Path, folder: Path) -> Side:
    """``checkout`` run by its own venv's interpreter; without one, by this interpreter with
    the checkout first on its path (a ``git worktree add`` of an older commit)."""
    if not (checkout / "aprender_shell").is_dir():
        raise SystemExit(f"{checkout} is not an aprender-shell checkout: give the folder "
                         "that holds its aprender_shell package")
    python = checkout / ".venv" / "bin" / "python"
    if python.exists():
        return Side("other", str(python), folder)
    return Side("other", sys.executable, folder, pythonpath=str(checkout))


def spread(values: Sequence[float]) -> tuple[float, float, float, float, float]:
    """Median, quartiles, least and most."""
    return (statistics.median(values), percentile(values, 0.25), percentile(values, 0.75),
            min(values), max(values))


Round = tuple[float, float, float]  # one round's p50 and p90 (microseconds), share answered
Results = dict[str, dict[str, list[Round]]]  # mode -> side ("this", "other") -> rounds
Ratios = dict[str, tuple[float, float, float, float, float]]
FOLDERS = ("project", "empty")


def project_folder(work: Path, commands: Sequence[str]) -> int:
    """Make, in ``work``, the files and folders ``commands`` name (``cd``'s argument a folder,
    other words with a slash or a dot files), as in the project a user types them in; returns
    how many paths were made."""
    made = 0
    for command in commands:
        words = command.split()
        for position, word in enumerate(words[1:], 1):
            if (len(word) > 100 or word[0] in "-~/$'\"" or ".." in word
                    or any(c in word for c in "*?[]{}()<>|;&=:@\\`'\"")
                    or ("/" not in word and "." not in word[1:]
                        and not (position == 1 and words[0] == "cd"))):
                continue
            path = work / word
            try:
                if words[0] == "cd" and position == 1:
                    path.mkdir(parents=True, exist_ok=True)
                elif not path.exists():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.touch()
                else:
                    continue
            except OSError:  # a word that is a file in one command and a folder in another
                continue
            made += 1
    return made


def side_by_side(
    against: Path, commands: int, count: int, rounds: int, folder: Path, out: Out = print,
    working: str = "project",
) -> Results:
    """Per mode, side and round: the p50 and p90 of ``count`` keystrokes, and the share of
    them that got a suggestion. ``working``: the shells' folder holds the paths the typed
    commands name (``project``) or nothing (``empty``)."""
    if shutil.which("zsh") is None:
        raise RuntimeError("zsh is not installed")
    # What this interpreter imports, a PYTHONPATH included (how an older commit is run here).
    this = Side("this", sys.executable, folder / "this", os.environ.get("PYTHONPATH"))
    other = other_side(against, folder / "other")
    session, keys = workload(commands, count, folder)
    (folder / "keys.json").write_text(json.dumps(keys))
    work = folder / "work"  # the shells' working folder, the same for both sides
    work.mkdir()
    made = project_folder(work, [item.command for item in session]) if working == "project" else 0
    base = {k: v for k, v in os.environ.items() if not k.startswith(("APRENDER_SHELL", "PYTHON"))}
    base.update(TERM="dumb", BENCH_KEYS=str(folder / "keys"),
                BENCH_HISTORY=str(folder / "history"),
                BENCH_AUTOSUGGEST=str(ZSH_AUTOSUGGESTIONS))
    for side in (this, other):
        side.folder.mkdir()
        side.prepare(folder / "history", base)
    out(f"{commands:,} commands of history, {len(keys)} keystrokes per round, {rounds} rounds, "
        f"in a folder holding {made:,} of the paths they name; models: this "
        f"{this.model.stat().st_size / 2**20:.2f} MB, other "
        f"{other.model.stat().st_size / 2**20:.2f} MB")
    zsh = shutil.which("zsh") or "zsh"
    results: Results = {}
    servers = []
    try:
        for side in (this, other):
            servers.append(side.start(base))
        runs = 0
        for number in range(rounds):
            order = (this, other) if number % 2 == 0 else (other, this)
            jobs: list[tuple[str, str, str, dict[str, str]]] = []
            for mode, script in MODES:
                if script is not OWN_WIDGETS_ZSH and not ZSH_AUTOSUGGESTIONS.exists():
                    continue
                jobs += [(mode, side.label, script, side.environment(base)) for side in order]
            if ZSH_AUTOSUGGESTIONS.exists():
                jobs.append((REFERENCE, REFERENCE, AUTOSUGGEST_ZSH, base))
            for mode, label, script, environment in jobs:
                runs += 1
                path = folder / f"script-{runs}.zsh"
                path.write_text(script)
                result = folder / f"times-{runs}"
                times, answered = run_in_terminal(
                    [zsh, "-f", "-i"], path, {**environment, "BENCH_OUT": str(result)}, result,
                    cwd=work)
                results.setdefault(mode, {}).setdefault(label, []).append(
                    (percentile(times, 0.5), percentile(times, 0.9), answered / len(times)))
            for side in order:
                times, answered = side.in_process(folder / "keys.json", work, base)
                results.setdefault(IN_PROCESS, {}).setdefault(side.label, []).append(
                    (percentile(times, 0.5), percentile(times, 0.9), answered / len(times)))
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=120)
    return results


def report(results: Results, against: Path, out: Out = print) -> Ratios:
    """The table: per mode, this checkout's p50 over ``against``'s, round by round."""
    ratios: Ratios = {}
    reference = results.get(REFERENCE, {}).get(REFERENCE, [])
    out("")
    out(f"  {'per keystroke (medians of rounds)':<34}{'this p50':>10}{'other p50':>11}"
        f"{'answered':>11}  {'p50 ratio [quartiles] (least-most)':<36}{'p90 ratio':>10}"
        f"{'vs zsh-as':>14}")
    for mode, sides in results.items():
        if mode == REFERENCE:
            continue
        mine, theirs = sides["this"], sides["other"]
        p50 = [a[0] / b[0] for a, b in zip(mine, theirs)]
        p90 = [a[1] / b[1] for a, b in zip(mine, theirs)]
        middle, low, high, least, most = ratios[mode] = spread(p50)
        versus = ""
        if reference:
            versus = "/".join(
                f"{statistics.median(a[0] / r[0] for a, r in zip(rows, reference)):.2f}"
                for rows in (mine, theirs)) + "x"
        answered = [statistics.median(row[2] for row in side) for side in (mine, theirs)]
        out(f"  {mode:<34}{statistics.median(a[0] for a in mine) / 1e3:>8.3f}ms"
            f"{statistics.median(b[0] for b in theirs) / 1e3:>9.3f}ms"
            f"{answered[0]:>6.0%}/{answered[1]:<4.0%}"
            f"  {middle:>5.3f}x [{low:.3f}-{high:.3f}] ({least:.2f}-{most:.2f})"
            f"{statistics.median(p90):>9.3f}x{versus:>14}")
    if reference:
        out(f"  {REFERENCE:<34}{statistics.median(r[0] for r in reference) / 1e3:>8.3f}ms")
    out(f"  (this: the running checkout; other: {against}. Ratios are this over other, one per "
        "round;\n   vs zsh-as: each side's p50 over zsh-autosuggestions' history strategy, this/"
        "other. Goal: p50 ratio within 1.2x)")
    return ratios


def run(against: Path, commands: int, count: int, rounds: int, folder: Path,
        out: Out = print, working: str = "project") -> Ratios:
    """Measure and print; returns each mode's p50 ratio (median, quartiles, least, most)."""
    results = side_by_side(against, commands, count, rounds, folder, out, working)
    return report(results, against, out)

"""Suggestion quality against zsh-autosuggestions' strategies, on several kinds of history.

Replays the last 20% of each history as typed, online (every strategy learns each command
after it runs, as the shell hooks do), and prints, per history, the model's keystroke saving
rate as a multiple of the ``history`` strategy's and its Hit@1 after one typed character
beside ``match_prev_cmd``'s. The targets: KSR at least 1.25x ``history``; Hit@1 after one
character above ``match_prev_cmd``.

Histories: the session generator's three personas with two seeds each, the packaged sample,
and (when ``../shared/data/nl2bash`` or ``--nl2bash FILE`` is there) the NL2Bash one-liners in
a fixed shuffled order, where almost every command is new and only the n-gram model can help.

``python -m aprender_shell.bench.quality [--commands N] [--nl2bash FILE]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from aprender_shell.history.formats import HistoryEntry

PERSONAS = ("developer", "ops", "data")
NL2BASH = Path(__file__).resolve().parents[3] / "shared" / "data" / "nl2bash" / "all.cm"


def histories(commands: int, nl2bash: Path | None) -> dict[str, list[HistoryEntry]]:
    """The histories to replay, by name."""
    from aprender_shell.bench.sessions import generate_sessions
    from aprender_shell.history.files import read_history, sample_history_path

    found = {}
    for persona in PERSONAS:
        for seed in (1, 2):
            sessions = generate_sessions(commands, seed=seed, persona=persona)
            found[f"{persona} (seed {seed})"] = [
                HistoryEntry(item.command, item.timestamp) for item in sessions
            ]
    found["packaged sample"] = read_history(sample_history_path())
    if nl2bash is not None and nl2bash.is_file():
        lines = [line for line in nl2bash.read_text(encoding="utf-8").splitlines() if line]
        random.Random(0).shuffle(lines)
        found["nl2bash (shuffled)"] = [HistoryEntry(line) for line in lines]
    return found


def run(
    named: Mapping[str, Sequence[HistoryEntry]], echo: Callable[[str], None] = print
) -> list[tuple[str, float, float]]:
    """Evaluate every history; print one row each; return (name, KSR ratio, Hit@1 margin)."""
    from aprender_shell.evaluate.run import evaluate_history

    echo(f"  {'history':<22}{'cmds':>7}{'KSR ours':>10}{'history':>9}{'ratio':>7}"
         f"{'H@1/1 ours':>12}{'prev_cmd':>10}{'margin':>8}")
    rows = []
    for name, entries in named.items():
        report = evaluate_history(entries, split=0.8, online=True)
        ours = report.metrics["aprender-shell"]
        history = report.metrics["history"]
        prev_cmd = report.metrics["match_prev_cmd"]
        ratio = ours.ksr / history.ksr if history.ksr else float("inf")
        margin = ours.hit1[1] - prev_cmd.hit1[1]
        rows.append((name, ratio, margin))
        echo(f"  {name:<22}{len(entries):>7}{ours.ksr:>10.1%}{history.ksr:>9.1%}{ratio:>6.2f}x"
             f"{ours.hit1[1]:>12.1%}{prev_cmd.hit1[1]:>10.1%}{margin * 100:>+7.1f}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--commands", type=int, default=5000, help="commands per session (5000)")
    parser.add_argument("--nl2bash", type=Path, default=NL2BASH, help="NL2Bash all.cm")
    parser.add_argument("--quick", action="store_true", help="1000 commands per session")
    args = parser.parse_args(argv)
    if args.quick:
        args.commands = 1000
    started = time.perf_counter()
    print(f"aprender-shell suggestion quality (online replay of the last 20%, Python "
          f"{sys.version.split()[0]})\n")
    run(histories(args.commands, args.nl2bash))
    print(f"\n  KSR: keystrokes saved when the top suggestion, once it is the whole command, is "
          f"accepted with one key.\n  H@1/1: the command is the top suggestion after its first "
          f"character. ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the secret filter drops and what it costs, on real one-liners and generated sessions.

For each history: how many commands the filter flags (with the flagged lines, to read them),
and its cost per command beside the tokenizer's on the same commands, measured in the same
run (both run on every recorded command). The target: the filter costs no more than a few
tokenizations, and flags well under 0.2% of the NL2Bash one-liners, each holding a secret.

``python -m benchmarks.secrets [--nl2bash FILE] [--show]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks.quality import NL2BASH

REPEATS = 5


def _best_per_call(function: Callable[[str], object], lines: Sequence[str]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        for line in lines:
            function(line)
        best = min(best, time.perf_counter() - start)
    return best / max(1, len(lines))


def main(argv: list[str] | None = None) -> int:
    from aprender_shell.history.files import read_history, sample_history_path
    from aprender_shell.history.secrets import contains_secret, matching_rules
    from aprender_shell.history.tokens import tokenize

    parser = argparse.ArgumentParser(prog="python -m benchmarks.secrets")
    parser.add_argument("--nl2bash", type=Path, default=NL2BASH)
    parser.add_argument("--show", action="store_true", help="print every flagged line")
    parser.add_argument("--quick", action="store_true", help="(accepted; the run is short)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)

    histories: list[tuple[str, list[str]]] = [
        ("generated sessions (packaged sample)",
         [entry.command for entry in read_history(sample_history_path())]),
    ]
    if args.nl2bash.exists():
        text = args.nl2bash.read_text(encoding="utf-8", errors="replace")
        histories.insert(0, ("NL2Bash one-liners", text.splitlines()))
    print(f"{'history':<40} {'lines':>7} {'flagged':>8} {'filter/call':>12} "
          f"{'tokenize/call':>14} {'ratio':>6}")
    for name, lines in histories:
        flagged = [line for line in lines if contains_secret(line)]
        filter_cost = _best_per_call(contains_secret, lines)
        tokenize_cost = _best_per_call(tokenize, lines)
        print(f"{name:<40} {len(lines):>7} {len(flagged):>8} {filter_cost * 1e6:>9.1f} µs "
              f"{tokenize_cost * 1e6:>11.1f} µs {filter_cost / tokenize_cost:>5.1f}x")
        if args.show:
            for line in flagged:
                print(f"    {','.join(matching_rules(line))}: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m benchmarks [--quick]``: every benchmark, one after the other.

Each prints its subject beside its reference, measured in the same run: the bundle's paging,
the predictor's training and cold start, the server's per-query time, the path check on a
slow folder against a fast one, what folding costs, per-keystroke time in a real zsh against
zsh-autosuggestions, the fill key in bash and fish, Ctrl-R's list against plain fzf,
suggestion quality against its strategies, what syncing several devices costs against
training and an unsynced model, and a year of use in a regular install (cold start, queries,
memory and disk after 150,000 commands learned).
"""

from __future__ import annotations

import sys

from benchmarks import (
    bundle,
    ctrl_r,
    fold,
    pathcheck,
    predictor,
    quality,
    server,
    shell,
    sync,
    year,
)

# shell runs fill_key (bash and fish) in the same run as zsh.
BENCHMARKS = (bundle, predictor, server, pathcheck, fold, shell, ctrl_r, quality, sync, year)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["--quick"]):
        print("usage: python -m benchmarks [--quick]", file=sys.stderr)
        return 2
    for number, benchmark in enumerate(BENCHMARKS):
        if number:
            print("\n" + "=" * 100 + "\n")
        status: int = benchmark.main(list(args))
        if status:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main())

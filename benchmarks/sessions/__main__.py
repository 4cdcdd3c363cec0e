"""``python -m benchmarks.sessions``: rewrite the shipped sample history.

``--facts`` prints what the generated users' histories look like instead (typed before,
reruns, failures); ``--write FILE`` writes one generated user's history as zsh writes it (for
``aprender-shell evaluate --history FILE``), chosen by ``--persona``, ``--seed``,
``--commands`` and ``--messy``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.sessions import generate_sessions, write_sample_history, write_zsh_history
from benchmarks.sessions.facts import history_facts, mean_facts
from benchmarks.sessions.simulator import PERSONAS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sessions",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--facts", action="store_true", help="print the generated users' facts")
    parser.add_argument("--write", type=Path, metavar="FILE",
                        help="write one generated user's history to FILE (zsh format)")
    parser.add_argument("--persona", choices=PERSONAS, default="developer")
    parser.add_argument("--seed", type=int, default=3, help="3 and 4 are the held-out half")
    parser.add_argument("--commands", type=int, default=3000)
    parser.add_argument("--messy", action="store_true")
    args = parser.parse_args(argv)
    if args.facts:
        every = []
        for persona in PERSONAS:
            for seed, messy in ((1, False), (2, True), (3, False), (4, True)):
                commands = generate_sessions(3000, seed=seed, persona=persona, messy=messy)
                every.append(history_facts(commands))
                print(f"{persona} {seed}{', messy' if messy else ''}: {every[-1].line()}")
        print(f"mean: {mean_facts(every).line()}")
    elif args.write is not None:
        commands = generate_sessions(args.commands, args.seed, args.persona, args.messy)
        write_zsh_history(args.write, commands)
        print(f"{args.write}: {history_facts(commands).line()}")
    else:
        print(write_sample_history())


main()

"""``python -m benchmarks.sessions``: rewrite the shipped sample history; with ``--facts``,
print what the generated users' histories look like instead (typed before, reruns, failures)."""

from __future__ import annotations

import sys

from benchmarks.sessions import generate_sessions, write_sample_history
from benchmarks.sessions.facts import history_facts, mean_facts
from benchmarks.sessions.simulator import PERSONAS

if sys.argv[1:] == ["--facts"]:
    every = []
    for persona in PERSONAS:
        for seed, messy in ((1, False), (2, True), (3, False), (4, True)):
            facts = history_facts(generate_sessions(3000, seed=seed, persona=persona, messy=messy))
            every.append(facts)
            print(f"{persona} {seed}{', messy' if messy else ''}: {facts.line()}")
    print(f"mean: {mean_facts(every).line()}")
elif sys.argv[1:]:
    sys.exit("usage: python -m benchmarks.sessions [--facts]")
else:
    print(write_sample_history())

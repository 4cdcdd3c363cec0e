"""Suggestion quality against zsh-autosuggestions' strategies, on a held-out half of histories.

The generated histories are split in two: the **tuning** half (seeds 1 and 2 of each persona
and the packaged sample) is the only one anybody may look at while choosing defaults; the
**held-out** half (seeds 3 and 4 of each persona, and NL2Bash when it is there) is what the
README reports. In each half one seed of each persona is a messy user (more slips, commands
run again, folders wandered, more one-offs).

Each history's last 20% is replayed as typed, online (every strategy learns each command after
it runs, as the shell hooks do, with its folder and exit status; each is asked with the two
commands before and the folder). The model is asked through a server session's protocol
answer, so its ``p`` and ``show`` are measured as the shells would see them. Printed: one row
per history; the facts of the half's generated users (typed before, reruns, failures); issue
#18's table (keystrokes saved, top-1/top-5 on the empty line and after one character, the
next command's name, how often the empty line shows and is right then) for zsh-autosuggestions'
strategies, the counting baselines (``evaluate/frequency.py``) and the model; which of the
issue's goals the model meets; the reliability table of its ``p``; the mean KSR, Hit@1 and
Hit@5 after 0 to 3 characters and MRR@5; and with ``--ablation`` the same replay with each of
the model's signals turned off in turn (a signal earns its place when turning it off costs).

``python -m benchmarks.quality [--tuning] [--ablation] [--commands N] [--quick]``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from aprender_shell.evaluate.replay import PREFIX_LENGTHS, EvaluationReport, StrategyMetrics
from aprender_shell.history.formats import Context, HistoryEntry
from aprender_shell.model.query.predictor import Predictor
from benchmarks.sessions import SessionCommand
from benchmarks.sessions.facts import Facts, history_facts, mean_facts

PERSONAS = ("developer", "ops", "data")
TUNING_SEEDS = (1, 2)
HELD_OUT_SEEDS = (3, 4)
# The second seed of each half is a messy user.
MESSY_SEEDS = (2, 4)
NL2BASH = Path(__file__).resolve().parents[2] / "shared" / "data" / "nl2bash" / "all.cm"
OURS = "aprender-shell"
BASELINES = ("history", "match_prev_cmd")
COUNTING = ("most frequent", "most frequent follower", "back-off (lines)", "back-off (names)")

# Each signal turned off, for the quality benchmark's ablation table.
ABLATIONS: dict[str, dict[str, float]] = {
    "no frequency (short_share=1)": {"short_share": 1.0},
    "no short-term weight (short_share=0)": {"short_share": 0.0},
    "no last use": {"recency": 0.0},
    "no sequence": {"context_max": 0.0},
    "no template": {"template": 0.0},
    "no last follower": {"last_follower": 0.0},
    "no n-grams": {"ngram": 0.0},
    "no argument reuse": {"argument_reuse": 0.0},
    "no names": {"names": 0.0},
    "no name first": {"name_first": 0.0},
}


@dataclass
class HistoryResult:
    """One replayed history: its name, size, and every strategy's (and variant's) metrics."""

    name: str
    commands: int
    report: EvaluationReport

    def metrics(self, name: str) -> StrategyMetrics:
        return self.report.metrics[name]


def histories(
    commands: int, nl2bash: Path | None, held_out: bool = True
) -> dict[str, list[HistoryEntry]]:
    """The histories of one half, by name (see the module for which go where)."""
    from aprender_shell.history.files import read_history, sample_history_path
    from benchmarks.sessions import generate_sessions

    found = {}
    for persona in PERSONAS:
        for seed in HELD_OUT_SEEDS if held_out else TUNING_SEEDS:
            messy = seed in MESSY_SEEDS
            sessions = generate_sessions(commands, seed=seed, persona=persona, messy=messy)
            label = f"{persona} {seed}{', messy' if messy else ''}"
            found[label] = [as_entry(item) for item in sessions]
    if not held_out:
        found["packaged sample"] = read_history(sample_history_path())
    elif nl2bash is not None and nl2bash.is_file():
        lines = [line for line in nl2bash.read_text(encoding="utf-8").splitlines() if line]
        random.Random(0).shuffle(lines)
        found["nl2bash (shuffled)"] = [HistoryEntry(line) for line in lines[:commands]]
    return found


def as_entry(command: SessionCommand) -> HistoryEntry:
    """A generated command as the shells' hooks record it: with its folder and exit status."""
    return HistoryEntry(command.command, command.timestamp,
                        Context(cwd=command.cwd, exit=command.exit_status))


class Answered(NamedTuple):
    """One suggestion of a protocol answer."""

    text: str
    score: float
    p: float | None


class Answering:
    """The model as the shells reach it: each question and record goes through a server
    session's protocol answer, so whatever the answer carries ("p", "show") is measured."""

    def __init__(self, predictor: Predictor) -> None:
        from aprender_shell.service.session import Session

        self.predictor = predictor
        self.session = Session(lambda: predictor, save_interval=float("inf"))

    def answer(
        self, prefix: str, k: int, prev: Sequence[str], cwd: str | None
    ) -> dict[str, Any]:
        return self.session.handle({"prefix": prefix, "k": k, "prev": list(prev), "cwd": cwd})

    def suggest(
        self, prefix: str, k: int = 5, prev: Sequence[str] = (), cwd: str | None = None
    ) -> list[Answered]:
        answer = self.answer(prefix, k, prev, cwd)
        return [Answered(item["text"], item.get("score", 0.0), item.get("p"))
                for item in answer["suggestions"]]

    def record(
        self,
        command: str,
        cwd: str | None = None,
        exit_status: int | None = None,
        prev: Sequence[str] = (),
    ) -> None:
        answer = self.session.handle(
            {"record": command, "cwd": cwd, "exit": exit_status, "prev": list(prev)}
        )
        if "error" in answer:
            raise RuntimeError(f"recording {command!r} failed: {answer['error']}")


def ablations() -> dict[str, dict[str, float]]:
    """Each of the model's signals turned off in turn, as overrides of the default weights."""
    return ABLATIONS


def replay_history(
    entries: Sequence[HistoryEntry], variants: Mapping[str, Mapping[str, float]] = {}
) -> EvaluationReport:
    """Train on the first 80%, replay the rest online against the model (through the
    protocol's answers), its ``variants`` (weight overrides), both zsh-autosuggestions
    strategies and the counting baselines."""
    from aprender_shell.evaluate.baselines import HistoryStrategy, MatchPrevCmdStrategy
    from aprender_shell.evaluate.frequency import counting_baselines
    from aprender_shell.evaluate.replay import Strategy, evaluate, split_history
    from aprender_shell.model.training.train import clean_commands, train_model

    cleaned, _ = clean_commands(entries)
    train, test = split_history(cleaned, 0.8)
    with tempfile.TemporaryDirectory(prefix="aprender-quality-") as folder:
        model_path = Path(folder) / "quality.apbundle"
        train_model(train, model_path)
        commands = [entry.command for entry in train]
        opened: list[Predictor] = []
        try:
            strategies: dict[str, Strategy] = {}
            for number, (name, overrides) in enumerate({OURS: {}, **variants}.items()):
                # Each its own copy: one variant's journal must not make another's stale.
                own = model_path.with_name(f"variant-{number}.apbundle")
                shutil.copyfile(model_path, own)
                predictor = Predictor.open(own)
                opened.append(predictor)
                if overrides:
                    predictor.weights = predictor.weights.replace(**overrides)
                strategies[name] = Answering(predictor)
            strategies["history"] = HistoryStrategy(commands)
            strategies["match_prev_cmd"] = MatchPrevCmdStrategy(commands)
            strategies.update(counting_baselines(commands))
            return evaluate(train, test, strategies, online=True)
        finally:
            for predictor in opened:
                predictor.close()


def run(
    named: Mapping[str, Sequence[HistoryEntry]],
    echo: Callable[[str], None] = print,
    variants: Mapping[str, Mapping[str, float]] = {},
) -> list[HistoryResult]:
    """Replay every history; print one row each; return every history's full report."""
    echo(f"  {'history':<24}{'cmds':>7}{'KSR ours':>10}{'history':>9}{'ratio':>7}"
         f"{'H@1/0':>8}{'H@1/1 ours':>12}{'prev_cmd':>10}")
    results = []
    for name, entries in named.items():
        report = replay_history(entries, variants)
        result = HistoryResult(name, len(entries), report)
        results.append(result)
        ours, history = result.metrics(OURS), result.metrics("history")
        ratio = ours.ksr / history.ksr if history.ksr else float("inf")
        echo(f"  {name:<24}{len(entries):>7}{ours.ksr:>10.1%}{history.ksr:>9.1%}{ratio:>6.2f}x"
             f"{ours.hit1[0]:>8.1%}{ours.hit1[1]:>12.1%}"
             f"{result.metrics('match_prev_cmd').hit1[1]:>10.1%}")
    return results


def mean_metrics(results: Sequence[HistoryResult], name: str) -> StrategyMetrics:
    """The unweighted mean over histories of one strategy's figures."""
    count = len(results)
    every = [result.metrics(name) for result in results]
    return StrategyMetrics(
        ksr=sum(m.ksr for m in every) / count,
        hit1={n: sum(m.hit1[n] for m in every) / count for n in PREFIX_LENGTHS},
        hit5={n: sum(m.hit5[n] for m in every) / count for n in PREFIX_LENGTHS},
        mrr=sum(m.mrr for m in every) / count,
        queries=sum(m.queries for m in every),
        seconds=sum(m.seconds for m in every),
        name1=sum(m.name1 for m in every) / count,
        shown=sum(m.shown for m in every) / count,
        shown_right=sum(m.shown_right for m in every) / count,
        calibration=[pair for m in every for pair in m.calibration],
        partials=[pair for m in every for pair in m.partials],
        partials_met=sum(m.partials_met for m in every),
        partials_taken=sum(m.partials_taken for m in every),
    )


# The columns of issue #18's table, and what each is.
COLUMNS: tuple[tuple[str, Callable[[StrategyMetrics], float]], ...] = (
    ("keys saved", lambda m: m.ksr),
    ("top-1 empty", lambda m: m.hit1[0]),
    ("top-5 empty", lambda m: m.hit5[0]),
    ("top-1 1 char", lambda m: m.hit1[1]),
    ("top-5 1 char", lambda m: m.hit5[1]),
    ("name top-1", lambda m: m.name1),
    ("shown", lambda m: m.shown),
    ("shown right", lambda m: m.shown_right),
)


def issue_table(results: Sequence[HistoryResult], sessions_only: bool = True) -> list[str]:
    """One row per strategy (the baselines, then the model and its variants), with the
    columns of issue #18: keystrokes saved, top-1/top-5 on the empty line and after one
    character, the next command's name, how often the empty line shows and is right then."""
    chosen = [r for r in results if not (sessions_only and r.name.startswith("nl2bash"))]
    if not chosen:
        return []
    present = list(chosen[0].report.metrics)
    names = [name for name in (*BASELINES, *COUNTING) if name in present]
    names += [name for name in present if name not in names]
    width = max(len(name) for name in names) + 2
    lines = [f"  Mean over {len(chosen)} histories:",
             "  " + " " * width + "".join(f"{label:>14}" for label, _ in COLUMNS)]
    for name in names:
        m = mean_metrics(chosen, name)
        cells = "".join(f"{value(m):>14.3f}" for _, value in COLUMNS[:-1])
        right = f"{COLUMNS[-1][1](m):>14.3f}" if m.shown else f"{'-':>14}"
        lines.append(f"  {name:<{width}}{cells}{right}")
    return lines


def summary(results: Sequence[HistoryResult], sessions_only: bool = True) -> list[str]:
    """The mean figures of the model and both baselines, one column each, as text lines.

    NL2Bash is a list of unrelated one-liners, not a person's history: by default the mean is
    over the generated sessions only.
    """
    chosen = [r for r in results if not (sessions_only and r.name.startswith("nl2bash"))]
    if not chosen:
        return []
    names = (OURS, *BASELINES)
    means = {name: mean_metrics(chosen, name) for name in names}
    history_ksr = means["history"].ksr
    lines = [f"  Mean over {len(chosen)} generated histories:",
             f"  {'':<22}" + "".join(f"{name:>16}" for name in names)]

    def row(label: str, cell: Callable[[StrategyMetrics], str]) -> None:
        lines.append(f"  {label:<22}" + "".join(f"{cell(means[name]):>16}" for name in names))

    row("KSR", lambda m: f"{m.ksr:.1%}")
    row("KSR / history's", lambda m: f"{m.ksr / history_ksr:.2f}x" if history_ksr else "-")
    for n in PREFIX_LENGTHS:
        row(f"Hit@1 after {n}", lambda m, n=n: f"{m.hit1[n]:.1%}")  # type: ignore[misc]
    for n in PREFIX_LENGTHS:
        row(f"Hit@5 after {n}", lambda m, n=n: f"{m.hit5[n]:.1%}")  # type: ignore[misc]
    row("MRR@5 after 1", lambda m: f"{m.mrr:.3f}")
    return lines


def goals(results: Sequence[HistoryResult], name: str = OURS) -> list[str]:
    """Issue #18's goals for ``name``, each with its figure and whether it is met (mean over
    the generated histories)."""
    chosen = [r for r in results if not r.name.startswith("nl2bash")]
    if not chosen:
        return []
    m, history = mean_metrics(chosen, name), mean_metrics(chosen, "history")
    ratio = m.ksr / history.ksr if history.ksr else 0.0
    checks = (
        (f"keystrokes saved {ratio:.2f}x history's", ratio >= 1.25, "at least 1.25x"),
        (f"top-1 after 1 char {m.hit1[1]:.3f}", m.hit1[1] >= 0.50, "at least 0.50"),
        (f"top-1 on the empty line {m.hit1[0]:.3f}", m.hit1[0] >= 0.25, "at least 0.25"),
        (f"next command's name {m.name1:.3f}", m.name1 >= 0.33, "at least 0.33"),
        (f"empty line shown {m.shown:.3f}, right when shown {m.shown_right:.3f}",
         m.shown >= 0.30 and m.shown_right >= 0.5, "right at least 0.5, shown at least 0.30"),
    )
    return [f"  Goals of issue #18 for {name}:"] + [
        f"    {'met    ' if met else 'not met'}  {figure} ({goal})" for figure, met, goal in checks
    ]


def half_facts(commands: int, held_out: bool = True) -> Facts:
    """The mean facts (typed before, reruns, failures) of one half's generated users."""
    from benchmarks.sessions import generate_sessions

    seeds = HELD_OUT_SEEDS if held_out else TUNING_SEEDS
    return mean_facts([
        history_facts(generate_sessions(commands, seed, persona, seed in MESSY_SEEDS))
        for persona in PERSONAS for seed in seeds
    ])


def reliability(results: Sequence[HistoryResult], name: str = OURS) -> list[str]:
    """The reliability table of ``name``'s ``p`` over the generated histories (every
    suggestion of the replay that carried one), or a line saying its answers carry none."""
    from aprender_shell.evaluate.reliability import format_reliability, reliability_table

    chosen = [r for r in results if not r.name.startswith("nl2bash")]
    pairs = [pair for r in chosen for pair in r.metrics(name).calibration]
    if not pairs:
        return [f"  Reliability of p: {name}'s answers carry no \"p\"."]
    table = format_reliability(reliability_table(pairs)).splitlines()
    lines = [f"  Reliability of {name}'s p (the top five, 0 to 3 characters typed):",
             *(f"  {line}" for line in table)]
    partials = [pair for r in chosen for pair in r.metrics(name).partials]
    if partials:
        # a partial ghost's p is the chance the command starts with it (model/query/partial)
        table = format_reliability(reliability_table(partials)).splitlines()
        taken = sum(r.metrics(name).partials_taken for r in chosen)
        lines += ["", f"  Reliability of {name}'s partial ghosts' p (the command starts with "
                  f"it), 0 to 3 characters typed; {taken:,} taken while typing:",
                  *(f"  {line}" for line in table)]
    return lines


def ablation_table(results: Sequence[HistoryResult], variants: Sequence[str]) -> list[str]:
    """Mean KSR, Hit@1 after 0 and 1 characters with each signal off, and what it costs."""
    chosen = [r for r in results if not r.name.startswith("nl2bash")]
    if not chosen or not variants:
        return []
    full = mean_metrics(chosen, OURS)
    lines = ["  Ablation (mean over the generated histories; change from the full model):",
             f"  {'':<26}{'KSR':>14}{'Hit@1 after 0':>18}{'Hit@1 after 1':>18}"]

    def cell(value: float, reference: float, ablated: bool) -> str:
        return f"{value:.1%} ({(value - reference) * 100:+.1f})" if ablated else f"{value:.1%}"

    for name in (OURS, *variants):
        m = mean_metrics(chosen, name)
        ablated = name != OURS
        label = "full model" if not ablated else name
        lines.append(f"  {label:<26}{cell(m.ksr, full.ksr, ablated):>14}"
                     f"{cell(m.hit1[0], full.hit1[0], ablated):>18}"
                     f"{cell(m.hit1[1], full.hit1[1], ablated):>18}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--commands", type=int, default=3000, help="commands per session (3000)")
    parser.add_argument("--nl2bash", type=Path, default=NL2BASH, help="NL2Bash all.cm")
    parser.add_argument("--quick", action="store_true", help="1000 commands per session")
    parser.add_argument("--tuning", action="store_true",
                        help="replay the tuning half instead of the held-out half")
    parser.add_argument("--ablation", action="store_true",
                        help="also replay with each signal turned off in turn")
    args = parser.parse_args(argv)
    if args.quick:
        args.commands = 1000
    started = time.perf_counter()
    half = "tuning" if args.tuning else "held-out"
    print(f"aprender-shell suggestion quality, {half} half of the generated histories "
          f"(online replay of the last 20%, Python {sys.version.split()[0]})\n")
    variants = ablations() if args.ablation else {}
    results = run(histories(args.commands, args.nl2bash, held_out=not args.tuning),
                  variants=variants)
    print(f"\n  The generated users, as real histories are measured: "
          f"{half_facts(args.commands, held_out=not args.tuning).line()}.")
    print()
    print("\n".join(issue_table(results)))
    print()
    print("\n".join(goals(results)))
    print()
    print("\n".join(reliability(results)))
    print()
    print("\n".join(summary(results)))
    if variants:
        print()
        print("\n".join(ablation_table(results, list(variants))))
    print(f"\n  KSR: keystrokes saved when the top suggestion, once it is the whole command, is "
          f"accepted with one key (a partial ghost the command starts with, too).\n"
          f"  H@1/n: the command is the top suggestion after its first "
          f"n characters. ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

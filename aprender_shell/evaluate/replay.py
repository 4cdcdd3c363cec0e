"""Replay held-out history as typed, and measure how much each suggestion strategy helps.

Each test command is typed character by character; every strategy is asked for suggestions
with the commands run before it as context (the last three, most recent last) and no cwd.

Metrics, per strategy:

- **KSR** (keystroke saving rate): at each point while typing (with nothing typed too, when
  there is a previous command) the user accepts the top suggestion with one key as soon as it
  is the whole command, else types it all. ``KSR = 1 - keys used / characters``, Enter not
  counted. Positions 0-3 reuse the top of the ``k=5`` queries below; later ones ask ``k=1``.
- **Hit@1 / Hit@5 after n chars** (n = 0..3): the command is the top / among the top five
  suggestions once its first n characters are typed. Only commands longer than n count: a
  command already typed in full needs no suggestion. With nothing typed, a strategy that
  offers nothing misses.
- **MRR@5**: the mean of ``1 / rank`` of the command among the top five after its first
  character (0 when absent), over commands longer than one character.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Protocol, TypeVar

from aprender_shell.errors import UsageError
from aprender_shell.evaluate.reliability import Reliability, format_reliability, stated_chances

CONTEXT = 3
TOP = 5
PREFIX_LENGTHS = (0, 1, 2, 3)
MRR_PREFIX = 1

Entry = TypeVar("Entry")


class SuggestionLike(Protocol):
    @property
    def text(self) -> str: ...


class CommandLike(Protocol):
    @property
    def command(self) -> str: ...


class Strategy(Protocol):
    """What evaluate needs: the predictor and the zsh-autosuggestions baselines all fit."""

    def suggest(
        self, prefix: str, k: int = 5, prev: Sequence[str] = (), cwd: str | None = None
    ) -> Sequence[SuggestionLike]: ...

    def record(
        self,
        command: str,
        cwd: str | None = None,
        exit_status: int | None = None,
        prev: Sequence[str] = (),
    ) -> None: ...


def split_history(entries: Sequence[Entry], split: float) -> tuple[list[Entry], list[Entry]]:
    """The first ``split`` share of the entries to train on and the rest to test, in order."""
    if not 0.0 < split < 1.0:
        raise UsageError(f"split must be between 0 and 1 (exclusive), not {split}")
    cut = int(len(entries) * split)
    return list(entries[:cut]), list(entries[cut:])


@dataclass
class StrategyMetrics:
    """One strategy's figures over a replay; rates are fractions in [0, 1]."""

    ksr: float = 0.0
    hit1: dict[int, float] = field(default_factory=dict)
    hit5: dict[int, float] = field(default_factory=dict)
    mrr: float = 0.0
    queries: int = 0
    seconds: float = 0.0
    # What the suggestions' p said against what was run (None: the strategy states no p).
    reliability: Reliability | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["hit1"] = {str(n): rate for n, rate in self.hit1.items()}
        data["hit5"] = {str(n): rate for n, rate in self.hit5.items()}
        data["reliability"] = self.reliability.to_dict() if self.reliability else None
        return data


@dataclass
class EvaluationReport:
    """Every strategy's metrics over the same replayed test commands."""

    train_size: int
    test_size: int
    online: bool
    metrics: dict[str, StrategyMetrics]
    # How many test commands each Hit@ / MRR figure is over, by typed prefix length.
    counted: dict[int, int] = field(default_factory=dict)
    typed_chars: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "train_size": self.train_size,
            "test_size": self.test_size,
            "online": self.online,
            "typed_chars": self.typed_chars,
            "counted": {str(n): count for n, count in self.counted.items()},
            "metrics": {name: metrics.to_dict() for name, metrics in self.metrics.items()},
        }


@dataclass
class _Tally:
    keys: int = 0
    hits1: dict[int, int] = field(default_factory=lambda: dict.fromkeys(PREFIX_LENGTHS, 0))
    hits5: dict[int, int] = field(default_factory=lambda: dict.fromkeys(PREFIX_LENGTHS, 0))
    reciprocal: float = 0.0
    queries: int = 0
    seconds: float = 0.0
    reliability: Reliability | None = None


def _command(entry: CommandLike | str) -> str:
    return entry if isinstance(entry, str) else entry.command


def evaluate(
    train: Sequence[CommandLike | str],
    test: Sequence[CommandLike | str],
    strategies: Mapping[str, Strategy],
    online: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> EvaluationReport:
    """Replay ``test`` after ``train`` against every strategy; see the module for the metrics.

    With ``online``, each strategy records every test command once it has been measured, as a
    shell would after running it.
    """
    tallies = {name: _Tally() for name in strategies}
    counted = dict.fromkeys(PREFIX_LENGTHS, 0)
    typed = 0
    history = [_command(entry) for entry in train[-CONTEXT:]]
    for done, entry in enumerate(test, 1):
        command = _command(entry)
        prev = tuple(history[-CONTEXT:])
        typed += len(command)
        for n in PREFIX_LENGTHS:
            if len(command) > n:
                counted[n] += 1
        for name, strategy in strategies.items():
            _replay(strategy, command, prev, tallies[name])
        if online:
            for strategy in strategies.values():
                strategy.record(command, prev=prev)
        history.append(command)
        del history[:-CONTEXT]
        if progress is not None:
            progress(done, len(test))
    metrics = {name: _metrics(tally, counted, typed) for name, tally in tallies.items()}
    return EvaluationReport(len(train), len(test), online, metrics, counted, typed)


def _replay(strategy: Strategy, command: str, prev: tuple[str, ...], tally: _Tally) -> None:
    """Type ``command`` into ``strategy``, adding its hits and keystrokes to ``tally``."""
    keys = len(command)
    accepted = False
    start = time.perf_counter()
    for n in PREFIX_LENGTHS:
        if len(command) <= n:
            break
        suggestions = strategy.suggest(command[:n], TOP, prev)[:TOP]
        texts = [suggestion.text for suggestion in suggestions]
        tally.queries += 1
        _note_chances(strategy, suggestions, command, n, tally)
        if texts and texts[0] == command:
            tally.hits1[n] += 1
            if not accepted and (n or prev):
                keys, accepted = n + 1, True
        if command in texts:
            tally.hits5[n] += 1
            if n == MRR_PREFIX:
                tally.reciprocal += 1.0 / (texts.index(command) + 1)
    position = len(PREFIX_LENGTHS)
    while not accepted and position < len(command):
        top = strategy.suggest(command[:position], 1, prev)
        tally.queries += 1
        if top and top[0].text == command:
            keys, accepted = position + 1, True
        position += 1
    tally.keys += keys
    tally.seconds += time.perf_counter() - start


def _note_chances(
    strategy: Strategy, suggestions: Sequence[SuggestionLike], command: str, n: int, tally: _Tally
) -> None:
    """Add the suggestions' stated ``p`` (when the strategy states one) to the reliability
    table, and the empty line's guess to its shown and right counts."""
    chances = stated_chances(strategy, suggestions)
    if chances is None:
        return
    if tally.reliability is None:
        tally.reliability = Reliability()
    for suggestion, p in zip(suggestions, chances):
        tally.reliability.add(p, suggestion.text == command)
    shows = getattr(strategy, "shows", None)
    if n == 0 and callable(shows):
        right = bool(suggestions) and suggestions[0].text == command
        tally.reliability.add_empty_line(bool(shows(suggestions)), right)


def _metrics(tally: _Tally, counted: dict[int, int], typed: int) -> StrategyMetrics:
    def rate(hits: int, total: int) -> float:
        return hits / total if total else 0.0

    return StrategyMetrics(
        ksr=1.0 - rate(tally.keys, typed) if typed else 0.0,
        hit1={n: rate(tally.hits1[n], counted[n]) for n in PREFIX_LENGTHS},
        hit5={n: rate(tally.hits5[n], counted[n]) for n in PREFIX_LENGTHS},
        mrr=tally.reciprocal / counted[MRR_PREFIX] if counted[MRR_PREFIX] else 0.0,
        queries=tally.queries,
        seconds=tally.seconds,
        reliability=tally.reliability,
    )


def format_report(report: EvaluationReport) -> str:
    """A side-by-side table, one column per strategy, and what each figure means."""
    names = list(report.metrics)
    rows: list[tuple[str, list[str]]] = []

    def add(label: str, values: list[str]) -> None:
        rows.append((label, values))

    metrics = [report.metrics[name] for name in names]
    add("KSR (keystrokes saved)", [f"{m.ksr:.1%}" for m in metrics])
    for n in PREFIX_LENGTHS:
        chars = "char" if n == 1 else "chars"
        add(f"Hit@1 after {n} {chars}", [f"{m.hit1[n]:.1%}" for m in metrics])
        add(f"Hit@5 after {n} {chars}", [f"{m.hit5[n]:.1%}" for m in metrics])
    add(f"MRR@5 after {MRR_PREFIX} char", [f"{m.mrr:.3f}" for m in metrics])
    add("Time per query", [_per_query(m) for m in metrics])

    label_width = max(len(label) for label, _ in rows)
    widths = [max(len(name), *(len(values[i]) for _, values in rows))
              for i, name in enumerate(names)]
    if report.online:
        mode = "online: every strategy learns each command once it is replayed"
    else:
        mode = "offline: strategies know only the training part"
    lines = [
        f"Replayed {report.test_size:,} commands after {report.train_size:,} ({mode}).",
        "",
        " " * label_width + "  " + "  ".join(n.rjust(w) for n, w in zip(names, widths)),
    ]
    for label, values in rows:
        cells = "  ".join(value.rjust(width) for value, width in zip(values, widths))
        lines.append(f"{label.ljust(label_width)}  {cells}")
    lines += [
        "",
        "KSR: share of typed characters saved when the top suggestion is accepted with one key "
        "as soon as it is the whole command.",
        "Hit@k after n chars: the command is among the top k suggestions once its first n "
        "characters are typed (commands longer than n).",
        f"MRR@5: mean 1/rank of the command in the top five after {MRR_PREFIX} typed character.",
    ]
    for name, strategy_metrics in report.metrics.items():
        if strategy_metrics.reliability is not None:
            lines += ["", *format_reliability(name, strategy_metrics.reliability)]
    return "\n".join(lines)


def _per_query(metrics: StrategyMetrics) -> str:
    if not metrics.queries:
        return "-"
    return f"{1000 * metrics.seconds / metrics.queries:.3f} ms"

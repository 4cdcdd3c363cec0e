"""Replay held-out history as typed, and measure how much each suggestion strategy helps.

Each test command is typed character by character; every strategy is asked for suggestions
as the shells ask: with the commands run before it (the last two, most recent last) and the
folder it is typed in (when the history knows it). Online, each command is then recorded as
the shells record it: with its folder, its exit status and the commands before it.

A strategy may answer as the protocol does (an ``answer(prefix, k, prev, cwd)`` method giving
``{"suggestions": [{"text": ..., "p": ...}], "show": ...}``); otherwise its ``suggest`` is
asked, and an empty-line answer counts as shown unless its ``shows`` (``Predictor.shows``)
says no.

Metrics, per strategy:

- **KSR** (keystroke saving rate): at each point while typing (with nothing typed too, when
  there is a previous command) the user accepts the top suggestion with one key as soon as it
  is the whole command, else types it all. A partial ghost (``"partial": true``, the likely
  start of several lines) the command starts with is accepted with one key too, and the rest
  typed on from there (the next ghost comes once a character more is typed, as in the shells).
  ``KSR = 1 - keys used / characters``, Enter not counted. Positions 0-3 reuse the top of the
  ``k=5`` queries below; later ones ask ``k=1``.
- **Hit@1 / Hit@5 after n chars** (n = 0..3): the command is the top / among the top five
  suggestions once its first n characters are typed. Only commands longer than n count: a
  command already typed in full needs no suggestion. With nothing typed, a strategy that
  offers nothing misses.
- **MRR@5**: the mean of ``1 / rank`` of the command among the top five after its first
  character (0 when absent), over commands longer than one character.
- **Name@1**: the top suggestion on the empty line has the command's name (first word).
- **Shown** and **shown right**: the share of empty lines on which a suggestion is shown (an
  answer with suggestions and ``"show"`` not false), and the share of those whose top one is
  the command. A ghost that is not shown cannot be accepted: KSR counts that too.
- **Calibration**: every suggestion that carries ``p`` (the top five, 0 to 3 characters typed),
  with whether it was the command: the pairs a reliability table is made from. A partial
  ghost's ``p`` is the chance the command starts with it: its pairs are kept apart
  (``partials``), as is how many ghosts were partial and how many of those were taken.

The Hit@, MRR and Name@1 figures are over the whole lines of an answer (a partial is not one);
the empty line's shown and right count the ghost shown, partial (right when the command starts
with it) or whole.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, NamedTuple, Protocol, TypeVar

from aprender_shell.errors import UsageError
from aprender_shell.history.tokens import command_name

# The shells send the two commands before (shell/aprender.zsh keeps two in _aprender_prev).
CONTEXT = 2
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


class Answer(NamedTuple):
    """What the user is offered: whole-line suggestions best first, their ``p`` (None when a
    strategy gives none), whether an empty line shows the ghost, and the partial ghost shown
    before the whole lines (``model.query.partial``) with its ``p``, if there is one."""

    texts: list[str]
    chances: list[float | None]
    show: bool = True
    partial: str | None = None
    partial_p: float | None = None

    @property
    def ghost(self) -> str | None:
        """What the shells show: the partial ghost, else the first whole line."""
        if self.partial is not None:
            return self.partial
        return self.texts[0] if self.texts else None


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
    name1: float = 0.0
    shown: float = 0.0
    shown_right: float = 0.0
    # (p, was it the command) for every suggestion that carried a p: see reliability.py.
    calibration: list[tuple[float, bool]] = field(default_factory=list, repr=False)
    # (p, did the command start with it) for every partial ghost offered, 0 to 3 chars typed.
    partials: list[tuple[float, bool]] = field(default_factory=list, repr=False)
    # How many partial ghosts the keystroke replay met on the line, and took.
    partials_met: int = 0
    partials_taken: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["calibration"], data["partials"]
        data["calibrated"] = len(self.calibration)
        data["hit1"] = {str(n): rate for n, rate in self.hit1.items()}
        data["hit5"] = {str(n): rate for n, rate in self.hit5.items()}
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
    names: int = 0
    shown: int = 0
    shown_right: int = 0
    calibration: list[tuple[float, bool]] = field(default_factory=list)
    partials: list[tuple[float, bool]] = field(default_factory=list)
    partials_met: int = 0
    partials_taken: int = 0


def _command(entry: CommandLike | str) -> str:
    return entry if isinstance(entry, str) else entry.command


def _where(entry: CommandLike | str) -> tuple[str | None, int | None]:
    """The folder a command ran in and its exit status, when the history knows them: a
    ``HistoryEntry``'s context, or a generated command's ``cwd`` and ``exit_status``."""
    if isinstance(entry, str):
        return None, None
    context = getattr(entry, "context", None)
    if context is not None:
        return context.cwd, context.exit
    return getattr(entry, "cwd", None), getattr(entry, "exit_status", None)


def ask(
    strategy: Strategy, prefix: str, k: int, prev: Sequence[str], cwd: str | None
) -> Answer:
    """``strategy``'s answer to ``prefix``: through its protocol answer when it has one."""
    answer = getattr(strategy, "answer", None)
    if answer is None:
        found = list(strategy.suggest(prefix, k, prev, cwd))
        shows = getattr(strategy, "shows", None)
        show = True if prefix or shows is None else bool(shows(found))
        partial = found[0] if found and getattr(found[0], "partial", False) else None
        found = found[partial is not None:][:k]
        return Answer([s.text for s in found], [getattr(s, "p", None) for s in found], show,
                      partial.text if partial is not None else None,
                      getattr(partial, "p", None))
    reply = answer(prefix, k, prev, cwd)
    if "error" in reply:
        raise RuntimeError(f"the strategy answered an error: {reply['error']}")
    items = reply.get("suggestions", [])
    first = items[0] if items and items[0].get("partial") else None
    suggestions = items[first is not None:][:k]
    return Answer(
        [item["text"] for item in suggestions],
        [item.get("p") for item in suggestions],
        reply.get("show", True) is not False,
        first and first["text"],
        first and first.get("p"),
    )


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
        cwd, exit_status = _where(entry)
        prev = tuple(history[-CONTEXT:])
        typed += len(command)
        for n in PREFIX_LENGTHS:
            if len(command) > n:
                counted[n] += 1
        for name, strategy in strategies.items():
            _replay(strategy, command, prev, cwd, tallies[name])
        if online:
            for strategy in strategies.values():
                strategy.record(command, cwd=cwd, exit_status=exit_status, prev=prev)
        history.append(command)
        del history[:-CONTEXT]
        if progress is not None:
            progress(done, len(test))
    metrics = {name: _metrics(tally, counted, typed) for name, tally in tallies.items()}
    return EvaluationReport(len(train), len(test), online, metrics, counted, typed)


def _replay(
    strategy: Strategy, command: str, prev: tuple[str, ...], cwd: str | None, tally: _Tally
) -> None:
    """Type ``command`` into ``strategy``, adding its hits and keystrokes to ``tally``."""
    start = time.perf_counter()
    answers: dict[int, Answer] = {}
    for n in PREFIX_LENGTHS:
        if len(command) <= n:
            break
        answer = answers[n] = ask(strategy, command[:n], TOP, prev, cwd)
        texts = answer.texts
        tally.queries += 1
        shown = answer.ghost is not None and (n > 0 or answer.show)
        right = bool(texts) and texts[0] == command
        tally.calibration.extend(
            (p, text == command) for text, p in zip(texts, answer.chances) if p is not None
        )
        if answer.partial is not None and answer.partial_p is not None:
            tally.partials.append((answer.partial_p, command.startswith(answer.partial)))
        if n == 0:
            ghost = answer.ghost or ""
            tally.names += bool(texts) and command_name(texts[0]) == command_name(command)
            tally.shown += shown
            tally.shown_right += shown and (
                ghost == command if answer.partial is None else command.startswith(ghost))
        if right:
            tally.hits1[n] += 1
        if command in texts:
            tally.hits5[n] += 1
            if n == MRR_PREFIX:
                tally.reciprocal += 1.0 / (texts.index(command) + 1)
    tally.keys += _keys_used(strategy, command, prev, cwd, answers, tally)
    tally.seconds += time.perf_counter() - start


def _keys_used(
    strategy: Strategy,
    command: str,
    prev: tuple[str, ...],
    cwd: str | None,
    answers: Mapping[int, Answer],
    tally: _Tally,
) -> int:
    """The keys typing ``command`` takes when every ghost that fits is taken with one key: a
    whole line ends it, a partial one jumps to its end (module docstring, KSR)."""
    keys = position = 0
    asks = True  # after taking a partial ghost, the next one comes with the next key
    while position < len(command):
        answer = answers.get(position) if asks else None
        if answer is None and asks:
            answer = ask(strategy, command[:position], 1, prev, cwd)
            tally.queries += 1
        asks = True
        ghost = answer.ghost if answer is not None else None
        shown = answer is not None and (position > 0 or (answer.show and bool(prev)))
        if shown and ghost == command:
            return keys + 1
        if (shown and ghost is not None and answer is not None and answer.partial is not None
                and len(ghost) > position and command.startswith(ghost)):
            tally.partials_met += 1
            tally.partials_taken += 1
            keys, position, asks = keys + 1, len(ghost), False
            continue
        tally.partials_met += shown and answer is not None and answer.partial is not None
        keys, position = keys + 1, position + 1
    return keys


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
        name1=rate(tally.names, counted[0]),
        shown=rate(tally.shown, counted[0]),
        shown_right=rate(tally.shown_right, tally.shown),
        calibration=tally.calibration,
        partials=tally.partials,
        partials_met=tally.partials_met,
        partials_taken=tally.partials_taken,
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
    add("Name@1 after 0 chars", [f"{m.name1:.1%}" for m in metrics])
    add("Empty line: shown", [f"{m.shown:.1%}" for m in metrics])
    add("Empty line: shown, right", [f"{m.shown_right:.1%}" if m.shown else "-" for m in metrics])
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
        "Name@1: the top suggestion on an empty line has the command's name (its first word).",
        "Shown: empty lines with a suggestion shown; shown, right: of those, the top one was "
        "the command.",
    ]
    from aprender_shell.evaluate.reliability import format_reliability, reliability_table

    for name, strategy_metrics in report.metrics.items():
        if strategy_metrics.calibration:  # only strategies that state a p
            lines += ["", f"Reliability of {name}'s p (top five, 0 to 3 characters typed):"]
            lines.append(format_reliability(reliability_table(strategy_metrics.calibration)))
    return "\n".join(lines)


def _per_query(metrics: StrategyMetrics) -> str:
    if not metrics.queries:
        return "-"
    return f"{1000 * metrics.seconds / metrics.queries:.3f} ms"

"""Training: from a command history to a segmented model bundle.

The bundle holds these entries (see ``segments.py`` for their byte layout):

- ``index``: JSON the predictor keeps in memory: sizes, tuning constants, and for each table
  the first key and entry name of every segment (bounded by the number of segments, not by
  the vocabulary).
- ``cmd/NNNN/<family>``: whole commands sorted by text, with their statistics and their most
  frequent successors. Commands are grouped by family (first word); a family that does not
  fit one segment is split across several, and small families share one.
- ``hot/NNNN``: for every prefix whose matches span more than one command segment, the best
  matches, so such a prefix is answered from one segment.
- ``ngram/NNNN``: token n-gram continuations, for commands never seen whole.
- ``corpus/NNNN``: the (secret-free) command sequence itself, zlib-compressed, so ``update``
  can retrain after the history file was truncated or rotated. Never read by ``suggest``.
"""

from __future__ import annotations

import gc
import heapq
import math
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

from aprender_shell.errors import UsageError
from aprender_shell.history.formats import HistoryEntry
from aprender_shell.history.privacy import SECRET, default_gate
from aprender_shell.history.tokens import command_family
from aprender_shell.model import scoring
from aprender_shell.model.memory import MemoryLimit
from aprender_shell.model.query.runs import EXITS_ENTRY
from aprender_shell.model.store.index import (
    SOURCES,
    ModelIndex,
    TableSpec,
)
from aprender_shell.model.store.layout import (
    DEFAULT_NGRAM_ORDER,
    check_ngram_order,
)
from aprender_shell.model.store.runs import FOLDERS, HOSTS, RUNS
from aprender_shell.model.store.segments import (
    CommandPayloads,
    CommandStats,
)
from aprender_shell.model.training import argument_kinds
from aprender_shell.model.training.entries import Entries
from aprender_shell.model.training.fold import STREAMED, step
from aprender_shell.model.training.tables.ngrams import ngram_table
from aprender_shell.model.training.tables.packing import (
    add_corpus,
    hot_prefixes,
    pack_commands,
    pack_table,
)
from aprender_shell.model.training.tables.pairs import PAIRS_ENTRY, pair_table
from aprender_shell.model.training.tables.run_tables import failing_table, predecessors, run_records

MAX_SUCCESSOR_CHARS = 200
# exp(-x) is exactly 0.0 in double precision beyond this x.
_UNDERFLOW = 746.0
# clean_commands' verdicts on a command it does not keep.
_DROPPED, _SECRET = 0, 1

Progress = Callable[[str, int, int], None]


@dataclass
class TrainReport:
    """What a training run produced, for the CLI to report."""

    model_path: Path
    commands: int
    secrets_dropped: int
    unique_commands: int
    vocabulary: int
    ngram: int
    segments: int
    model_bytes: int
    memory_limit: MemoryLimit
    families: int


class _Counts(NamedTuple):
    count: int  # type: ignore[assignment]  # shadows tuple.count, which nothing calls
    last: int
    short: float
    long: float
    successors: list[tuple[str, int]]  # the best commands seen right after, with how often


def clean_commands(entries: Iterable[HistoryEntry]) -> tuple[list[HistoryEntry], int]:
    """The entries worth learning, and how many held secrets.

    Blanks, oversized commands and whatever the learning gate keeps out (secrets, a leading
    space, the user's ``history_filter``) are dropped.
    """
    secrets = [0]
    kept = list(_cleaning(entries, secrets))
    return kept, secrets[0]


def _cleaning(entries: Iterable[HistoryEntry], secrets: list[int]) -> Iterator[HistoryEntry]:
    """``clean_commands``' entries one at a time; adds the secrets it drops to ``secrets[0]``."""
    # Each distinct command is judged once: a history repeats most of its lines, and the
    # learning gate's secret rules are the costliest step of training.
    gate = default_gate()
    gate.check()  # the user's filter, read once for the whole history
    verdicts: dict[str, str | int] = {}

    def judge(raw: str) -> str | int:
        verdict = verdicts.get(raw)
        if verdict is None:
            command = raw.strip("\n")
            if not command.strip() or len(command) > scoring.MAX_COMMAND_CHARS:
                verdict = _DROPPED
            elif (reason := gate.reason(command, reread=False)) is None:
                verdict = command
            else:
                verdict = _SECRET if reason == SECRET else _DROPPED
            verdicts[raw] = verdict
        return verdict

    for entry in entries:
        raw = entry.command
        verdict = judge(raw)
        if isinstance(verdict, str):
            context = entry.context
            if context is not None and context.prev:
                # What ran before it is judged as a command: a secret or a command the
                # filter keeps out is no predecessor either.
                before = judge(context.prev)
                if before != context.prev:
                    context = replace(context, prev=before if isinstance(before, str) else "")
            if verdict != raw or context is not entry.context:
                entry = HistoryEntry(verdict, entry.timestamp, context)
            yield entry
        elif verdict == _SECRET:
            secrets[0] += 1


def train_model(
    entries: Iterable[HistoryEntry],
    model_path: Path,
    ngram: int = DEFAULT_NGRAM_ORDER,
    memory_limit: MemoryLimit | None = None,
    history_marks: Sequence[dict[str, Any]] = (),
    progress: Progress | None = None,
    source: str = "history",
    generation: str | None = None,
) -> TrainReport:
    """Train on ``entries`` (oldest first) and write the bundle at ``model_path`` atomically.

    ``source`` is recorded in the index: "history" for the user's own, "sample" for the
    packaged sample history (such a model gives way to the user's commands as they come).
    ``generation`` keeps the journal of the model being replaced valid (``forget``); a new
    one is drawn otherwise.
    """
    with _without_cycle_collection():
        return _train(
            entries, model_path, ngram, memory_limit, history_marks, progress, source, generation
        )


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Training allocates millions of small tuples, lists and dicts and makes no reference
    cycles: the cycle collector would only walk them over and over (about 8% of the time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _train(
    entries: Iterable[HistoryEntry],
    model_path: Path,
    ngram: int,
    memory_limit: MemoryLimit | None,
    history_marks: Sequence[dict[str, Any]],
    progress: Progress | None,
    source: str,
    generation: str | None,
) -> TrainReport:
    from aprender_shell.bundle import BundleBuilder, BundleConfig
    from aprender_shell.model.store.tables import check_manifest_fits

    check_ngram_order(ngram)
    if source not in SOURCES:
        raise UsageError(f"a model's source is one of {', '.join(SOURCES)}, not {source!r}")
    limit = MemoryLimit.choose(memory_limit)
    segment_bytes = limit.segment_bytes
    report_progress = progress or (lambda stage, done, total: None)

    # Held as columns (entries.py): a fold's corpus as objects would be most of its memory.
    dropped = [0]
    if isinstance(entries, Entries) and entries.consumable:
        stored = entries  # cleaned where it lies: a second copy of a fold's corpus is not made
        stored.overwrite(_cleaning(entries, dropped))
    else:
        stored = Entries(_cleaning(entries, dropped), like=entries)
    secrets = dropped[0]
    # What an agent ran (a fold's records, "agent") stays in the corpus and out of every table
    # that suggests: --agents replays it from the corpus (records.agent_runs).
    kept = stored.without_agents()
    commands = kept.commands
    clock = len(commands)
    # The transient structures come one after another, smallest baseline first: tuning and
    # the n-gram tables need only the commands and their counts, not the full statistics.
    novelty = _novelty(commands)
    tuning = _tuned_weights(commands, novelty)
    # Counted before the tables that stay until the bundle is written: the memory its count
    # takes for a moment is then reused by them, not added on top of them.
    pairs = pair_table(commands, segment_bytes // 4)
    uses = Counter(commands)
    learned_from = commands[-argument_kinds.LEARNED_FROM :]
    recent = uses if len(learned_from) == clock else Counter(learned_from)
    kinds = argument_kinds.learn(recent.items())
    del recent, learned_from
    stats = _count_commands(commands, uses, report_progress, predecessors(kept))

    def static(counts: _Counts) -> float:
        # exactly the score a query gives without context, so ranked lists agree with it
        return scoring.rank_score(counts.short, counts.long, clock - 1 - counts.last, clock)

    # Each segment goes to the file as it is cut (a streaming builder): the new model's
    # segments are never held together. The entries keep the order the bundle lists them in.
    builder = BundleBuilder(model_path).with_config(BundleConfig()).streaming()
    tables: dict[str, TableSpec] = {}

    def write(table: str, segments: Iterable[tuple[str, bytes]]) -> None:
        starts: list[str] = []
        names: list[str] = []
        for number, (first_key, data) in enumerate(segments):
            suffix = f"/{command_family(first_key)[:32]}" if table == "cmd" and first_key else ""
            name = f"{table}/{number:04d}{suffix}"
            builder.add_model(name, data)
            if not tables and not names:
                step(STREAMED)
            starts.append(first_key)
            names.append(name)
        tables[table] = TableSpec(starts, names)

    try:
        frozen = {text: _freeze(counts) for text, counts in stats.items()}
        ordered = sorted(stats)
        report_progress("segments", 0, len(ordered))
        ranks = {text: static(stats[text]) for text in ordered}
        family_of = {text: command_family(text) for text in ordered}
        write("cmd", pack_commands(_command_records(ordered, stats, frozen), ranks,
                                   segment_bytes, family_of))
        hot_records = hot_prefixes(ordered, tables["cmd"].starts, ranks, frozen)
        write("hot", pack_table(hot_records, segment_bytes))
        del hot_records
        # What the index needs of the statistics; the rest goes before the n-grams are counted.
        families = len(set(family_of.values()))
        unique = len(ordered)
        top_commands = [(text, stats[text].count) for text in _most_used(stats, 10)]
        del frozen, ranks, family_of, ordered, stats

        report_progress("n-grams", 0, len(uses))
        # Counted within a quarter of the limit: past it, the counts go to sorted runs on disk.
        ngram_records, vocabulary = ngram_table(uses, ngram, limit.size // 4, model_path)
        del uses
        write("ngram", pack_table(ngram_records, segment_bytes))
        del ngram_records
        # Where, in which shell and how well commands ran, from the entries with a context:
        # only a model that learned from the shells' records has these tables.
        for table, records in zip((FOLDERS, RUNS, HOSTS), run_records(kept)):
            if records:
                write(table, pack_table(records, segment_bytes))
        corpus = add_corpus(builder, stored, segment_bytes)
        if pairs is not None:
            builder.add_model(PAIRS_ENTRY, pairs)
        failing = failing_table(kept, segment_bytes // 4)
        if failing is not None:
            builder.add_model(EXITS_ENTRY, failing)

        index = ModelIndex(
            generation=generation or uuid.uuid4().hex,
            trained_at=int(time.time()),
            ngram=ngram,
            total_commands=clock,
            unique_commands=unique,
            vocabulary=vocabulary,
            families=families,
            secrets_dropped=secrets,
            novelty=novelty,
            memory_limit=limit.size,
            segment_bytes=segment_bytes,
            tau_short=scoring.TAU_SHORT,
            tau_long=scoring.TAU_LONG,
            tables=tables,
            corpus=corpus,
            top_commands=top_commands,
            recent=_recent(commands),
            history=list(history_marks),
            source=source,
            tuning=tuning,
            arguments=kinds,
        )
        builder.add_model("index", index.to_json())
        check_manifest_fits(builder.model_names(), limit)
        report_progress("writing", 0, 1)
        builder.build()
    finally:
        builder.close()
    segment_count = sum(len(spec.names) for spec in tables.values())
    return TrainReport(
        model_path=Path(model_path),
        commands=clock,
        secrets_dropped=secrets,
        unique_commands=unique,
        vocabulary=vocabulary,
        ngram=ngram,
        segments=segment_count,
        model_bytes=Path(model_path).stat().st_size,
        memory_limit=limit,
        families=families,
    )


def _tuned_weights(commands: Sequence[str], novelty: float) -> dict[str, float] | None:
    """The score's weights chosen on this history's end (too short a history keeps the
    defaults), its repeat rate, and what their scores mean on it (``calibrating``); None when
    the history is too short for any of them."""
    from aprender_shell.model.training.calibrating import calibrate, repeat_rate
    from aprender_shell.model.training.tuning import tune

    weights = tune(commands, novelty=novelty)
    rate = repeat_rate(commands)
    if weights is None and rate is None:
        return None
    chosen = (weights or scoring.DEFAULT_WEIGHTS).replace(
        repeat_rate=rate if rate is not None else scoring.DEFAULT_WEIGHTS.repeat_rate
    )
    stored = chosen.to_dict() if weights is not None else {"repeat_rate": chosen.repeat_rate}
    stored.update(calibrate(commands, chosen).to_tuning())
    return stored


def _count_commands(
    commands: Sequence[str],
    uses: Counter[str],
    progress: Progress,
    previous: Sequence[str | None] | None = None,
) -> dict[str, _Counts]:
    """Each distinct command's counts (``uses`` is ``Counter(commands)``), in the order of
    first use; ``previous``: what ran before each in its shell (None: the command before it
    in ``commands``, as in a history file)."""
    progress("counting", 0, len(commands))
    last = {command: position for position, command in enumerate(commands)}
    newest = len(commands) - 1
    exp = math.exp  # scoring.decay, spelled out: it runs twice per command
    weights = []
    for tau in (scoring.TAU_SHORT, scoring.TAU_LONG):
        # Summed in position order, as the weights accrue: the order fixes the rounding.
        sums = dict.fromkeys(uses, 0.0)
        # Older uses decay to exactly 0.0 (exp underflows), which adds nothing: skipped.
        first = max(0, newest - int(_UNDERFLOW * tau))
        for position in range(first, newest + 1):
            sums[commands[position]] += exp(-(newest - position) / tau)
        weights.append(sums)
    short, long_ = weights
    # Pairs are counted as one integer each (the two commands' numbers), not as tuples of
    # strings: a history holds hundreds of thousands of distinct pairs.
    number = {command: position for position, command in enumerate(uses)}
    texts = list(uses)
    width = len(texts)
    if previous is None:
        pairs = Counter(
            number[before] * width + number[command]
            for before, command in zip(commands, islice(commands, 1, None))
        )
    else:
        pairs = Counter(
            number[before] * width + number[command]
            for before, command in zip(previous, commands)
            if before in number
        )
    successors: dict[str, list[tuple[str, int]]] = {}
    for pair, transitions in pairs.items():
        previous, command = texts[pair // width], texts[pair % width]
        following = successors.get(previous)
        if following is None:
            successors[previous] = [(command, transitions)]
        else:
            following.append((command, transitions))
    del pairs
    # Only the successors a record keeps are kept: a common command follows thousands.
    for previous, following in successors.items():
        successors[previous] = _successors(following, last)
    progress("counting", len(commands), len(commands))
    return {
        text: _Counts(count, last[text], short[text], long_[text], successors.get(text, []))
        for text, count in uses.items()
    }


def _freeze(counts: _Counts) -> CommandStats:
    return CommandStats(counts.count, counts.last, counts.short, counts.long)


def _command_records(
    ordered: list[str], stats: dict[str, _Counts], frozen: dict[str, CommandStats]
) -> Iterator[tuple[str, bytes]]:
    """Each command's record, in ``ordered`` order: its statistics and best successors."""
    payloads = CommandPayloads(frozen)
    for text in ordered:
        yield text, payloads.encode(text, stats[text].successors)


def _successors(
    following: list[tuple[str, int]], last: dict[str, int]
) -> list[tuple[str, int]]:
    """The successors a record keeps: most frequent first; among equals the most recent."""
    eligible = [(text, n) for text, n in following if len(text) <= MAX_SUCCESSOR_CHARS]
    if len(eligible) < 2:
        return eligible
    # The keys are distinct (no two commands share a last position), so order is total.
    return heapq.nlargest(
        scoring.SUCCESSORS_KEPT, eligible, key=lambda item: (item[1], last[item[0]])
    )


def _novelty(commands: Sequence[str]) -> float:
    """Share of the later half of the history that was new at the time it was typed."""
    if len(commands) < 4:
        return 0.2
    seen = set(commands[: len(commands) // 2])
    later = commands[len(commands) // 2 :]
    new = 0
    for command in later:
        if command not in seen:
            new += 1
            seen.add(command)
    return min(0.5, max(0.02, new / len(later)))


def _recent(commands: Sequence[str]) -> list[str]:
    """The last commands of the history, oldest first (long ones skipped, to bound the index)."""
    tail = commands[-scoring.RECENT_COMMANDS :]
    return [text for text in tail if len(text) <= scoring.RECENT_COMMAND_CHARS]


def _most_used(stats: dict[str, _Counts], limit: int) -> list[str]:
    return heapq.nlargest(limit, stats, key=lambda text: (stats[text].count, stats[text].last))



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

import bisect
import heapq
import math
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aprender_shell.errors import UsageError
from aprender_shell.history.formats import HistoryEntry
from aprender_shell.history.privacy import SECRET, default_gate
from aprender_shell.history.tokens import command_family, tokenize
from aprender_shell.model import scoring
from aprender_shell.model.corpus import encode_chunk
from aprender_shell.model.index import (
    SOURCES,
    CorpusChunk,
    ModelIndex,
    TableSpec,
    corpus_chunk_limit,
)
from aprender_shell.model.layout import (
    DEFAULT_MEMORY_LIMIT,
    END,
    NGRAM_MAX_ORDER,
    NGRAM_MIN_ORDER,
    SEP,
    START,
    check_memory_limit,
    segment_budget,
)
from aprender_shell.model.segments import (
    CommandStats,
    Successor,
    encode_candidates_payload,
    encode_command_payload,
    encode_ngram_payload,
    encode_segment,
    record_size,
)

MAX_SUCCESSOR_CHARS = 200

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
    memory_limit: int
    families: int


@dataclass
class _Counts:
    count: int = 0
    last: int = 0
    short: float = 0.0
    long: float = 0.0
    successors: Counter[str] = field(default_factory=Counter)


def clean_commands(entries: Iterable[HistoryEntry]) -> tuple[list[HistoryEntry], int]:
    """The entries worth learning, and how many held secrets.

    Blanks, oversized commands and whatever the learning gate keeps out (secrets, a leading
    space, the user's ``history_filter``) are dropped.
    """
    kept: list[HistoryEntry] = []
    secrets = 0
    gate = default_gate()
    for entry in entries:
        command = entry.command.strip("\n")
        if not command.strip() or len(command) > scoring.MAX_COMMAND_CHARS:
            continue
        reason = gate.reason(command)
        if reason is not None:
            secrets += reason == SECRET
            continue
        kept.append(entry if command == entry.command else HistoryEntry(command, entry.timestamp))
    return kept, secrets


def train_model(
    entries: Sequence[HistoryEntry],
    model_path: Path,
    ngram: int = 3,
    memory_limit: int | None = None,
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
    from aprender_shell.bundle import BundleBuilder, BundleConfig

    if not NGRAM_MIN_ORDER + 1 <= ngram <= NGRAM_MAX_ORDER:
        raise UsageError(f"n-gram size must be between 2 and {NGRAM_MAX_ORDER}, not {ngram}")
    if source not in SOURCES:
        raise UsageError(f"a model's source is one of {', '.join(SOURCES)}, not {source!r}")
    limit = check_memory_limit(memory_limit or DEFAULT_MEMORY_LIMIT)
    budget = segment_budget(limit)
    report_progress = progress or (lambda stage, done, total: None)

    kept, secrets = clean_commands(entries)
    commands = [entry.command for entry in kept]
    stats = _count_commands(commands, report_progress)
    clock = len(commands)
    w_short = scoring.total_weight(clock, scoring.TAU_SHORT)
    w_long = scoring.total_weight(clock, scoring.TAU_LONG)
    w_recent = scoring.total_weight(clock, scoring.TAU_RECENT)

    def static(counts: _Counts) -> float:
        # exactly the score a query gives without context, so ranked lists agree with it
        value = scoring.static_score(counts.short, counts.long, w_short, w_long)
        return scoring.with_recency(value, clock - 1 - counts.last, w_recent)

    frozen = {text: _freeze(counts) for text, counts in stats.items()}
    ordered = sorted(stats)
    report_progress("segments", 0, len(ordered))
    command_records = [
        (text, encode_command_payload(frozen[text], _successors(stats[text], frozen)))
        for text in ordered
    ]
    ranks = {text: static(stats[text]) for text in ordered}
    cmd_segments = _pack_commands(command_records, ranks, budget)

    hot_records = _hot_prefixes(ordered, cmd_segments, ranks, frozen)
    hot_segments = _pack_table(hot_records, budget)
    report_progress("n-grams", 0, len(ordered))
    ngram_records, vocabulary = _ngram_table(stats, ngram)
    ngram_segments = _pack_table(ngram_records, budget)

    builder = BundleBuilder(model_path).with_config(BundleConfig())
    tables: dict[str, TableSpec] = {}
    for table, segments in (
        ("cmd", cmd_segments),
        ("hot", hot_segments),
        ("ngram", ngram_segments),
    ):
        starts, names = [], []
        for number, (first_key, data) in enumerate(segments):
            suffix = f"/{command_family(first_key)[:32]}" if table == "cmd" and first_key else ""
            name = f"{table}/{number:04d}{suffix}"
            builder.add_model(name, data)
            starts.append(first_key)
            names.append(name)
        tables[table] = TableSpec(starts, names)
    corpus = _add_corpus(builder, kept, budget)

    families = len({command_family(text) for text in ordered})
    index = ModelIndex(
        generation=generation or uuid.uuid4().hex,
        trained_at=int(time.time()),
        ngram=ngram,
        total_commands=clock,
        unique_commands=len(ordered),
        vocabulary=vocabulary,
        families=families,
        secrets_dropped=secrets,
        novelty=_novelty(commands),
        memory_limit=limit,
        segment_budget=budget,
        tau_short=scoring.TAU_SHORT,
        tau_long=scoring.TAU_LONG,
        tables=tables,
        corpus=corpus,
        top_commands=[(text, stats[text].count) for text in _most_used(stats, 10)],
        recent=_recent(commands),
        history=list(history_marks),
        source=source,
    )
    builder.add_model("index", index.to_json())
    report_progress("writing", 0, 1)
    builder.build()
    segment_count = len(cmd_segments) + len(hot_segments) + len(ngram_segments)
    return TrainReport(
        model_path=Path(model_path),
        commands=clock,
        secrets_dropped=secrets,
        unique_commands=len(ordered),
        vocabulary=vocabulary,
        ngram=ngram,
        segments=segment_count,
        model_bytes=Path(model_path).stat().st_size,
        memory_limit=limit,
        families=families,
    )


def _count_commands(commands: Sequence[str], progress: Progress) -> dict[str, _Counts]:
    stats: dict[str, _Counts] = {}
    last = len(commands) - 1
    previous: str | None = None
    step = max(1, len(commands) // 100)
    for position, command in enumerate(commands):
        counts = stats.get(command)
        if counts is None:
            counts = stats[command] = _Counts()
        age = last - position
        counts.count += 1
        counts.last = position
        counts.short += math.exp(-age / scoring.TAU_SHORT)
        counts.long += math.exp(-age / scoring.TAU_LONG)
        if previous is not None:
            stats[previous].successors[command] += 1
        previous = command
        if position % step == 0:
            progress("counting", position, len(commands))
    return stats


def _freeze(counts: _Counts) -> CommandStats:
    return CommandStats(counts.count, counts.last, counts.short, counts.long)


def _successors(counts: _Counts, frozen: dict[str, CommandStats]) -> list[Successor]:
    eligible = (
        (text, n) for text, n in counts.successors.items() if len(text) <= MAX_SUCCESSOR_CHARS
    )
    # Most frequent first; among equals the most recently used.
    best = heapq.nlargest(
        scoring.SUCCESSORS_KEPT, eligible, key=lambda item: (item[1], frozen[item[0]].last_position)
    )
    return [Successor(text, n, frozen[text]) for text, n in best]


def _pack_commands(
    records: list[tuple[str, bytes]], ranks: dict[str, float], budget: int
) -> list[tuple[str, bytes]]:
    """Group sorted command records into segments, cutting at family boundaries when possible."""
    segments: list[tuple[str, bytes]] = []
    current: list[tuple[str, bytes]] = []
    size = 0
    family = None

    def flush() -> None:
        nonlocal current, size
        if current:
            ranked = sorted(range(len(current)), key=lambda i: -ranks[current[i][0]])
            segments.append((current[0][0], encode_segment(current, ranked)))
        current, size = [], 0

    for key, payload in records:
        this_family = command_family(key)
        cost = record_size(key, payload) + 4
        new_family = this_family != family
        if current and (size + cost > budget or (new_family and size >= budget // 4)):
            flush()
        current.append((key, payload))
        size += cost
        family = this_family
    flush()
    if not segments:
        segments.append(("", encode_segment([], [])))
    return segments


def _pack_table(records: list[tuple[str, bytes]], budget: int) -> list[tuple[str, bytes]]:
    segments: list[tuple[str, bytes]] = []
    current: list[tuple[str, bytes]] = []
    size = 0
    for key, payload in records:
        cost = record_size(key, payload)
        if current and size + cost > budget:
            segments.append((current[0][0], encode_segment(current)))
            current, size = [], 0
        current.append((key, payload))
        size += cost
    if current:
        segments.append((current[0][0], encode_segment(current)))
    return segments


def _common_prefix(a: str, b: str) -> str:
    length = 0
    for x, y in zip(a, b):
        if x != y:
            break
        length += 1
    return a[:length]


def _hot_prefixes(
    ordered: list[str],
    segments: list[tuple[str, bytes]],
    ranks: dict[str, float],
    frozen: dict[str, CommandStats],
) -> list[tuple[str, bytes]]:
    """Best matches for each prefix whose matches span several command segments.

    A prefix spans segments ``i`` and ``i + 1`` exactly when it is a prefix of both the last
    key of ``i`` and the first key of ``i + 1``; every such prefix is listed.
    """
    if len(segments) < 2:
        return []
    prefixes: set[str] = set()
    for number in range(1, len(segments)):
        first = segments[number][0]
        last = ordered[bisect.bisect_left(ordered, first) - 1]
        common = _common_prefix(last, first)
        prefixes.update(common[:length] for length in range(len(common) + 1))
    by_rank = sorted(ordered, key=lambda text: -ranks[text])
    records = []
    for prefix in sorted(prefixes):
        lo = bisect.bisect_left(ordered, prefix)
        hi = lo
        # Widen by galloping, then binary search, to find the end of the prefix's range.
        step = 1
        while hi + step <= len(ordered) and ordered[hi + step - 1].startswith(prefix):
            hi += step
            step *= 2
        while hi < len(ordered) and ordered[hi].startswith(prefix):
            hi += 1
        wanted = scoring.RETRIEVED_CANDIDATES
        if hi - lo > 4096:
            best = _first_matching(by_rank, prefix, wanted)
        else:
            best = heapq.nlargest(wanted, ordered[lo:hi], key=ranks.__getitem__)
        records.append((prefix, encode_candidates_payload([(t, frozen[t]) for t in best])))
    return records


def _first_matching(by_rank: list[str], prefix: str, limit: int) -> list[str]:
    found = []
    for text in by_rank:
        if text.startswith(prefix):
            found.append(text)
            if len(found) == limit:
                break
    return found


def _ngram_table(stats: dict[str, _Counts], order: int) -> tuple[list[tuple[str, bytes]], int]:
    """Continuation counts for every context of 1 to ``order - 1`` tokens."""
    continuations: dict[str, Counter[str]] = defaultdict(Counter)
    vocabulary: set[str] = set()
    padding = [START] * (order - 1)
    for text, counts in stats.items():
        tokens = tokenize(text)
        vocabulary.update(tokens)
        padded = padding + tokens + [END]
        weight = counts.count
        for position in range(order - 1, len(padded)):
            following = padded[position]
            for width in range(1, order):
                context = SEP.join(padded[position - width : position])
                continuations[context][following] += weight
    records = []
    for context in sorted(continuations):
        counter = continuations[context]
        total = sum(counter.values())
        if total < 2 and context.count(SEP) >= 1:
            continue  # one-off long contexts are noise; shorter contexts back them off
        best = counter.most_common(scoring.NGRAM_CONTINUATIONS)
        if len(context.encode("utf-8", "surrogatepass")) > 0xFFFF:
            continue
        records.append((context, encode_ngram_payload(total, best)))
    return records, len(vocabulary)


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


def _add_corpus(
    builder: Any, entries: Sequence[HistoryEntry], budget: int
) -> list[CorpusChunk]:
    """Store the command sequence in compressed chunks that each fit a segment budget."""
    chunks: list[CorpusChunk] = []
    limit = corpus_chunk_limit(budget)

    def store(part: Sequence[HistoryEntry]) -> None:
        data, raw_size = encode_chunk(part)
        if (len(data) > budget or raw_size > limit) and len(part) > 1:
            store(part[: len(part) // 2])
            store(part[len(part) // 2 :])
            return
        name = f"corpus/{len(chunks):04d}"
        builder.add_model(name, data)
        chunks.append(CorpusChunk(name, raw_size))

    chunk: list[HistoryEntry] = []
    size = 0
    for entry in entries:
        chunk.append(entry)
        size += len(entry.command) + 16
        if size >= 4 * budget:
            store(chunk)
            chunk, size = [], 0
    if chunk or not chunks:
        store(chunk)
    return chunks

"""The n-gram table: continuation counts for every context of 1 to ``order - 1`` tokens, counted
within a memory budget.

Counts go into an in-memory table; when it holds more continuations than the budget allows,
the table is written out as a sorted run (a private file beside the model, named with the
writer's pid so that the next writer removes it if this one is killed) and counting starts
afresh. The runs are then merged in key order into the same records an unbounded count gives:
a context's continuations are read run after run, each in the order it was counted there, so
ties among equal counts still break in first-counted order, as ``Counter.most_common`` does.
"""

from __future__ import annotations

import contextlib
import heapq
import marshal
import os
from collections.abc import Iterable, Iterator, Mapping
from itertools import groupby
from operator import itemgetter
from pathlib import Path

from aprender_shell.fileio import full_disk, temp_path
from aprender_shell.history.tokens import tokenize
from aprender_shell.model import scoring
from aprender_shell.model.store.layout import END, SEP, START
from aprender_shell.model.store.segments import encode_ngram_payload
from aprender_shell.model.training.fold import SPILLED, step

# What one continuation costs in the table: its share of the context's dict, the key string
# and the count (measured with tracemalloc over a 100,000-command history: 140 to 170 bytes).
CONTINUATION_BYTES = 160

Records = Iterator[tuple[str, bytes]]
# A context as a run stores it: the context, its continuations and their counts, in the order
# they were first counted in the run.
_Row = tuple[str, tuple[str, ...], tuple[int, ...]]


def ngram_table(
    uses: Mapping[str, int], order: int, budget: int, beside: Path
) -> tuple[Records, int]:
    """The sorted n-gram records of ``uses`` (each distinct command's count, in the order of
    first use) and the vocabulary's size, counting at most ``budget`` bytes of continuations
    in memory at once (runs beyond it go to temporary files beside the file ``beside``,
    removed once the records have been read)."""
    continuations: dict[str, dict[str, int]] = {}
    held = 0
    limit = max(1, budget // CONTINUATION_BYTES)
    runs: list[Path] = []
    vocabulary: set[str] = set()
    padding = [START] * (order - 1)
    try:
        for text, weight in uses.items():
            tokens = tokenize(text)
            vocabulary.update(tokens)
            padded = padding + tokens
            padded.append(END)
            for position in range(order - 1, len(padded)):
                following = padded[position]
                context = padded[position - 1]
                width = 1
                while True:  # contexts of 1 to order - 1 tokens, shortest first
                    table = continuations.get(context)
                    if table is None:
                        continuations[context] = {following: weight}
                        held += 1
                    elif following in table:
                        table[following] += weight
                    else:
                        table[following] = weight
                        held += 1
                    width += 1
                    if width == order:
                        break
                    context = padded[position - width] + SEP + context
            if held > limit:
                runs.append(_write_run(continuations, len(runs), beside))
                continuations, held = {}, 0
                if len(runs) == 1:
                    step(SPILLED)
        if not runs:
            return _records(_in_memory(continuations)), len(vocabulary)
        runs.append(_write_run(continuations, len(runs), beside))
        del continuations
    except BaseException:
        _remove(runs)
        raise
    return _merged(runs), len(vocabulary)


def _in_memory(
    continuations: dict[str, dict[str, int]],
) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    for context in sorted(continuations):
        yield context, list(continuations[context].items())


def _write_run(continuations: dict[str, dict[str, int]], number: int, beside: Path) -> Path:
    path = temp_path(beside, f"ngrams{number}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
    fd = os.open(path, flags, 0o600)
    try:
        with open(fd, "wb") as handle:
            for context in sorted(continuations):
                table = continuations[context]
                # marshal: plain strings and integers, a tenth of JSON's cost to write and read.
                marshal.dump((context, tuple(table), tuple(table.values())), handle)
    except OSError as error:  # a full disk reads as atomic_writer's does: one line
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        raise full_disk(error, beside) from None
    return path


def _read_run(path: Path) -> Iterator[_Row]:
    with open(path, "rb") as handle:
        while True:
            try:
                yield marshal.load(handle)
            except EOFError:
                return


def _merged(runs: list[Path]) -> Records:
    """The records of the runs merged in context order (a context's rows come in run order,
    as ``heapq.merge`` keeps equal keys in the order of its inputs)."""
    try:
        rows = heapq.merge(*(_read_run(path) for path in runs), key=itemgetter(0))
        grouped = (
            (context, _first_counted(group)) for context, group in groupby(rows, itemgetter(0))
        )
        yield from _records(grouped)
    finally:
        _remove(runs)


def _first_counted(rows: Iterable[_Row]) -> list[tuple[str, int]]:
    """One context's continuations from every run, oldest run first: counts summed, in the
    order each was first counted."""
    counts: dict[str, int] = {}
    for _, followings, weights in rows:
        for following, weight in zip(followings, weights):
            counts[following] = counts.get(following, 0) + weight
    return list(counts.items())


def _records(contexts: Iterable[tuple[str, list[tuple[str, int]]]]) -> Records:
    wanted = scoring.NGRAM_CONTINUATIONS
    for context, table in contexts:
        total = sum(count for _, count in table)
        if total < 2 and SEP in context:
            continue  # one-off long contexts are noise; shorter contexts back them off
        # A UTF-8 character takes at most 4 bytes: only long contexts need measuring.
        if len(context) > 0xFFFF // 4 and len(context.encode("utf-8", "surrogatepass")) > 0xFFFF:
            continue
        # What Counter.most_common(wanted) gives, ties in first-counted order.
        best = table if len(table) == 1 else heapq.nlargest(wanted, table, key=itemgetter(1))
        yield context, encode_ngram_payload(total, best)


def _remove(runs: list[Path]) -> None:
    for path in runs:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

"""The stored corpus: the cleaned command sequence, in zlib chunks the index lists with sizes.

Reading a chunk never inflates more than the index declares for it, so a chunk crafted to
inflate to gigabytes (a zlib bomb) costs at most its declared size before it is refused.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aprender_shell.errors import BundleError
from aprender_shell.history.formats import HistoryEntry
from aprender_shell.model.store.index import CorpusChunk, ModelIndex

if TYPE_CHECKING:
    from pathlib import Path

    from aprender_shell.bundle import PagedBundle

# Level 3 compresses the corpus about 20% less than 6 in under half the time; only
# `update` reads it back.
ZLIB_LEVEL = 3


def encode_chunk(entries: Sequence[HistoryEntry]) -> tuple[bytes, int]:
    """The zlib bytes storing ``entries`` and the size they inflate to."""
    rows = [[entry.command, entry.timestamp] for entry in entries]
    raw = json.dumps(rows, separators=(",", ":")).encode("utf-8", "surrogatepass")
    return zlib.compress(raw, ZLIB_LEVEL), len(raw)


def decode_chunk(data: bytes, chunk: CorpusChunk, source: str = "the model") -> list[HistoryEntry]:
    """The history entries stored in ``data``, the bytes of the entry ``chunk`` describes.

    Raises ``BundleError`` (one line) when they are not zlib, inflate to another size than
    declared, or do not hold a list of ``[command, timestamp]`` rows.
    """
    rows = _rows(data, chunk, source)
    entries = []
    for row in rows:
        if not _is_row(row):
            raise _damaged(chunk, source, _NOT_A_ROW)
        entries.append(HistoryEntry(row[0], row[1]))
    return entries


def decode_commands(data: bytes, chunk: CorpusChunk, source: str = "the model") -> list[str]:
    """The commands alone of ``decode_chunk``, checked alike, at a fraction of its cost (for
    reading a whole corpus while someone waits: Ctrl-R)."""
    rows = _rows(data, chunk, source)
    # The test of _is_row inline: a call per row would cost as much as the rest together.
    commands = [
        row[0]
        for row in rows
        if type(row) is list
        and len(row) == 2
        and type(row[0]) is str
        and (row[1] is None or type(row[1]) is int)
    ]
    if len(commands) != len(rows):
        raise _damaged(chunk, source, _NOT_A_ROW)
    return commands


_NOT_A_ROW = "it holds a row that is not [command, timestamp]"


def _is_row(row: Any) -> bool:
    return (
        type(row) is list
        and len(row) == 2
        and type(row[0]) is str
        and (row[1] is None or type(row[1]) is int)
    )


def _rows(data: bytes, chunk: CorpusChunk, source: str) -> list[Any]:
    inflater = zlib.decompressobj()
    try:
        # One byte beyond the declared size is enough to know the chunk lies about it.
        raw = inflater.decompress(data, chunk.raw_size + 1)
    except zlib.error as error:
        raise _damaged(chunk, source, f"not zlib data: {error}") from None
    too_big = len(raw) > chunk.raw_size
    if too_big or (chunk.exact and len(raw) != chunk.raw_size):
        raise _damaged(chunk, source, f"it does not inflate to the {chunk.raw_size} bytes declared")
    if not inflater.eof or inflater.unused_data:
        raise _damaged(chunk, source, "its zlib stream is incomplete or followed by other bytes")
    try:
        rows = json.loads(raw.decode("utf-8", "surrogatepass"))
    except (ValueError, RecursionError):
        raise _damaged(chunk, source, "its contents are not a JSON list") from None
    if not isinstance(rows, list):
        raise _damaged(chunk, source, "its contents are not a JSON list")
    return rows


def _damaged(chunk: CorpusChunk, source: str, why: str) -> BundleError:
    return BundleError(
        f"{source} has a damaged corpus entry {chunk.name!r} ({why}): "
        "retrain with 'aprender-shell train'"
    )


def read_corpus(bundle: PagedBundle, index: ModelIndex, path: Path) -> list[HistoryEntry]:
    """The command sequence the model was trained on, one corpus entry in memory at a time."""
    corpus: list[HistoryEntry] = []
    for chunk in index.corpus:
        corpus.extend(decode_chunk(bundle.get_model(chunk.name), chunk, f"model {path}"))
        bundle.evict(chunk.name)
    return corpus

"""The stored corpus: the cleaned command sequence, in zlib chunks the index lists with sizes.

A row is ``[command, timestamp]``, or ``[command, timestamp, context]`` when something recorded
where and how the command ran (the shells' journal records, another tool's database): the
context is an object of the known keys only, ``cwd``, ``exit``, ``host``, ``sh``, ``agent`` and
``prev`` (a model before index version 4 has no such rows). ``prev`` is stored only when the
command run before it in its shell is not the row before it (``Context.prev``). Only rows
that have a context pay for one, so a model trained from a history file alone stores what it
always did.

Reading a chunk never inflates more than the index declares for it, so a chunk crafted to
inflate to gigabytes (a zlib bomb) costs at most its declared size before it is refused; every
field of every row is checked before it is used.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aprender_shell.errors import BundleError
from aprender_shell.history.formats import Context, HistoryEntry
from aprender_shell.limits import MAX_COMMAND_CHARS, SHELLS
from aprender_shell.model.store.index import CorpusChunk, ModelIndex

if TYPE_CHECKING:
    from os import PathLike

    from aprender_shell.bundle import PagedBundle

# Level 3 compresses the corpus about 20% less than 6 in under half the time; only
# `update` reads it back.
ZLIB_LEVEL = 3

# The most a context field may hold: a path (Linux's PATH_MAX), a host name (POSIX's
# HOST_NAME_MAX), an agent's name; an exit status fits a C int. A field beyond them is not
# stored (the run keeps the others) and, read from a model, is damage.
MAX_CWD_CHARS = 4096
MAX_HOST_CHARS = 255
MAX_AGENT_CHARS = 128
MIN_EXIT, MAX_EXIT = -(2**31), 2**31 - 1
MAX_PREV_CHARS = MAX_COMMAND_CHARS
CONTEXT_KEYS = ("cwd", "exit", "host", "sh", "agent", "prev")

# A context's fields in Context's order: the key of an equal one already made (``_Contexts``).
_ContextKey = tuple[Any, ...]


def context_row(context: Context | None, before: str | None = None) -> dict[str, Any] | None:
    """The stored object of ``context`` (of the run after ``before``): its known fields within
    bounds (None: nothing to store)."""
    if context is None:
        return None
    stored: dict[str, Any] = {}
    if isinstance(context.cwd, str) and 0 < len(context.cwd) <= MAX_CWD_CHARS:
        stored["cwd"] = context.cwd
    exit_status = context.exit
    if _is_int(exit_status) and MIN_EXIT <= exit_status <= MAX_EXIT:  # type: ignore[operator]
        stored["exit"] = exit_status
    if isinstance(context.host, str) and 0 < len(context.host) <= MAX_HOST_CHARS:
        stored["host"] = context.host
    if context.shell in SHELLS:
        stored["sh"] = context.shell
    if isinstance(context.agent, str) and 0 < len(context.agent) <= MAX_AGENT_CHARS:
        stored["agent"] = context.agent
    prev = context.prev
    if isinstance(prev, str) and prev != before:
        # A command too long to learn is no predecessor the model knows either.
        stored["prev"] = prev if len(prev) <= MAX_PREV_CHARS else ""
    return stored or None


def encode_chunk(entries: Sequence[HistoryEntry]) -> tuple[bytes, int]:
    """The zlib bytes storing ``entries`` and the size they inflate to."""
    rows: list[list[Any]] = []
    before = None  # a chunk's first row stores its prev: chunks are read one at a time
    # One stored object per distinct context: a corpus repeats a few folders thousands of
    # times, and checking each field of each row was most of the cost of writing it.
    made: dict[tuple[Context, bool], dict[str, Any] | None] = {}
    for entry in entries:
        context = entry.context
        if context is None:
            stored = None
        else:
            key = (context, context.prev == before)
            if key in made:
                stored = made[key]
            else:
                stored = made[key] = context_row(context, before)
        before = entry.command
        if stored is None:
            rows.append([entry.command, entry.timestamp])
        else:
            rows.append([entry.command, entry.timestamp, stored])
    raw = json.dumps(rows, separators=(",", ":")).encode("utf-8", "surrogatepass")
    return zlib.compress(raw, ZLIB_LEVEL), len(raw)


class _Contexts:
    """Checks stored context objects and makes one ``Context`` per distinct one: a corpus
    repeats a few folders and hosts thousands of times, and ``update`` holds it whole."""

    def __init__(self) -> None:
        self._made: dict[_ContextKey, Context] = {}
        self._parsed: dict[tuple[tuple[str, Any], ...], Context | None] = {}

    def hook(self, pairs: list[tuple[str, Any]]) -> Any:
        """``json.loads``'s ``object_pairs_hook``: each object of a chunk (a context, in a
        valid one) becomes its checked ``Context``, or ``_INVALID``; each distinct object is
        checked once, however many rows repeat it."""
        key = tuple(pairs)
        try:
            found = self._parsed.get(key, _UNSEEN)
        except TypeError:  # a list or an object as a value: no context field is one
            return _INVALID
        if found is _UNSEEN:
            found = self._parsed[key] = self.read(dict(pairs))
        return _INVALID if found is None else found

    def read(self, stored: Any) -> Context | None:
        """The context ``stored`` describes; None when it is not a valid context object."""
        if type(stored) is not dict or not stored or not stored.keys() <= _KNOWN:
            return None
        cwd = stored.get("cwd")
        status = stored.get("exit")
        host = stored.get("host")
        shell = stored.get("sh")
        agent = stored.get("agent")
        prev = stored.get("prev")
        if not (
            (cwd is None or (type(cwd) is str and 0 < len(cwd) <= MAX_CWD_CHARS))
            and (status is None or (type(status) is int and MIN_EXIT <= status <= MAX_EXIT))
            and (host is None or (type(host) is str and 0 < len(host) <= MAX_HOST_CHARS))
            and (shell is None or shell in SHELLS)
            and (agent is None or (type(agent) is str and 0 < len(agent) <= MAX_AGENT_CHARS))
            and (prev is None or (type(prev) is str and len(prev) <= MAX_PREV_CHARS))
        ):
            return None
        key = (cwd, status, host, shell, agent, prev)
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = Context(cwd, status, host, shell, agent, prev)
        return made


_KNOWN = frozenset(CONTEXT_KEYS)
_UNSEEN: Any = object()
# What an object that is not a valid context becomes as a chunk is parsed.
_INVALID = object()


def decode_chunk(
    data: bytes,
    chunk: CorpusChunk,
    source: str = "the model",
    contexts: _Contexts | None = None,
) -> list[HistoryEntry]:
    """The history entries stored in ``data``, the bytes of the entry ``chunk`` describes.

    Raises ``BundleError`` (one line) when they are not zlib, inflate to another size than
    declared, or do not hold a list of valid rows. ``contexts`` shares equal contexts across
    chunks.
    """
    rows = _rows(data, chunk, source, contexts or _Contexts())
    entries = []
    for row in rows:
        if not _is_row(row):
            if not (chunk.contexts and _is_context_row(row)):
                raise _damaged(chunk, source, _NOT_A_ROW)
            if type(row[2]) is not Context:
                raise _damaged(chunk, source, _NOT_A_CONTEXT)
            entries.append(HistoryEntry(row[0], row[1], row[2]))
        else:
            entries.append(HistoryEntry(row[0], row[1]))
    return entries


def decode_commands(
    data: bytes, chunk: CorpusChunk, source: str = "the model", agents: bool = True
) -> list[str]:
    """The commands alone of ``decode_chunk``, checked alike, at a fraction of its cost (for
    reading a whole corpus while someone waits: Ctrl-R); without ``agents``, not those of
    rows an agent ran (their context names it)."""
    rows = _rows(data, chunk, source, _Contexts())
    # The test of _is_row inline: a call per row would cost as much as the rest together. A
    # context was checked as it was parsed (_Contexts.hook); only a version 4 chunk has them.
    contexts = chunk.contexts
    commands = [
        row[0]
        for row in rows
        if type(row) is list
        and (len(row) == 2 or (contexts and len(row) == 3 and type(row[2]) is Context))
        and type(row[0]) is str
        and (row[1] is None or type(row[1]) is int)
    ]
    if len(commands) != len(rows):
        decode_chunk(data, chunk, source)  # says which of the two is wrong
        raise _damaged(chunk, source, _NOT_A_ROW)
    if not agents and contexts:
        return [row[0] for row in rows if len(row) == 2 or not row[2].agent]
    return commands


_NOT_A_ROW = "it holds a row that is not [command, timestamp] or [command, timestamp, context]"
_NOT_A_CONTEXT = (
    "it holds a context that is not an object of valid cwd, exit, host, sh, agent, prev"
)


def _is_row(row: Any) -> bool:
    return (
        type(row) is list
        and len(row) == 2
        and type(row[0]) is str
        and (row[1] is None or type(row[1]) is int)
    )


def _is_context_row(row: Any) -> bool:
    return (
        type(row) is list
        and len(row) == 3
        and type(row[0]) is str
        and (row[1] is None or type(row[1]) is int)
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _rows(data: bytes, chunk: CorpusChunk, source: str, contexts: _Contexts) -> list[Any]:
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
        text = raw.decode("utf-8", "surrogatepass")
        rows = json.loads(text, object_pairs_hook=contexts.hook) if chunk.contexts else (
            json.loads(text)
        )
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


def read_corpus(
    bundle: PagedBundle, index: ModelIndex, path: str | PathLike[str]
) -> list[HistoryEntry]:
    """The command sequence the model was trained on, one corpus entry in memory at a time."""
    corpus: list[HistoryEntry] = []
    contexts = _Contexts()
    for chunk in index.corpus:
        data = bundle.get_model(chunk.name)
        corpus.extend(decode_chunk(data, chunk, f"model {path}", contexts))
        bundle.evict(chunk.name)
    return corpus

"""The model's index: the one small document every reader of a model keeps, and its only owner.

The ``index`` entry of a model bundle is JSON. ``ModelIndex.from_json`` is the only way to read
it: it parses within bounds, upgrades older versions, refuses newer ones, and checks every
field (type, range, table specs, entry names that exist in the bundle), so that no later
``KeyError``, ``ValueError`` or ``RecursionError`` can come from a damaged or hostile index;
every problem is one ``BundleError`` line. ``ModelIndex.to_json`` is the only way to write it.

Kept cheap to import and build (plain classes, no dataclasses): a cold ``suggest`` reads it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Container, Mapping, Sequence
from typing import Any, NamedTuple

from aprender_shell.errors import BundleError
from aprender_shell.model.memory import MAX_SEGMENT_BYTES, MIN_SEGMENT_BYTES, MemoryLimit
from aprender_shell.model.store.layout import (
    COUNTS,
    MAX_HEAD_CHARS,
    MAX_HEADS,
    MAX_KIND_COUNT,
    MAX_NGRAM_ORDER,
    MIN_NGRAM_ORDER,
)

MODEL_FORMAT = "aprender-shell-model"
# Model index history:
#   1 - first release: figures, tuning constants, the cmd/hot/ngram table specs, the names of
#       the corpus entries.
#   2 - each corpus entry is listed with its inflated size, so reading one is bounded by what
#       the index declares; "source" says what the model was trained on ("history" or the
#       packaged "sample"); an optional "tuning" of named weights.
#   3 - an optional "arguments": for the most used command heads, how often each argument
#       position took a path, a host, a name or a word (``arguments.py``). A version 2 model
#       has none: its predictor uses the built-in prior until it is retrained.
#   4 - corpus rows may carry the run's context (store/corpus.py; older chunks may not); the
#       optional tables ``dir`` and ``run`` hold what training learned from it (store/runs.py).
#   5 - an optional table ``host``: each command's runs recorded on other hosts (store/runs.py).
# Older versions are upgraded as they are read; newer ones are refused (a newer release wrote
# them): upgrade aprender-shell or retrain.
MODEL_VERSION = 5

TABLES = ("cmd", "hot", "ngram")
# Tables a model of version 4 (``host``: 5) may have: only one trained on runs with a context.
OPTIONAL_TABLES = ("dir", "run", "host")
SOURCES = ("history", "sample")
# A corpus chunk inflates to at most this many times the segment size: training splits bigger ones,
# so an index declaring more is not one we wrote.
CORPUS_CHUNK_BUDGETS = 16
# Version 1 did not record chunk sizes; its writer cut chunks at 4 budgets of text, which JSON
# escaping can blow up at most 12-fold (a surrogate pair as two \uXXXX), plus one command.
_V1_CHUNK_BUDGETS = 48
_V1_CHUNK_SLACK = 64 * 1024
# Attributes stored under another key: the key every version so far has written.
_STORED_AS = {"segment_bytes": "segment_budget"}
MAX_TOP_COMMANDS = 100
MAX_RECENT = 256
MAX_GENERATION_CHARS = 128
# Counts far beyond any history a person can type are damage, not data.
MAX_COUNT = 2**48


class TableSpec(NamedTuple):
    """One sorted table of the model: the first key and the entry name of each segment."""

    starts: list[str]
    names: list[str]


class CorpusChunk(NamedTuple):
    """One ``corpus/NNNN`` entry and the size its zlib data inflates to.

    ``exact`` is False for a model of version 1, which did not record sizes: ``raw_size`` is
    then the most its writer could have produced. ``contexts``: rows may carry one (version 4).
    """

    name: str
    raw_size: int
    exact: bool = True
    contexts: bool = True


class _Invalid(ValueError):
    """A field of the index is missing or wrong; the message names it."""


class ModelIndex:
    """The validated index of a model bundle (see the module docstring)."""

    __slots__ = (
        "generation",
        "trained_at",
        "ngram",
        "total_commands",
        "unique_commands",
        "vocabulary",
        "families",
        "secrets_dropped",
        "novelty",
        "memory_limit",
        "segment_bytes",
        "tau_short",
        "tau_long",
        "tables",
        "corpus",
        "top_commands",
        "recent",
        "history",
        "source",
        "tuning",
        "arguments",
    )

    def __init__(
        self,
        *,
        generation: str,
        trained_at: int,
        ngram: int,
        total_commands: int,
        unique_commands: int,
        vocabulary: int,
        families: int,
        secrets_dropped: int,
        novelty: float,
        memory_limit: int,
        segment_bytes: int,
        tau_short: float,
        tau_long: float,
        tables: Mapping[str, TableSpec],
        corpus: Sequence[CorpusChunk],
        top_commands: Sequence[tuple[str, int]] = (),
        recent: Sequence[str] = (),
        history: Sequence[Mapping[str, Any]] = (),
        source: str = "history",
        tuning: Mapping[str, float] | None = None,
        arguments: Mapping[str, Sequence[int]] | None = None,
    ) -> None:
        self.generation = generation
        self.trained_at = trained_at
        self.ngram = ngram
        self.total_commands = total_commands
        self.unique_commands = unique_commands
        self.vocabulary = vocabulary
        self.families = families
        self.secrets_dropped = secrets_dropped
        self.novelty = novelty
        self.memory_limit = memory_limit
        self.segment_bytes = segment_bytes
        self.tau_short = tau_short
        self.tau_long = tau_long
        self.tables: dict[str, TableSpec] = dict(tables)
        self.corpus: list[CorpusChunk] = list(corpus)
        self.top_commands: list[tuple[str, int]] = list(top_commands)
        self.recent: list[str] = list(recent)
        self.history: list[dict[str, Any]] = [dict(mark) for mark in history]
        self.source = source
        self.tuning: dict[str, float] | None = None if tuning is None else dict(tuning)
        # Kept as bytes (a count is at most a byte): the index stays small in memory.
        self.arguments: dict[str, bytes] | None = (
            None if arguments is None else {head: bytes(c) for head, c in arguments.items()}
        )

    @property
    def trained_on_sample(self) -> bool:
        """True when the model was trained on the packaged sample, not on the user's history."""
        return self.source == "sample"

    # Writing -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The index as the JSON document of the current ``MODEL_VERSION``."""
        document: dict[str, Any] = {"format": MODEL_FORMAT, "version": MODEL_VERSION}
        for name in self.__slots__:
            document[_STORED_AS.get(name, name)] = getattr(self, name)
        document["tables"] = {
            table: {"starts": list(spec.starts), "names": list(spec.names)}
            for table, spec in self.tables.items()
        }
        document["corpus"] = [{"name": c.name, "raw_size": c.raw_size} for c in self.corpus]
        document["top_commands"] = [[text, count] for text, count in self.top_commands]
        if self.tuning is None:
            del document["tuning"]
        if self.arguments is None:
            del document["arguments"]
        else:
            document["arguments"] = {head: list(c) for head, c in self.arguments.items()}
        return document

    def to_json(self) -> bytes:
        """The index as compact UTF-8 JSON, as stored in the bundle's ``index`` entry."""
        return json.dumps(self.to_dict(), separators=(",", ":")).encode("utf-8", "surrogatepass")

    # Reading -----------------------------------------------------------------------------

    @classmethod
    def from_json(
        cls, raw: bytes | str, entry_names: Container[str] | None = None, source: str = "model"
    ) -> ModelIndex:
        """The index stored as ``raw``, checked field by field, upgraded to this version.

        ``entry_names``, when given, holds the bundle's entry names: every segment and corpus
        entry the index lists must be among them. ``source`` names the model in messages.
        Raises ``BundleError`` with one line saying what is wrong and what to do.
        """
        try:
            document = json.loads(raw)
        except RecursionError:
            raise BundleError(
                f"{source} has an unreadable index (nested too deeply): "
                "retrain with 'aprender-shell train'"
            ) from None
        except (ValueError, TypeError) as error:
            raise BundleError(
                f"{source} has an unreadable index ({_short(error)}): "
                "retrain with 'aprender-shell train'"
            ) from None
        return cls.from_dict(document, entry_names, source)

    @classmethod
    def from_dict(
        cls, document: object, entry_names: Container[str] | None = None, source: str = "model"
    ) -> ModelIndex:
        """``from_json`` for a document already parsed."""
        if not isinstance(document, dict) or document.get("format") != MODEL_FORMAT:
            raise BundleError(
                f"{source} is not an aprender-shell model: retrain with 'aprender-shell train'"
            )
        version = _as_int(document.get("version"))
        if version is None or version < 1:
            raise BundleError(
                f"{source} has a damaged index (version {_show(document.get('version'))}): "
                "retrain with 'aprender-shell train'"
            )
        if version > MODEL_VERSION:
            raise BundleError(
                f"{source} was written by a newer aprender-shell (model version {version}, this "
                f"one reads up to {MODEL_VERSION}): upgrade aprender-shell or retrain"
            )
        try:
            return cls._checked(document, version, entry_names)
        except _Invalid as error:
            raise BundleError(
                f"{source} has a damaged index ({error}): retrain with 'aprender-shell train'"
            ) from None

    @classmethod
    def _checked(
        cls, doc: dict[str, Any], version: int, names: Container[str] | None
    ) -> ModelIndex:
        segment_bytes = _int(doc, _STORED_AS["segment_bytes"], MIN_SEGMENT_BYTES, MAX_SEGMENT_BYTES)
        total = _int(doc, "total_commands")
        tables = {table: _table(doc, table, names) for table in TABLES}
        for table in OPTIONAL_TABLES[: 2 if version == 4 else 3] if version >= 4 else ():
            if table in doc["tables"]:  # an object: _table checked it
                tables[table] = _table(doc, table, names)
        if version == 1:
            corpus = _corpus_v1(doc, names, segment_bytes)
            # Version 1 recorded the history files read; with none it was the packaged sample.
            source = "history" if doc.get("history") else "sample"
            tuning = None
        else:
            corpus = _corpus(doc, names, segment_bytes, version >= 4)
            given = doc.get("source")
            if not isinstance(given, str) or given not in SOURCES:
                raise _Invalid(f"'source' must be one of {', '.join(SOURCES)}, not {_show(given)}")
            source = given
            tuning = _tuning(doc)
        arguments = _arguments(doc) if version >= 3 else None
        return cls(
            generation=_text(doc, "generation", MAX_GENERATION_CHARS),
            trained_at=_int(doc, "trained_at"),
            ngram=_int(doc, "ngram", MIN_NGRAM_ORDER, MAX_NGRAM_ORDER),
            total_commands=total,
            unique_commands=_int(doc, "unique_commands", 0, total),
            vocabulary=_int(doc, "vocabulary"),
            families=_int(doc, "families"),
            secrets_dropped=_int(doc, "secrets_dropped"),
            novelty=_number(doc, "novelty", 0.0, 1.0),
            memory_limit=_int(doc, "memory_limit", MemoryLimit.MIN, MemoryLimit.MAX),
            segment_bytes=segment_bytes,
            tau_short=_number(doc, "tau_short", 1e-9, 1e12),
            tau_long=_number(doc, "tau_long", 1e-9, 1e12),
            tables=tables,
            corpus=corpus,
            top_commands=_top_commands(doc),
            recent=_strings(doc, "recent", MAX_RECENT),
            history=_marks(doc),
            source=source,
            tuning=tuning,
            arguments=arguments,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ModelIndex):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dict it replaces

    def __repr__(self) -> str:
        return (
            f"ModelIndex(generation={self.generation!r}, total_commands={self.total_commands}, "
            f"source={self.source!r})"
        )


def corpus_chunk_limit(segment_bytes: int) -> int:
    """The most bytes one corpus chunk of a model with this segment size may inflate to."""
    return CORPUS_CHUNK_BUDGETS * segment_bytes


# Field checks: each raises _Invalid naming the field ------------------------------------------


def _as_int(value: object) -> int | None:
    # bool is an int subclass but never a valid count.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _show(value: object) -> str:
    text = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _short(error: BaseException) -> str:
    lines = str(error).splitlines()
    return lines[0][:120] if lines else type(error).__name__


def _int(doc: Mapping[str, Any], key: str, low: int = 0, high: int = MAX_COUNT) -> int:
    value = _as_int(doc.get(key))
    if value is None:
        raise _Invalid(f"'{key}' must be an integer, not {_show(doc.get(key))}")
    if not low <= value <= high:
        raise _Invalid(f"'{key}' is {value}, outside {low} to {high}")
    return value


def _number(doc: Mapping[str, Any], key: str, low: float, high: float) -> float:
    value = doc.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise _Invalid(f"'{key}' must be a number, not {_show(value)}")
    if not low <= value <= high:  # NaN fails too
        raise _Invalid(f"'{key}' is {value}, outside {low:g} to {high:g}")
    return float(value)


def _text(doc: Mapping[str, Any], key: str, longest: int) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not 0 < len(value) <= longest:
        raise _Invalid(f"'{key}' must be a string of 1 to {longest} characters")
    return value


def _list(value: object, key: str, longest: int = MAX_COUNT) -> list[Any]:
    if not isinstance(value, list):
        raise _Invalid(f"'{key}' must be a list, not {_show(value)}")
    if len(value) > longest:
        raise _Invalid(f"'{key}' has {len(value)} items, more than {longest}")
    return value


def _strings(doc: Mapping[str, Any], key: str, longest: int) -> list[str]:
    values = _list(doc.get(key, []), key, longest)
    if not all(isinstance(value, str) for value in values):
        raise _Invalid(f"'{key}' must hold only strings")
    return values


def _entry_names(values: object, key: str, names: Container[str] | None) -> list[str]:
    found = _list(values, key)
    for name in found:
        if not isinstance(name, str):
            raise _Invalid(f"'{key}' must hold entry names, not {_show(name)}")
        if names is not None and name not in names:
            raise _Invalid(f"'{key}' names {name[:60]!r}, which the bundle does not hold")
    return found


def _table(doc: Mapping[str, Any], table: str, names: Container[str] | None) -> TableSpec:
    tables = doc.get("tables")
    if not isinstance(tables, dict):
        raise _Invalid(f"'tables' must be an object, not {_show(tables)}")
    spec = tables.get(table)
    where = f"tables.{table}"
    if not isinstance(spec, dict):
        raise _Invalid(f"'{where}' must be an object, not {_show(spec)}")
    starts = _list(spec.get("starts"), f"{where}.starts")
    entries = _entry_names(spec.get("names"), f"{where}.names", names)
    if len(starts) != len(entries):
        raise _Invalid(f"'{where}' lists {len(starts)} starts for {len(entries)} names")
    for number, start in enumerate(starts):
        if not isinstance(start, str):
            raise _Invalid(f"'{where}.starts' must hold strings, not {_show(start)}")
        # The predictor bisects the starts: out of order, it would look in the wrong segment.
        if number and start < starts[number - 1]:
            raise _Invalid(f"'{where}.starts' is not sorted")
    return TableSpec(starts, entries)


def _corpus(
    doc: Mapping[str, Any], names: Container[str] | None, budget: int, contexts: bool
) -> list[CorpusChunk]:
    limit = corpus_chunk_limit(budget)
    chunks = []
    for item in _list(doc.get("corpus"), "corpus"):
        if not isinstance(item, dict):
            raise _Invalid(f"'corpus' must hold objects, not {_show(item)}")
        name = _entry_names([item.get("name")], "corpus", names)[0]
        chunks.append(CorpusChunk(name, _int(item, "raw_size", 0, limit), True, contexts))
    return chunks


def _corpus_v1(
    doc: Mapping[str, Any], names: Container[str] | None, budget: int
) -> list[CorpusChunk]:
    # Sizes were not recorded: bound each chunk by the most its writer could have produced.
    limit = _V1_CHUNK_BUDGETS * budget + _V1_CHUNK_SLACK
    listed = _entry_names(doc.get("corpus"), "corpus", names)
    return [CorpusChunk(name, limit, False, False) for name in listed]


def _top_commands(doc: Mapping[str, Any]) -> list[tuple[str, int]]:
    found = []
    for item in _list(doc.get("top_commands", []), "top_commands", MAX_TOP_COMMANDS):
        count = _as_int(item[1]) if isinstance(item, list) and len(item) == 2 else None
        if count is None or not isinstance(item[0], str) or not 0 <= count <= MAX_COUNT:
            raise _Invalid("'top_commands' must hold [command, count] pairs")
        found.append((item[0], count))
    return found


def _marks(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    marks = _list(doc.get("history", []), "history")
    for mark in marks:
        if not isinstance(mark, dict) or not isinstance(mark.get("path"), str):
            raise _Invalid("'history' must hold objects with a 'path'")
    return marks


def _optional_object(doc: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, dict):
        raise _Invalid(f"'{key}' must be an object, not {_show(value)}")
    return value


def _tuning(doc: Mapping[str, Any]) -> dict[str, float] | None:
    tuning = _optional_object(doc, "tuning")
    if tuning is None:
        return None
    found = {}
    for name, value in tuning.items():
        if (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            raise _Invalid(f"'tuning.{name[:40]}' must be a finite number, not {_show(value)}")
        found[name] = float(value)
    return found


def _arguments(doc: Mapping[str, Any]) -> dict[str, bytes] | None:
    arguments = _optional_object(doc, "arguments")
    if arguments is None:
        return None
    if len(arguments) > MAX_HEADS:
        raise _Invalid(f"'arguments' has {len(arguments)} heads, more than {MAX_HEADS}")
    found = {}
    for head, counts in arguments.items():
        if not 0 < len(head) <= MAX_HEAD_CHARS:
            raise _Invalid(f"'arguments' names a head of {len(head)} characters")
        if (
            not isinstance(counts, list)
            or len(counts) != COUNTS
            or not all(_as_int(n) is not None and 0 <= n <= MAX_KIND_COUNT for n in counts)
        ):
            raise _Invalid(
                f"'arguments.{head[:40]}' must be {COUNTS} counts of 0 to {MAX_KIND_COUNT}"
            )
        found[head] = bytes(counts)
    return found


__all__ = [
    "CORPUS_CHUNK_BUDGETS",
    "MODEL_FORMAT",
    "MODEL_VERSION",
    "CorpusChunk",
    "ModelIndex",
    "TableSpec",
    "corpus_chunk_limit",
]

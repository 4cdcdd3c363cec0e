"""The model's index: the one small document every reader of a model keeps, and its only owner.

The ``index`` entry of a model bundle is JSON. ``ModelIndex.from_json`` is the only way to read
it: it parses within bounds, upgrades older versions, refuses newer ones, and checks every
field (type, range, table specs, entry names that exist in the bundle), so that no later
``KeyError``, ``ValueError`` or ``RecursionError`` can come from a damaged or hostile index;
every problem is one ``BundleError`` line. ``ModelIndex.to_json`` is the only way to write it.

Kept cheap to import and build (plain classes, no dataclasses): a cold ``suggest`` reads it.
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence

from aprender_shell.bundle.jsontext import loads
from aprender_shell.errors import BundleError
from aprender_shell.model.memory import MAX_SEGMENT_BYTES, MIN_SEGMENT_BYTES, MemoryLimit
from aprender_shell.model.store import index_fields as fields
from aprender_shell.model.store.index_fields import (
    CORPUS_CHUNK_BUDGETS,
    MAX_COUNT,
    MAX_GENERATION_CHARS,
    MAX_RECENT,
    MAX_TOP_COMMANDS,
    CorpusChunk,
    Invalid,
    TableSpec,
    corpus_chunk_limit,
)
from aprender_shell.model.store.layout import MAX_NGRAM_ORDER, MIN_NGRAM_ORDER

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from typing import Any

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
# Attributes stored under another key: the key every version so far has written.
_STORED_AS = {"segment_bytes": "segment_budget"}


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
        import json

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
            document = loads(raw)
        except RecursionError:
            raise BundleError(
                f"{source} has an unreadable index (nested too deeply): "
                "retrain with 'aprender-shell train'"
            ) from None
        except (ValueError, TypeError) as error:
            raise BundleError(
                f"{source} has an unreadable index ({fields.short(error)}): "
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
        version = fields.as_int(document.get("version"))
        if version is None or version < 1:
            raise BundleError(
                f"{source} has a damaged index "
                f"(version {fields.show(document.get('version'))}): "
                "retrain with 'aprender-shell train'"
            )
        if version > MODEL_VERSION:
            raise BundleError(
                f"{source} was written by a newer aprender-shell (model version {version}, this "
                f"one reads up to {MODEL_VERSION}): upgrade aprender-shell or retrain"
            )
        try:
            return cls._checked(document, version, entry_names)
        except Invalid as error:
            raise BundleError(
                f"{source} has a damaged index ({error}): retrain with 'aprender-shell train'"
            ) from None

    @classmethod
    def _checked(
        cls, doc: dict[str, Any], version: int, names: Container[str] | None
    ) -> ModelIndex:
        segment_bytes = fields.integer(
            doc, _STORED_AS["segment_bytes"], MIN_SEGMENT_BYTES, MAX_SEGMENT_BYTES
        )
        total = fields.integer(doc, "total_commands")
        tables = {table: fields.table_spec(doc, table, names) for table in TABLES}
        for table in OPTIONAL_TABLES[: 2 if version == 4 else 3] if version >= 4 else ():
            if table in doc["tables"]:  # an object: table_spec checked it
                tables[table] = fields.table_spec(doc, table, names)
        if version == 1:
            corpus = fields.corpus_v1(doc, names, segment_bytes)
            # Version 1 recorded the history files read; with none it was the packaged sample.
            source = "history" if doc.get("history") else "sample"
            tuning = None
        else:
            corpus = fields.corpus(doc, names, segment_bytes, version >= 4)
            given = doc.get("source")
            if not isinstance(given, str) or given not in SOURCES:
                raise Invalid(
                    f"'source' must be one of {', '.join(SOURCES)}, not {fields.show(given)}"
                )
            source = given
            tuning = fields.tuning(doc)
        arguments = fields.arguments(doc) if version >= 3 else None
        return cls(
            generation=fields.text(doc, "generation", MAX_GENERATION_CHARS),
            trained_at=fields.integer(doc, "trained_at"),
            ngram=fields.integer(doc, "ngram", MIN_NGRAM_ORDER, MAX_NGRAM_ORDER),
            total_commands=total,
            unique_commands=fields.integer(doc, "unique_commands", 0, total),
            vocabulary=fields.integer(doc, "vocabulary"),
            families=fields.integer(doc, "families"),
            secrets_dropped=fields.integer(doc, "secrets_dropped"),
            novelty=fields.number(doc, "novelty", 0.0, 1.0),
            memory_limit=fields.integer(doc, "memory_limit", MemoryLimit.MIN, MemoryLimit.MAX),
            segment_bytes=segment_bytes,
            tau_short=fields.number(doc, "tau_short", 1e-9, 1e12),
            tau_long=fields.number(doc, "tau_long", 1e-9, 1e12),
            tables=tables,
            corpus=corpus,
            top_commands=fields.top_commands(doc),
            recent=fields.strings(doc, "recent", MAX_RECENT),
            history=fields.marks(doc),
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


__all__ = [
    "CORPUS_CHUNK_BUDGETS",
    "MODEL_FORMAT",
    "MODEL_VERSION",
    "MAX_COUNT",
    "MAX_GENERATION_CHARS",
    "MAX_RECENT",
    "MAX_TOP_COMMANDS",
    "CorpusChunk",
    "ModelIndex",
    "TableSpec",
    "corpus_chunk_limit",
]

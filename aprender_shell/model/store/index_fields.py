"""The checks of each field of a stored model index (index.py), and the index's small records.

Each check raises ``Invalid`` naming the field; ``ModelIndex.from_dict`` turns it into one
``BundleError`` line. Kept apart from ``ModelIndex`` so that each module stays one concept.
"""

from __future__ import annotations

import math
from collections.abc import Container, Mapping

from aprender_shell.bundle.values import Value
from aprender_shell.model.store.layout import (
    COUNTS,
    MAX_HEAD_CHARS,
    MAX_HEADS,
    MAX_KIND_COUNT,
)

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from typing import Any

# A corpus chunk inflates to at most this many times the segment size: training splits bigger ones,
# so an index declaring more is not one we wrote.
CORPUS_CHUNK_BUDGETS = 16
# Version 1 did not record chunk sizes; its writer cut chunks at 4 budgets of text, which JSON
# escaping can blow up at most 12-fold (a surrogate pair as two \uXXXX), plus one command.
_V1_CHUNK_BUDGETS = 48
_V1_CHUNK_SLACK = 64 * 1024
MAX_TOP_COMMANDS = 100
MAX_RECENT = 256
MAX_GENERATION_CHARS = 128
# Counts far beyond any history a person can type are damage, not data.
MAX_COUNT = 2**48


# Plain value classes, not NamedTuples (bundle/values.py): read only by attribute.
class TableSpec(Value):
    """One sorted table of the model: the first key and the entry name of each segment."""

    __slots__ = ("starts", "names")

    def __init__(self, starts: list[str], names: list[str]) -> None:
        self.starts = starts
        self.names = names

    __hash__ = None  # type: ignore[assignment]  # it holds lists


class CorpusChunk(Value):
    """One ``corpus/NNNN`` entry and the size its zlib data inflates to.

    ``exact`` is False for a model of version 1, which did not record sizes: ``raw_size`` is
    then the most its writer could have produced. ``contexts``: rows may carry one (version 4).
    """

    __slots__ = ("name", "raw_size", "exact", "contexts")

    def __init__(self, name: str, raw_size: int, exact: bool = True,
                 contexts: bool = True) -> None:
        self.name = name
        self.raw_size = raw_size
        self.exact = exact
        self.contexts = contexts


class Invalid(ValueError):
    """A field of the index is missing or wrong; the message names it."""


def corpus_chunk_limit(segment_bytes: int) -> int:
    """The most bytes one corpus chunk of a model with this segment size may inflate to."""
    return CORPUS_CHUNK_BUDGETS * segment_bytes


def as_int(value: object) -> int | None:
    # bool is an int subclass but never a valid count.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def show(value: object) -> str:
    text = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def short(error: BaseException) -> str:
    lines = str(error).splitlines()
    return lines[0][:120] if lines else type(error).__name__


def integer(doc: Mapping[str, Any], key: str, low: int = 0, high: int = MAX_COUNT) -> int:
    value = as_int(doc.get(key))
    if value is None:
        raise Invalid(f"'{key}' must be an integer, not {show(doc.get(key))}")
    if not low <= value <= high:
        raise Invalid(f"'{key}' is {value}, outside {low} to {high}")
    return value


def number(doc: Mapping[str, Any], key: str, low: float, high: float) -> float:
    value = doc.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise Invalid(f"'{key}' must be a number, not {show(value)}")
    if not low <= value <= high:  # NaN fails too
        raise Invalid(f"'{key}' is {value}, outside {low:g} to {high:g}")
    return float(value)


def text(doc: Mapping[str, Any], key: str, longest: int) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not 0 < len(value) <= longest:
        raise Invalid(f"'{key}' must be a string of 1 to {longest} characters")
    return value


def bounded_list(value: object, key: str, longest: int = MAX_COUNT) -> list[Any]:
    if not isinstance(value, list):
        raise Invalid(f"'{key}' must be a list, not {show(value)}")
    if len(value) > longest:
        raise Invalid(f"'{key}' has {len(value)} items, more than {longest}")
    return value


def strings(doc: Mapping[str, Any], key: str, longest: int) -> list[str]:
    values = bounded_list(doc.get(key, []), key, longest)
    if not all(isinstance(value, str) for value in values):
        raise Invalid(f"'{key}' must hold only strings")
    return values


def entry_names(values: object, key: str, names: Container[str] | None) -> list[str]:
    found = bounded_list(values, key)
    for name in found:
        if not isinstance(name, str):
            raise Invalid(f"'{key}' must hold entry names, not {show(name)}")
        if names is not None and name not in names:
            raise Invalid(f"'{key}' names {name[:60]!r}, which the bundle does not hold")
    return found


def table_spec(doc: Mapping[str, Any], table: str, names: Container[str] | None) -> TableSpec:
    tables = doc.get("tables")
    if not isinstance(tables, dict):
        raise Invalid(f"'tables' must be an object, not {show(tables)}")
    spec = tables.get(table)
    where = f"tables.{table}"
    if not isinstance(spec, dict):
        raise Invalid(f"'{where}' must be an object, not {show(spec)}")
    starts = bounded_list(spec.get("starts"), f"{where}.starts")
    entries = entry_names(spec.get("names"), f"{where}.names", names)
    if len(starts) != len(entries):
        raise Invalid(f"'{where}' lists {len(starts)} starts for {len(entries)} names")
    for number, start in enumerate(starts):
        if not isinstance(start, str):
            raise Invalid(f"'{where}.starts' must hold strings, not {show(start)}")
        # The predictor bisects the starts: out of order, it would look in the wrong segment.
        if number and start < starts[number - 1]:
            raise Invalid(f"'{where}.starts' is not sorted")
    return TableSpec(starts, entries)


def corpus(
    doc: Mapping[str, Any], names: Container[str] | None, budget: int, contexts: bool
) -> list[CorpusChunk]:
    limit = corpus_chunk_limit(budget)
    chunks = []
    for item in bounded_list(doc.get("corpus"), "corpus"):
        if not isinstance(item, dict):
            raise Invalid(f"'corpus' must hold objects, not {show(item)}")
        name = entry_names([item.get("name")], "corpus", names)[0]
        chunks.append(CorpusChunk(name, integer(item, "raw_size", 0, limit), True, contexts))
    return chunks


def corpus_v1(
    doc: Mapping[str, Any], names: Container[str] | None, budget: int
) -> list[CorpusChunk]:
    # Sizes were not recorded: bound each chunk by the most its writer could have produced.
    limit = _V1_CHUNK_BUDGETS * budget + _V1_CHUNK_SLACK
    listed = entry_names(doc.get("corpus"), "corpus", names)
    return [CorpusChunk(name, limit, False, False) for name in listed]


def top_commands(doc: Mapping[str, Any]) -> list[tuple[str, int]]:
    found = []
    for item in bounded_list(doc.get("top_commands", []), "top_commands", MAX_TOP_COMMANDS):
        count = as_int(item[1]) if isinstance(item, list) and len(item) == 2 else None
        if count is None or not isinstance(item[0], str) or not 0 <= count <= MAX_COUNT:
            raise Invalid("'top_commands' must hold [command, count] pairs")
        found.append((item[0], count))
    return found


def marks(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    marks = bounded_list(doc.get("history", []), "history")
    for mark in marks:
        if not isinstance(mark, dict) or not isinstance(mark.get("path"), str):
            raise Invalid("'history' must hold objects with a 'path'")
    return marks


def optional_object(doc: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, dict):
        raise Invalid(f"'{key}' must be an object, not {show(value)}")
    return value


def tuning(doc: Mapping[str, Any]) -> dict[str, float] | None:
    tuning = optional_object(doc, "tuning")
    if tuning is None:
        return None
    found = {}
    for name, value in tuning.items():
        if (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            raise Invalid(f"'tuning.{name[:40]}' must be a finite number, not {show(value)}")
        found[name] = float(value)
    return found


def arguments(doc: Mapping[str, Any]) -> dict[str, bytes] | None:
    arguments = optional_object(doc, "arguments")
    if arguments is None:
        return None
    if len(arguments) > MAX_HEADS:
        raise Invalid(f"'arguments' has {len(arguments)} heads, more than {MAX_HEADS}")
    found = {}
    for head, counts in arguments.items():
        if not 0 < len(head) <= MAX_HEAD_CHARS:
            raise Invalid(f"'arguments' names a head of {len(head)} characters")
        if (
            not isinstance(counts, list)
            or len(counts) != COUNTS
            or not all(as_int(n) is not None and 0 <= n <= MAX_KIND_COUNT for n in counts)
        ):
            raise Invalid(
                f"'arguments.{head[:40]}' must be {COUNTS} counts of 0 to {MAX_KIND_COUNT}"
            )
        found[head] = bytes(counts)
    return found

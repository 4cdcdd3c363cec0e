"""A command sequence as training holds it: columns, not one object per command run.

A fold retrains on the whole stored corpus plus the journal. Held as ``HistoryEntry`` objects
(one per row, each with its own command string and timestamp object), a 100,000-row corpus
took about 18 MB, most of what put the fold's child past the memory limit. ``Entries`` keeps
each command once (one string per distinct text, shared by every row of it), each context
once (equal contexts are one object), and the timestamps in a machine-word array: about 24
bytes a row. Iterating it gives the same ``HistoryEntry`` values the rows were made of, one at
a time, as often as training needs to read the sequence again; the corpus is decoded from the
bundle one chunk at a time (``read_entries``).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from aprender_shell.history.formats import Context, HistoryEntry

if TYPE_CHECKING:
    from pathlib import Path

    from aprender_shell.bundle import PagedBundle
    from aprender_shell.model.store.index import ModelIndex

# A row without a timestamp: no shell records this instant (the epoch's first second of -2**63).
_NO_STAMP = -(2**63)


class Entries:
    """A re-readable sequence of history entries, stored as columns (see the module's
    docstring); ``commands`` is the command of each row, oldest first. Made ``like`` another
    ``Entries``, it shares that one's strings and contexts."""

    def __init__(self, entries: Iterable[HistoryEntry] = (), like: object = None) -> None:
        self.commands: list[str] = []
        self._stamps = array("q")
        self._contexts: list[Context | None] = []
        self._strings: dict[str, str] = {}
        self._made: dict[Context, Context] = {}
        # Set by an owner that reads this sequence no more once training has it (a fold's
        # corpus): training then cleans it in place (``overwrite``) instead of copying it.
        self.consumable = False
        if isinstance(like, Entries):
            # Made of that sequence (training's cleaned copy of a fold's corpus): equal
            # commands and contexts stay one object across both.
            self._strings, self._made = like._strings, like._made
        self.extend(entries)

    def append(self, entry: HistoryEntry) -> None:
        self.extend((entry,))

    def extend(self, entries: Iterable[HistoryEntry]) -> None:
        commands, stamps, contexts = self.commands, self._stamps, self._contexts
        strings, made = self._strings, self._made
        # Runs of rows share one context object (a chunk makes one per distinct context):
        # hashing a context's six fields for each row was most of the cost of holding it.
        seen: Context | None = None
        kept: Context | None = None
        for entry in entries:
            command = entry.command
            commands.append(strings.setdefault(command, command))
            stamp = entry.timestamp
            stamps.append(_NO_STAMP if stamp is None else stamp)
            context = entry.context
            if context is not seen:
                seen = context
                kept = None if context is None else made.setdefault(context, context)
            contexts.append(kept)

    def overwrite(self, rows: Iterable[HistoryEntry]) -> None:
        """Replace this sequence's rows by ``rows``, read lazily from this very sequence, at
        most one row for each row read (training's cleaning): each is written where a row
        already read was, so no second copy of the columns is made."""
        commands, stamps, contexts = self.commands, self._stamps, self._contexts
        strings, made = self._strings, self._made
        written = 0
        for entry in rows:
            command = entry.command
            commands[written] = strings.setdefault(command, command)
            stamp = entry.timestamp
            stamps[written] = _NO_STAMP if stamp is None else stamp
            context = entry.context
            contexts[written] = None if context is None else made.setdefault(context, context)
            written += 1
        del commands[written:], stamps[written:], contexts[written:]

    def __len__(self) -> int:
        return len(self.commands)

    def __iter__(self) -> Iterator[HistoryEntry]:
        entry, none = HistoryEntry, _NO_STAMP
        for command, stamp, context in zip(self.commands, self._stamps, self._contexts):
            yield entry(command, None if stamp == none else stamp, context)

    def without_agents(self) -> Entries:
        """The rows a person ran (an agent's are kept in the corpus, out of what suggests):
        this sequence itself when it holds none of an agent's."""
        if not any(context.agent is not None for context in self._made):
            return self
        people = Entries()
        people._strings, people._made = self._strings, self._made
        for command, stamp, context in zip(self.commands, self._stamps, self._contexts):
            if context is None or context.agent is None:
                people.commands.append(command)
                people._stamps.append(stamp)
                people._contexts.append(context)
        return people

    def last_person(self) -> str | None:
        """The newest command a person ran (None: none did)."""
        for command, context in zip(reversed(self.commands), reversed(self._contexts)):
            if context is None or not context.agent:
                return command
        return None


def read_entries(bundle: PagedBundle, index: ModelIndex, path: Path) -> Entries:
    """The model's stored corpus, decoded one chunk at a time (each evicted once read)."""
    from aprender_shell.model.store.corpus import decode_chunk

    corpus = Entries()
    for chunk in index.corpus:
        data = bundle.get_model(chunk.name)
        corpus.extend(decode_chunk(data, chunk, f"model {path}"))
        bundle.evict(chunk.name)
    return corpus

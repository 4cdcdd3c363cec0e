"""Ranked history for Ctrl-R: every past command the model keeps, best for this moment first.

The commands come from what the tool itself keeps, never from a shell's history file: the
model's stored corpus (what training read, secrets and forgotten commands already taken out)
and the journal (what the shells recorded since, with the folder, exit status and host of each
run). A model trained on the packaged sample has no past of the user's in its corpus: only the
journal counts then.

The order: the predictor's own suggestions for an empty line in this context (the previous
command, the folder, the shell) first, best first; then every other command, most recently run
first. The filters keep a command when at least one of its runs matches them all; a command
read from the corpus has no folder, exit status or host on record, so any filter leaves it out.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Sequence
from typing import NamedTuple

from aprender_shell.model.learned.journal import Record
from aprender_shell.model.learned.records import people_only
from aprender_shell.model.query.predictor import Predictor

# How many of the predictor's best commands for this context lead the list; the rest follow
# by recency. The predictor scores only its candidates for a prefix (a few dozen on an empty
# line), so asking for more would only return fewer.
MODEL_RANKED = 100

# The corpus's distinct commands, newest first, per open predictor: a resident server reads the
# corpus at the first search only (the corpus of an open model never changes; a replaced model
# is a new predictor). A cold process searches once and gains nothing, nor pays.
_corpus_commands: weakref.WeakKeyDictionary[Predictor, list[str]] = weakref.WeakKeyDictionary()


class SearchFilters(NamedTuple):
    """Which runs count: in ``folder`` only, exited 0 only, on ``host`` only (None: any)."""

    folder: str | None = None
    succeeded: bool = False
    host: str | None = None

    @property
    def active(self) -> bool:
        return self.folder is not None or self.succeeded or self.host is not None

    def keeps(self, record: Record) -> bool:
        """Whether the journal record ``record`` is a run these filters keep."""
        if self.folder is not None and record.get("cwd") != self.folder:
            return False
        if self.succeeded and record.get("exit") != 0:
            return False
        return self.host is None or record.get("host") == self.host


def this_host() -> str:
    """The name this machine records its runs under (as the journal's ``"host"``)."""
    return os.uname().nodename


ANY_RUN = SearchFilters()


def past_commands(predictor: Predictor, filters: SearchFilters = ANY_RUN) -> list[str]:
    """Every distinct command the model keeps that ``filters`` allow, most recently run first."""
    records = people_only(list(predictor.journal.records()))  # an agent's runs, when asked
    runs = [str(record["c"]) for record in records if filters.keeps(record)]
    runs.reverse()
    if not filters.active and not predictor.index.trained_on_sample:
        runs.extend(corpus_commands(predictor))
    # dict keeps the first (most recent) place of each command.
    return list(dict.fromkeys(runs))


def ranked_commands(
    predictor: Predictor,
    prev: Sequence[str] = (),
    cwd: str | None = None,
    shell: str | None = None,
    filters: SearchFilters = ANY_RUN,
) -> list[str]:
    """The commands of ``past_commands``, those the predictor suggests for an empty line in
    this context first (best first), then the others, most recently run first."""
    commands = past_commands(predictor, filters)
    kept = dict.fromkeys(commands)
    best = [
        suggestion.text
        for suggestion in predictor.suggest("", k=MODEL_RANKED, prev=prev, cwd=cwd, shell=shell)
        if suggestion.text in kept
    ]
    first = set(best)
    return best + [command for command in commands if command not in first]


def corpus_commands(predictor: Predictor) -> list[str]:
    """The distinct commands of the model's stored corpus, most recently run first."""
    found = _corpus_commands.get(predictor)
    if found is not None:
        return found
    from aprender_shell.model.store.corpus import decode_commands

    source = f"model {predictor.model_path}"
    bundle = predictor.bundle
    # Distinct commands only, chunk by chunk: a repeated command's copies go with their chunk.
    seen: dict[str, None] = {}
    for chunk in reversed(predictor.index.corpus):
        commands = decode_commands(bundle.get_model(chunk.name), chunk, source)
        # Read whole once: kept in the cache, it would only crowd the segments out.
        bundle.evict(chunk.name)
        commands.reverse()
        # A command seen in a later chunk keeps its (more recent) place.
        seen.update(dict.fromkeys(commands))
    found = _corpus_commands[predictor] = list(seen)
    return found

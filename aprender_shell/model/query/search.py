"""Ranked history for Ctrl-R: every past command the model keeps, best for this moment first.

The commands come from what the tool itself keeps, never from a shell's history file: the
model's stored corpus (what training read, secrets and forgotten commands already taken out)
and the journal (what the shells recorded since, with the folder, exit status and host of each
run). A model trained on the packaged sample has no past of the user's in its corpus: only the
journal counts then.

The order: the predictor's own suggestions for an empty line in this context (the previous
command, the folder, the shell) first, best first; then every other command, most recently run
first. The filters keep a command when at least one of its runs matches them all. A fold keeps
each recorded run's folder, exit status and host in the corpus (store/corpus.py), so the
filters see folded runs as they saw them in the journal; a command read from a history file has
none of them on record, so any filter leaves it out.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from aprender_shell.model.learned.journal import Record
from aprender_shell.model.learned.records import agents_wanted, people_only
from aprender_shell.model.query.predictor import Predictor

# How many of the predictor's best commands for this context lead the list; the rest follow
# by recency. The predictor scores only its candidates for a prefix (a few dozen on an empty
# line), so asking for more would only return fewer.
MODEL_RANKED = 100

# The corpus's distinct commands, newest first, per open predictor: a resident server reads the
# corpus at the first search only (the corpus of an open model never changes; a replaced model
# is a new predictor). A cold process searches once and gains nothing, nor pays.
_corpus_commands: weakref.WeakKeyDictionary[Predictor, list[str]] = weakref.WeakKeyDictionary()
# Likewise the corpus's distinct runs with a context on record, newest first, for the filters.
_corpus_runs: weakref.WeakKeyDictionary[Predictor, list[tuple[str, Context]]] = (
    weakref.WeakKeyDictionary()
)

if TYPE_CHECKING:
    from aprender_shell.history.formats import Context


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
        return self.keeps_run(record.get("cwd"), record.get("exit"), record.get("host"))

    def keeps_run(self, folder: object, exit_status: object, host: object) -> bool:
        """Whether a run in ``folder`` that exited with ``exit_status`` on ``host`` is kept."""
        if self.folder is not None and folder != self.folder:
            return False
        if self.succeeded and (exit_status != 0 or exit_status is False):
            return False
        return self.host is None or host == self.host


def this_host() -> str:
    """The name this machine records its runs under (as the journal's ``"host"``)."""
    return os.uname().nodename


ANY_RUN = SearchFilters()


def past_commands(predictor: Predictor, filters: SearchFilters = ANY_RUN) -> list[str]:
    """Every distinct command the model keeps that ``filters`` allow, most recently run first."""
    records = people_only(list(predictor.journal.records()))  # an agent's runs, when asked
    runs = [str(record["c"]) for record in records if filters.keeps(record)]
    runs.reverse()
    if not predictor.index.trained_on_sample:
        if filters.active:
            runs.extend(
                command
                for command, context in corpus_runs(predictor)
                if filters.keeps_run(context.cwd, context.exit, context.host)
            )
        else:
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
    people = not agents_wanted()
    for chunk in reversed(predictor.index.corpus):
        # An agent's rows (a fold keeps them, with their agent) only when asked for.
        commands = decode_commands(bundle.get_model(chunk.name), chunk, source, not people)
        # Read whole once: kept in the cache, it would only crowd the segments out.
        bundle.evict(chunk.name)
        commands.reverse()
        # A command seen in a later chunk keeps its (more recent) place.
        seen.update(dict.fromkeys(commands))
    found = _corpus_commands[predictor] = list(seen)
    return found


def corpus_runs(predictor: Predictor) -> list[tuple[str, Context]]:
    """The distinct runs of the model's stored corpus that have a context on record (a folded
    journal record's folder, exit status, host), most recent first."""
    found = _corpus_runs.get(predictor)
    if found is not None:
        return found
    from aprender_shell.model.store.corpus import decode_chunk

    source = f"model {predictor.model_path}"
    bundle = predictor.bundle
    seen: dict[tuple[str, Context], None] = {}
    for chunk in reversed(predictor.index.corpus):
        entries = decode_chunk(bundle.get_model(chunk.name), chunk, source)
        bundle.evict(chunk.name)
        runs = [(e.command, e.context) for e in reversed(entries)
                if e.context is not None and (not ran_by_agent(e.context) or agents_wanted())]
        seen.update(dict.fromkeys(runs))
    found = _corpus_runs[predictor] = list(seen)
    return found


def ran_by_agent(context: Context | None) -> bool:
    """Whether a corpus row of ``context`` is an agent's run (a folded journal record)."""
    return context is not None and bool(context.agent)

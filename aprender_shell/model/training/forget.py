"""``aprender-shell forget``: take commands back from everything the tool keeps.

A forgotten command leaves the model (commands, successors, hot lists, n-grams, the recent and
most-used lists: the model is retrained from its stored corpus without it, keeping the history
marks, the n-gram size, the memory limit and the generation, so the journal stays valid), the
stored corpus and the journal; a running server drops it from what it learned in memory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aprender_shell.errors import UsageError
from aprender_shell.fileio import temp_path
from aprender_shell.model.learned.feedback import Feedback
from aprender_shell.model.learned.journal import Journal
from aprender_shell.model.learned.records import read_journal_commands, without_commands
from aprender_shell.model.memory import MemoryLimit
from aprender_shell.model.store.corpus import read_corpus
from aprender_shell.model.store.tables import open_model_bundle, read_index
from aprender_shell.model.training.train import train_model
from aprender_shell.model.training.writer import ModelWriter, writer

MATCH_MODES = ("exact", "contains", "regex")
MAX_PATTERN_CHARS = 4096

Matcher = Callable[[str], bool]


def command_matcher(pattern: str, mode: str = "exact") -> Matcher:
    """A test for the commands ``pattern`` names: the whole command (``exact``), a piece of it
    (``contains``) or a regular expression found anywhere in it (``regex``)."""
    if not pattern:
        raise UsageError("the pattern is empty: name the command (or part of it) to forget")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise UsageError(f"the pattern is longer than {MAX_PATTERN_CHARS} characters")
    if mode == "exact":
        return pattern.__eq__
    if mode == "contains":
        return lambda command: pattern in command
    if mode == "regex":
        from aprender_shell.history.patterns import PatternError, compile_pattern

        # RE2, not ``re``: a pattern such as (a+)+$ must not hang forget nor the server.
        try:
            compiled = compile_pattern(pattern)
        except PatternError as error:
            raise UsageError(
                f"{pattern[:60]!r} is not a regular expression RE2 can match ({error}): "
                "fix the pattern"
            ) from None
        return compiled.found_in
    raise UsageError(f"match mode must be one of {', '.join(MATCH_MODES)}, not {mode[:20]!r}")


@dataclass
class ForgetResult:
    """What ``forget`` found (and, unless a dry run, removed)."""

    commands: Counter[str] = field(default_factory=Counter)  # each matching command: how often
    from_corpus: int = 0
    from_journal: int = 0
    retrained: bool = False

    @property
    def removed(self) -> int:
        return self.from_corpus + self.from_journal


def forget(
    model_path: Path, matches: Matcher, dry_run: bool = False, journal: bool = True
) -> ForgetResult:
    """Remove every command ``matches`` accepts from the model at ``model_path``, its corpus
    and (with ``journal``) its journal; a dry run only counts them.

    A running server owns the journal while it runs: the caller passes ``journal=False`` and
    asks the server to forget, after this, so nothing it holds in memory is written back. A
    retrained model's journal is filtered all the same, in the same step as the model is put
    in place (a record of it may otherwise outlive the server's forget).

    The one writer of the model meanwhile (``writer``): a second ``forget`` starts from what
    this one leaves, and a model retrained meanwhile is never put back to the one read here.
    """
    if dry_run:
        return _forget(model_path, matches, None, journal)
    with writer(model_path) as w:
        result = _forget(model_path, matches, w, journal)
        if journal:  # with no server, the feedback file is ours too (learned/feedback.py)
            feedback = Feedback.beside(model_path)
            feedback.forget(matches)
            feedback.save()
        return result


def _forget(
    model_path: Path, matches: Matcher, w: ModelWriter | None, journal: bool
) -> ForgetResult:
    result = ForgetResult()
    with open_model_bundle(model_path, MemoryLimit.default().paging) as bundle:
        index = read_index(bundle, model_path)
        corpus = read_corpus(bundle, index, model_path)
    kept = []
    retrain = False
    for entry in corpus:
        if matches(entry.command):
            result.commands[entry.command] += 1
            result.from_corpus += 1
        elif entry.context is not None and entry.context.prev and matches(entry.context.prev):
            # Nor kept as what ran before another (the journal's records lose it alike).
            context = dataclasses.replace(entry.context, prev="")
            kept.append(dataclasses.replace(entry, context=context))
            retrain = True
        else:
            kept.append(entry)
    for command in read_journal_commands(model_path, index.generation):
        if matches(command):
            result.commands[command] += 1
            result.from_journal += 1
    if w is None:
        return result
    keep, change = without_commands(matches)
    staging = temp_path(model_path, "forget")
    retrain = retrain or bool(result.from_corpus)
    try:
        if retrain:
            marks = Journal(model_path, index.generation).read().marks
            train_model(
                kept,
                staging,
                ngram=index.ngram,
                memory_limit=MemoryLimit.choose(None, index.memory_limit),
                history_marks=index.history if marks is None else marks,
                source=index.source,
                generation=index.generation,
            )
        elif not (result.from_journal and journal):
            return result
        with w.replacing(index.generation, "forgetting") as state:
            if retrain:
                os.replace(staging, model_path)
                result.retrained = True
            records = [change(dict(record)) for record in state.records if keep(record)]
            unseen = [entry for entry in state.unseen if keep(entry)]  # folded, no history yet
            if records != state.records or unseen != state.unseen:
                Journal(model_path, index.generation).write(records, state.marks, unseen=unseen)
    finally:
        with contextlib.suppress(FileNotFoundError):
            staging.unlink()
    return result


def forget_recorded(model_path: Path, matches: Matcher) -> int:
    """Remove the commands ``matches`` accepts from the journal alone (for a server that could
    not be told); returns how many records went."""
    with writer(model_path) as w:
        generation = _generation_of(model_path)
        with w.replacing(generation, "forgetting") as state:
            keep, change = without_commands(matches)
            records = [change(dict(record)) for record in state.records if keep(record)]
            unseen = [entry for entry in state.unseen if keep(entry)]
            if records != state.records or unseen != state.unseen:
                Journal(model_path, generation).write(records, state.marks, unseen=unseen)
            return len(state.records) - len(records)


def _generation_of(model_path: Path) -> str:
    """The generation of the model at ``model_path`` (its journal is that generation's)."""
    with open_model_bundle(model_path, MemoryLimit.default().paging) as bundle:
        return read_index(bundle, model_path).generation

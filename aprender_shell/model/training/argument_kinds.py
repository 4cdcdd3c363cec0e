"""Learning argument kinds at ``train``: how often each position of the most used command
heads took a path, a host, a name or a word (see ``query.arguments`` for the kinds and how a
query reads them)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aprender_shell.history.spellings import is_subcommand
from aprender_shell.history.tokens import tokenize
from aprender_shell.model.query.arguments import (
    BARE,
    SLASHED,
    VALUES_PER_SLOT,
    arguments_in,
    head_start,
    program_ok,
    shape,
    simple_commands,
)
from aprender_shell.model.store.layout import (
    COUNTS,
    KINDS,
    MAX_HEAD_CHARS,
    MAX_HEADS,
    MAX_KIND_COUNT,
    PATH,
    POSITIONS,
    SLOT_SIZE,
    WORD,
)

# Training learns the kinds from this many most recent commands, whatever the history's size:
# habits change, and the cost stays bounded (what the shells record later is added live).
LEARNED_FROM = 100_000


def learn(commands: Iterable[tuple[str, int]]) -> dict[str, list[int]]:
    """The argument kinds of the most used heads, from distinct commands and their counts.

    A program takes subcommands when most of its uses go on with a lowercase word and its
    first argument is not often a path or a host; its heads are then the program and each
    subcommand. Slashed and bare words seen in two positions or more of one program are
    names; the other slashed words are paths, the other bare ones words (or paths, where
    paths go: at query).
    """
    uses: dict[str, int] = {}
    counts: dict[str, list[int]] = {}
    program_of: dict[str, str] = {}
    # per program: uses, uses going on with a lowercase word, and their distinct words
    with_word: dict[str, int] = {}
    # slot -> value -> weight, for the values whose kind the shared positions decide
    values: dict[tuple[str, int], dict[str, int]] = {}
    # Most words recur: each is judged once (bounded by the vocabulary, only while training).
    shapes: dict[str, int] = {}

    def shape_of(token: str) -> int:
        kinds = shapes.get(token, -1)
        if kinds < 0:
            kinds = shapes[token] = shape(token)
        return kinds

    for text, weight in commands:
        tokens = tokenize(text)
        for start, end in simple_commands(tokens):
            start = head_start(tokens, start, end)
            if start >= end or not program_ok(tokens[start]):
                continue
            program = tokens[start]
            heads = [(program, start + 1)]
            if start + 1 < end and is_subcommand(tokens[start + 1]):
                with_word[program] = with_word.get(program, 0) + weight
                heads.append((program + " " + tokens[start + 1], start + 2))
            for head, first in heads:
                uses[head] = uses.get(head, 0) + weight
                program_of[head] = program
                slots = counts.get(head)
                if slots is None:
                    slots = counts[head] = [0] * COUNTS
                for index, position, kinds in arguments_in(tokens, first, end, shape_of):
                    if not kinds:
                        continue
                    slot = min(position, POSITIONS) - 1
                    if kinds in (SLASHED, BARE):
                        token = tokens[index]
                        seen = values.get((head, slot))
                        if seen is None:
                            seen = values[(head, slot)] = {}
                        if token in seen or len(seen) < VALUES_PER_SLOT:
                            seen[token] = seen.get(token, 0) + weight
                            continue
                        kinds = PATH if kinds == SLASHED else WORD
                    base = slot * SLOT_SIZE
                    for offset, kind in enumerate(KINDS):
                        if kinds & kind:
                            slots[base + offset] += weight
    subcommands = {
        program
        for program, n in with_word.items()
        if n * 2 >= uses.get(program, 0) and not _mostly_places(counts[program])
    }

    def kept(head: str) -> bool:
        return " " not in head or program_of[head] in subcommands

    # Where a value shows up, in the positions of the heads that speak for its program.
    places: dict[tuple[str, str], int] = {}
    for place, ((head, _slot), seen) in enumerate(values.items()):
        if not kept(head) or (" " not in head and head in subcommands):
            continue
        program = program_of[head]
        for value in seen:
            key = (program, value)
            before = places.get(key)
            places[key] = place if before is None or before == place else -1
    for (head, slot), seen in values.items():
        slots = counts[head]
        program = program_of[head]
        base = slot * SLOT_SIZE
        for value, weight in seen.items():
            shared = places.get((program, value)) == -1
            if shared:
                slots[base + 2] += weight
            elif shapes[value] == SLASHED:
                slots[base] += weight
            else:
                slots[base + 3] += weight
    best = sorted((head for head in uses if kept(head) and len(head) <= MAX_HEAD_CHARS),
                  key=lambda head: (-uses[head], head))[:MAX_HEADS]
    return {head: _scaled(counts[head]) for head in best}


def _mostly_places(slots: Sequence[int]) -> bool:
    """Whether a program's first argument is a path or a host often enough that its bare
    words there are folders or host aliases (``cd src``, ``ssh db1``), not subcommands."""
    path, host, name, word = slots[:SLOT_SIZE]
    return (path + host) * 4 >= path + host + name + word > 0


def _scaled(slots: Sequence[int]) -> list[int]:
    """Counts within a byte each, in the same ratios (a count above 0 stays above 0)."""
    top = max(slots)
    if top <= MAX_KIND_COUNT:
        return list(slots)
    return [max(1, round(n * MAX_KIND_COUNT / top)) if n else 0 for n in slots]

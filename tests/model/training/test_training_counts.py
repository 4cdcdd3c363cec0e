"""The trained model holds exactly what a straightforward count of the history gives.

Training counts in bulk (weights from tables, pairs in one Counter, n-grams in plain dicts);
these tests recount each figure one command at a time, the plain way, and compare them with
every record of the bundle, so a faster count can never change an answer.
"""

from __future__ import annotations

import heapq
import math
import random
import struct
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from aprender_shell.bundle import PagedBundle, PagingConfig
from aprender_shell.history.formats import HistoryEntry
from aprender_shell.history.tokens import tokenize
from aprender_shell.model import scoring
from aprender_shell.model.memory import MemoryLimit
from aprender_shell.model.store.layout import END, SEP, START
from aprender_shell.model.store.segments import (
    CommandPayloads,
    CommandStats,
    SegmentView,
    Successor,
    encode_command_payload,
)
from aprender_shell.model.training.train import MAX_SUCCESSOR_CHARS, train_model
from benchmarks.sessions import generate_sessions

ODD = ["ls", "ls|wc -l", "echo 'a b' \"c\\\" d\"", "FOO=1 make x", "a&&b", "x >&2",
       "echo \u00e9 \u65e5", "tab\there", "a\x1fb", "((x++))", "ls"]


def _f32(value: float) -> float:
    result: float = struct.unpack("<f", struct.pack("<f", value))[0]
    return result


def _history() -> list[str]:
    rng = random.Random(8)
    commands = [s.command for s in generate_sessions(2500, seed=5, persona="ops")]
    for _ in range(300):  # odd lines among ordinary ones
        commands.insert(rng.randrange(len(commands)), rng.choice(ODD))
    return commands


def _entries(path: Path, prefix: str) -> list[bytes]:
    with PagedBundle.open(path, PagingConfig(max_memory=1 << 30)) as bundle:
        names = sorted(n for n in bundle.model_names() if n.startswith(prefix))
        return [bundle.get_model(name) for name in names]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path]:
    commands = _history()
    path = tmp_path_factory.mktemp("counts") / "model.apbundle"
    entries = [HistoryEntry(c, 1_700_000_000 + i) for i, c in enumerate(commands)]
    train_model(entries, path, ngram=3, memory_limit=MemoryLimit(256 * 1024))
    return commands, path


def test_command_records_match_a_plain_count(trained: tuple[list[str], Path]) -> None:
    commands, path = trained
    newest = len(commands) - 1
    stats: dict[str, list[float]] = {}
    following: dict[str, Counter[str]] = defaultdict(Counter)
    for position, command in enumerate(commands):
        figures = stats.setdefault(command, [0, 0, 0.0, 0.0])
        figures[0] += 1
        figures[1] = position
        figures[2] += math.exp(-(newest - position) / scoring.TAU_SHORT)
        figures[3] += math.exp(-(newest - position) / scoring.TAU_LONG)
        if position:
            following[commands[position - 1]][command] += 1
    seen = set()
    for data in _entries(path, "cmd/"):
        view = SegmentView(data)
        for index in range(view.count):
            record = view.command(index)
            count, last, short, long_ = stats[record.text]
            assert record.stats == (count, last, _f32(short), _f32(long_))
            eligible = [
                (text, n) for text, n in following[record.text].items()
                if len(text) <= MAX_SUCCESSOR_CHARS
            ]
            best = heapq.nlargest(
                scoring.SUCCESSORS_KEPT, eligible, key=lambda item: (item[1], stats[item[0]][1])
            )
            assert [(s.text, s.transitions) for s in record.successors] == best
            seen.add(record.text)
    assert seen == set(stats)


def test_ngram_records_match_a_plain_count(trained: tuple[list[str], Path]) -> None:
    commands, path = trained
    continuations: dict[str, Counter[str]] = defaultdict(Counter)
    for text, uses in Counter(commands).items():
        padded = [START, START] + tokenize(text) + [END]
        for position in range(2, len(padded)):
            for width in (1, 2):
                context = SEP.join(padded[position - width : position])
                continuations[context][padded[position]] += uses
    expected = {
        context: (sum(counter.values()), counter.most_common(scoring.NGRAM_CONTINUATIONS))
        for context, counter in continuations.items()
        if sum(counter.values()) >= 2 or SEP not in context
    }
    found = {}
    for data in _entries(path, "ngram/"):
        view = SegmentView(data)
        for index in range(view.count):
            found[view.key(index)] = view.ngram(index)
    assert found == expected


def test_payloads_packed_once_equal_payloads_packed_each_time() -> None:
    rng = random.Random(2)
    texts = [f"cmd {n} " + "x" * rng.randrange(40) for n in range(60)] + ["\u65e5 \U0001f600"]
    stats = {
        text: CommandStats(rng.randrange(1, 99), rng.randrange(10**6), rng.random(), rng.random())
        for text in texts
    }
    payloads = CommandPayloads(stats)
    for text in texts:
        successors = [(t, rng.randrange(1, 2**32)) for t in rng.sample(texts, rng.randrange(13))]
        expected = encode_command_payload(
            stats[text], [Successor(t, n, stats[t]) for t, n in successors]
        )
        assert payloads.encode(text, successors) == expected

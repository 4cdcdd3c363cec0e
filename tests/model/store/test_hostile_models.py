"""Models with valid checksums but hostile contents: one ``BundleError`` line, exit 1, bounded.

Found by crafting bundles (see ``hostile.py``): an index nested 100,000 deep raised
``RecursionError``; index fields of the wrong type a ``ValueError`` or ``KeyError``; a corpus
entry that is not zlib ``zlib.error``; and a zlib bomb made ``stats`` and ``update`` inflate
all of it. Each is tried through the real command line: ``suggest``, ``stats``, ``update``.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from aprender_shell.errors import BundleError
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.model.store.index import MODEL_VERSION, ModelIndex
from tests.model.hostile import (
    corpus_names,
    edit_index,
    read_index,
    rewrite,
    trained,
    zlib_bomb,
)

COMMANDS = (("suggest", "git "), ("stats",), ("update", "--history", "NEW"))


def aprender(model: Path, *args: str) -> subprocess.CompletedProcess[str]:
    args = tuple(str(NEW_HISTORY) if arg == "NEW" else arg for arg in args)
    return subprocess.run(
        [sys.executable, "-m", "aprender_shell", *args, "--model", str(model)],
        capture_output=True, text=True, timeout=120,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "retrain" in lines[0] or "upgrade" in lines[0], lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trained(tmp_path_factory.mktemp("hostile") / "model.apbundle")


@pytest.fixture
def model(tmp_path: Path, pristine: Path) -> Path:
    # A fresh copy per test: training once keeps the module quick on a shared machine.
    path = tmp_path / "model.apbundle"
    shutil.copyfile(pristine, path)
    return path


NEW_HISTORY = Path("/nonexistent")


@pytest.fixture
def history(private_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # `update` needs new commands to get as far as reading the corpus.
    path = private_home / ".bash_history"
    path.write_text("git status\nls -la\n")
    monkeypatch.setattr(sys.modules[__name__], "NEW_HISTORY", path)
    return path


def test_an_index_nested_100000_deep_is_one_line_for_every_command(
    model: Path, history: Path
) -> None:
    rewrite(model, {"index": b"[" * 100_000 + b"]" * 100_000})
    for command in COMMANDS:
        assert_one_line_error(aprender(model, *command), "nested too deeply")


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(index: dict[str, Any]) -> None:
        *parents, key = path.split(".")
        node = index
        for parent in parents:
            node = node[parent]
        node[key] = value

    return change


WRONG_FIELDS = {
    "ngram as text": _set("ngram", "3"),
    "ngram out of range": _set("ngram", 40),
    "total_commands negative": _set("total_commands", -1),
    "total_commands a bool": _set("total_commands", True),
    "novelty not a number": _set("novelty", math.nan),
    "novelty as a list": _set("novelty", [0.2]),
    "generation missing": lambda index: index.pop("generation"),
    "tables not an object": _set("tables", []),
    "a table missing": lambda index: index["tables"].pop("hot"),
    "starts and names of different lengths": _set("tables.cmd.starts", []),
    "a segment name the bundle lacks": _set("tables.cmd.names", ["cmd/9999/nothing"]),
    "starts out of order": lambda index: index["tables"]["cmd"]["starts"].reverse(),
    "corpus not a list": _set("corpus", "corpus/0000"),
    "recent holding numbers": _set("recent", [1, 2]),
    "top_commands malformed": _set("top_commands", [["git status"]]),
    "history marks malformed": _set("history", ["~/.bash_history"]),
    "memory limit far too small": _set("memory_limit", 1),
}


@pytest.mark.parametrize("change", WRONG_FIELDS.values(), ids=list(WRONG_FIELDS))
def test_index_fields_of_the_wrong_type_are_one_line(
    model: Path, change: Callable[[dict[str, Any]], object]
) -> None:
    index = read_index(model)
    assert len(index["tables"]["cmd"]["starts"]) > 1
    edit_index(model, change)
    with pytest.raises(BundleError, match="damaged index|not an aprender-shell model"):
        Predictor.open(model)
    assert_one_line_error(aprender(model, "suggest", "git "), "damaged index")


def test_every_command_refuses_a_wrong_field_in_one_line(model: Path, history: Path) -> None:
    edit_index(model, _set("ngram", "3"))
    for command in COMMANDS:
        assert_one_line_error(aprender(model, *command), "'ngram' must be an integer")


def test_a_newer_model_version_is_refused_with_what_to_do(model: Path) -> None:
    edit_index(model, _set("version", MODEL_VERSION + 1))
    line = assert_one_line_error(aprender(model, "suggest", "git "), "newer aprender-shell")
    assert f"model version {MODEL_VERSION + 1}" in line and "upgrade aprender-shell" in line


# 'update' reads the corpus only when it compacts the journal (tests/model/training/test_update.py):
# a damaged corpus is found by 'stats', which replays its last commands.
CORPUS_READERS = (("stats",),)


def test_a_corpus_entry_that_is_not_zlib_is_one_line(model: Path, history: Path) -> None:
    rewrite(model, {name: b"not zlib at all" for name in corpus_names(model)})
    assert aprender(model, "suggest", "git ").returncode == 0  # queries never read the corpus
    assert aprender(model, *COMMANDS[2]).returncode == 0  # nor does update, until it compacts
    for command in CORPUS_READERS:
        assert_one_line_error(aprender(model, *command), "not zlib")


def test_a_corpus_entry_holding_other_json_is_one_line(model: Path, history: Path) -> None:
    import zlib

    raw = json.dumps({"rows": [["git status", 1]]}).encode()
    name = corpus_names(model)[-1]
    rewrite(model, {name: zlib.compress(raw)})
    edit_index(model, lambda index: index["corpus"][-1].update(raw_size=len(raw)))
    for command in CORPUS_READERS:
        assert_one_line_error(aprender(model, *command), "not a JSON list")


def peak_rss_kib(model: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run the command line and return its result and the peak resident memory it reached."""
    program = (
        "import atexit, sys\n"
        "def report():\n"
        "    status = open('/proc/self/status').read()\n"
        "    sys.stderr.write('HWM ' + status.split('VmHWM:')[1].split()[0] + '\\n')\n"
        "atexit.register(report)\n"
        "from aprender_shell.__main__ import main\n"
        "sys.argv = ['aprender-shell'] + sys.argv[1:]\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program, *args, "--model", str(model)],
        capture_output=True, text=True, timeout=300,
    )
    lines = result.stderr.splitlines()
    peak = int(lines[-1].split()[1])
    result.stderr = "\n".join(lines[:-1]) + "\n"
    return result, peak


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_a_zlib_bomb_in_the_corpus_is_refused_within_its_declared_size(
    model: Path, history: Path
) -> None:
    bomb = zlib_bomb(512)  # 512 MiB of zeros in about 0.5 MB
    assert len(bomb) < 1 << 20
    rewrite(model, {corpus_names(model)[-1]: bomb})
    for command in CORPUS_READERS:
        result, peak_kib = peak_rss_kib(model, *command)
        assert_one_line_error(result, "does not inflate to the")
        # Refused after inflating at most what the index declared (a few KB), not 512 MiB.
        assert peak_kib < 128 * 1024, f"{command} peaked at {peak_kib} KiB"


def test_a_version_1_corpus_is_still_bounded(model: Path, history: Path) -> None:
    def as_version_1(index: dict[str, Any]) -> None:
        index["version"] = 1
        index["corpus"] = [chunk["name"] for chunk in index["corpus"]]
        for key in ("source", "tuning"):
            index.pop(key, None)

    edit_index(model, as_version_1)
    assert aprender(model, "stats").returncode == 0  # an honest version 1 model still works
    rewrite(model, {corpus_names(model)[-1]: zlib_bomb(64)})
    result, peak_kib = peak_rss_kib(model, "stats")
    assert_one_line_error(result, "does not inflate to the")
    assert peak_kib < 128 * 1024


def test_garbage_segments_with_valid_checksums_are_one_line(model: Path) -> None:
    names = read_index(model)["tables"]["cmd"]["names"]
    rewrite(model, {name: bytes(range(256)) * 8 for name in names})
    assert_one_line_error(aprender(model, "suggest", "git "), "corrupt")


def test_the_index_round_trips_and_upgrades_version_1(model: Path) -> None:
    raw = read_index(model)
    index = ModelIndex.from_dict(raw)
    assert ModelIndex.from_json(index.to_json()) == index
    assert index.to_dict() == raw
    raw.update(version=1, corpus=[chunk["name"] for chunk in raw["corpus"]])
    raw.pop("source")
    upgraded = ModelIndex.from_dict(raw)
    assert [chunk.name for chunk in upgraded.corpus] == [chunk.name for chunk in index.corpus]
    assert not any(chunk.exact for chunk in upgraded.corpus)
    assert upgraded.source == "sample"  # version 1 recorded no history file: the sample


def test_a_history_mark_with_wrong_fields_is_one_line_for_update(
    model: Path, history: Path
) -> None:
    edit_index(model, _set("history", [{"path": str(history), "size": "big", "offset": []}]))
    assert aprender(model, "suggest", "git ").returncode == 0  # queries never read the marks
    assert_one_line_error(aprender(model, "update"), "history mark")


@pytest.mark.parametrize("pairs", [
    b"{not json", b"[" * 100_000, b'{"a": 1}', b'[["git add -A", "x", "many", []]]',
    b'[["a", "b", 3, [["c", -1]]]]', b'[["a", "b", 3, [["c", true]]]]',
])
def test_a_damaged_pairs_entry_is_one_line(model: Path, pairs: bytes) -> None:
    # The two-command sequence is read at the first query with two previous commands.
    rewrite(model, {"pairs": pairs})
    done = subprocess.run(
        [sys.executable, "-m", "aprender_shell", "suggest", "", "--prev", "git status",
         "--prev", "git add -A", "--model", str(model)],
        capture_output=True, text=True, timeout=120,
    )
    assert_one_line_error(done, "corrupt")
    # without two previous commands the model answers as before
    assert aprender(model, "suggest", "git ").returncode == 0


@pytest.mark.parametrize("exits", [
    b"{not json", b"[" * 100_000, b'{"a": 1}', b'[["sl", 127]]', b'[["sl"]]', b'[[1, true]]',
])
def test_a_damaged_exits_entry_is_one_line(model: Path, exits: bytes) -> None:
    # The commands whose last run failed, as of training: read when the model is opened.
    rewrite(model, {"exits": exits})
    assert_one_line_error(aprender(model, "suggest", "git "), "exits entry is damaged")

"""The memory limit covers what opening a model holds: a model declaring far more segments than
its limit can index is refused before its manifest is read, in one line, within the limit."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from aprender_shell.bundle import BundleBuilder, BundleConfig, Compression, ModelBundle
from aprender_shell.bundle.format import HEADER
from tests.model.hostile import trained
from tests.model.store.test_hostile_models import assert_one_line_error, peak_rss_kib

SEGMENTS = 100_000
LIMIT_MB = 16


def crafted(path: Path) -> Path:
    """A real model whose command table is stretched to ``SEGMENTS`` segments, each a copy of
    its last real one under a later first key: valid checksums, a valid index."""
    whole = ModelBundle.load(path)
    index = json.loads(whole.get_model("index"))
    table = index["tables"]["cmd"]
    last = whole.get_model(table["names"][-1])
    builder = BundleBuilder(path).with_config(BundleConfig(compression=Compression.NONE))
    for name in whole.model_names():
        if name != "index":
            builder.add_model(name, whole.get_model(name))
    for number in range(SEGMENTS):
        name = f"cmd/x{number:06d}"
        builder.add_model(name, last)
        table["starts"].append(f"~{number:06d}")
        table["names"].append(name)
    builder.add_model("index", json.dumps(index).encode())
    builder.build()
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("segments")
    plain = trained(folder / "plain.apbundle")
    stretched = crafted(trained(folder / "crafted.apbundle"))
    return plain, stretched


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
@pytest.mark.parametrize(
    "command",
    [["suggest", "git "], ["stats"], ["forget", "--regex", "^git", "--dry-run"]],
    ids=["suggest", "stats", "forget"],
)
def test_a_model_with_100000_segments_is_refused_within_the_limit(
    models: tuple[Path, Path], command: list[str]
) -> None:
    plain, stretched = models
    limit = ["--memory-limit", str(LIMIT_MB)] if command[0] != "forget" else []
    ok, base_kib = peak_rss_kib(plain, *command, *limit)
    assert ok.returncode == 0, ok.stderr
    refused, peak_kib = peak_rss_kib(stretched, *command, *limit)
    # What the crafted model costs beyond the same command on a real model stays under the
    # limit (before, its index and manifest held about 70 MB more under a 16 MB limit).
    assert (peak_kib - base_kib) * 1024 < LIMIT_MB << 20, (peak_kib, base_kib)
    assert_one_line_error(refused, "manifest", "memory limit")


def test_the_manifest_bound_train_checks_covers_what_it_writes(tmp_path: Path) -> None:
    from aprender_shell.bundle.format import manifest_bound

    model = trained(tmp_path / "model.apbundle")
    head = model.read_bytes()[: HEADER.size]
    _, _, manifest_length = struct.unpack("<8sII", head)
    names = ModelBundle.load(model).model_names()
    assert len(names) > 5
    assert manifest_length <= manifest_bound(names) <= 2 * manifest_length


def test_train_refuses_a_model_its_own_limit_could_not_open(tmp_path: Path) -> None:
    """Long distinct commands at the smallest limit make thousands of small segments."""
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    history = tmp_path / "history"
    with open(history, "w") as handle:
        for i in range(14000):
            handle.write(f"cmd{i % 500} id{i} "
                         + " ".join(f"{words[(i + j) % 8]}{j}" for j in range(200)) + "\n")
    model = tmp_path / "model.apbundle"
    done = subprocess.run(
        [sys.executable, "-m", "aprender_shell", "train", "--history", str(history),
         "--model", str(model), "--memory-limit", "0.125"],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert "too many to index" in line and "--memory-limit" in line
    assert not model.exists()

"""A streaming ``BundleBuilder``: the same file as the in-memory one, without holding the
entries (they wait in a private file beside the bundle, removed once written)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from aprender_shell.bundle import BundleBuilder, BundleConfig, BundleError, Compression, PagedBundle
from aprender_shell.fileio import remove_stale_temps, temporaries_of

from .conftest import entry_data

SIZES = {"index": 300, "cmd/0000/git": 70_000, "empty": 0, "ngram/0000": 5_000, "x": 1}


def _build(path: Path, compression: Compression, streaming: bool) -> BundleBuilder:
    builder = BundleBuilder(path).with_config(BundleConfig(compression=compression))
    if streaming:
        builder.streaming()
    for name, size in SIZES.items():
        builder.add_model(name, entry_data(name, size))
    return builder


@pytest.mark.parametrize("compression", list(Compression))
def test_a_streamed_bundle_is_the_in_memory_builders_file_byte_for_byte(
    tmp_path: Path, compression: Compression
) -> None:
    held = _build(tmp_path / "held.apbundle", compression, streaming=False)
    streamed = _build(tmp_path / "streamed.apbundle", compression, streaming=True)
    assert streamed.model_names() == held.model_names() == list(SIZES)
    assert streamed.total_size == held.total_size and len(streamed) == len(held)
    held.build()
    streamed.build()
    written = (tmp_path / "streamed.apbundle").read_bytes()
    assert written == (tmp_path / "held.apbundle").read_bytes()
    with PagedBundle.open(tmp_path / "streamed.apbundle") as paged:
        assert paged.get_model("cmd/0000/git") == entry_data("cmd/0000/git", 70_000)


def test_streaming_holds_only_the_manifest_and_its_spill_is_private_then_gone(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.apbundle"
    entry = 64 * 1024
    added = 64  # 4 MiB of entries
    for streaming, within in ((True, 256 * 1024), (False, None)):
        builder = BundleBuilder(path)
        if streaming:
            builder.streaming()
        tracemalloc.start()
        try:
            for number in range(added):
                builder.add_model(f"cmd/{number:04d}", os.urandom(entry))
            held, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        if within is not None:
            assert held < within, f"a streaming builder held {held} bytes of 4 MiB added"
            [spill] = temporaries_of(path)
            assert stat.S_IMODE(spill.stat().st_mode) == 0o600
        else:
            assert held > added * entry  # the in-memory builder, for scale
        builder.build()
        assert temporaries_of(path) == []
        with PagedBundle.open(path) as paged:
            assert len(paged.model_names()) == added


def test_a_closed_builder_leaves_nothing_and_refuses_to_go_on(tmp_path: Path) -> None:
    path = tmp_path / "m.apbundle"
    builder = BundleBuilder(path).streaming().add_model("a", b"1")
    with pytest.raises(BundleError, match="config is chosen before"):
        builder.with_config(BundleConfig(compression=Compression.ZLIB))
    builder.close()
    assert temporaries_of(path) == [] and not path.exists()
    with pytest.raises(BundleError, match="already built or closed"):
        builder.add_model("b", b"2")
    with pytest.raises(BundleError, match="streams from its first entry"):
        BundleBuilder(path).add_model("a", b"1").streaming()


def test_the_spill_of_a_killed_builder_goes_with_the_next_writer(tmp_path: Path) -> None:
    path = tmp_path / "m.apbundle"
    child = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, os\n"
            "from aprender_shell.bundle import BundleBuilder\n"
            "b = BundleBuilder(sys.argv[1]).streaming().add_model('a', b'x' * 1000)\n"
            "print('added', flush=True)\n"
            "sys.stdin.read()\n"
        ), str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert child.stdout is not None and child.stdout.readline() == "added\n"
    [spill] = temporaries_of(path)
    assert remove_stale_temps(tmp_path) == []  # its writer lives: kept
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert remove_stale_temps(tmp_path) == [spill]
    assert temporaries_of(path) == []

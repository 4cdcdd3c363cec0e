"""Writing and reading bundles: round trips, the documented byte layout, atomic private writes."""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path

import pytest

from aprender_shell.bundle import (
    ALIGNMENT,
    BundleBuilder,
    BundleConfig,
    BundleError,
    Compression,
    EntryNotFoundError,
    ModelBundle,
    PagedBundle,
)
from aprender_shell.bundle import builder as builder_module

from .conftest import entry_data, make_bundle

SIZES = {"encoder": 500, "decoder": 500, "classifier": 300, "empty": 0, "big": 70_000}


@pytest.mark.parametrize("compression", list(Compression))
def test_round_trip_whole_and_paged(tmp_path: Path, compression: Compression) -> None:
    path = tmp_path / "m.apbundle"
    models = make_bundle(path, SIZES, compression)
    whole = ModelBundle.load(path)
    assert whole.model_names() == list(SIZES)
    assert {name: whole.get_model(name) for name in SIZES} == models
    assert len(whole) == len(SIZES) and "encoder" in whole and "nope" not in whole
    assert whole.total_size == sum(SIZES.values())
    with PagedBundle.open(path) as paged:
        assert paged.model_names() == list(SIZES)
        assert {name: paged.model_size(name) for name in SIZES} == SIZES
        assert {name: paged.get_model(name) for name in SIZES} == models


def test_layout_matches_format_md(tmp_path: Path) -> None:
    path = tmp_path / "m.apbundle"
    models = make_bundle(path, {"a": 10, "b": 100, "c": 0, "d": 1})
    raw = path.read_bytes()
    magic, version, length = struct.unpack_from("<8sII", raw)
    assert (magic, version) == (b"APBUNDLE", 1)
    manifest = json.loads(raw[16 : 16 + length].decode("utf-8"))
    assert manifest["model_count"] == 4
    previous_end = 16 + length
    for record in manifest["models"]:
        data = models[record["name"]]
        assert record["offset"] % ALIGNMENT == 0 and record["offset"] >= previous_end
        assert record["offset"] - previous_end < ALIGNMENT  # no more padding than alignment needs
        assert raw[previous_end : record["offset"]] == bytes(record["offset"] - previous_end)
        stored = raw[record["offset"] : record["offset"] + record["size"]]
        assert stored == data and record["raw_size"] == len(data)
        assert record["compression"] == "none"
        assert record["checksum"] == zlib.crc32(stored)
        previous_end = record["offset"] + record["size"]
    assert len(raw) == previous_end


def test_zlib_entries_store_a_zlib_stream_and_skip_incompressible_data(tmp_path: Path) -> None:
    path = tmp_path / "z.apbundle"
    noise = os.urandom(2000)
    builder = BundleBuilder(path).with_config(BundleConfig(compression="zlib"))  # type: ignore[arg-type]
    builder.add_model("text", b"abc" * 1000).add_model("noise", noise).build()
    raw = path.read_bytes()
    length = struct.unpack_from("<I", raw, 12)[0]
    records = {r["name"]: r for r in json.loads(raw[16 : 16 + length])["models"]}
    text = records["text"]
    stored = raw[text["offset"] : text["offset"] + text["size"]]
    assert text["compression"] == "zlib" and text["size"] < text["raw_size"] == 3000
    assert zlib.decompress(stored) == b"abc" * 1000 and text["checksum"] == zlib.crc32(stored)
    assert records["noise"]["compression"] == "none"
    assert ModelBundle.load(path).get_model("noise") == noise


def test_save_of_model_bundle_and_unicode_names(tmp_path: Path) -> None:
    bundle = ModelBundle()
    bundle.add_model("héllo/ñ 🐚", b"x" * 65)
    bundle.add_model("plain", b"")
    path = tmp_path / "u.apbundle"
    bundle.save(path, BundleConfig(compression=Compression.ZLIB))
    loaded = ModelBundle.load(path)
    assert loaded.get_model("héllo/ñ 🐚") == b"x" * 65 and loaded.model_size("plain") == 0


def test_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "m.apbundle"
    make_bundle(path, {"a": 1})
    assert path.stat().st_mode & 0o777 == 0o600


def test_builder_refuses_bad_input(tmp_path: Path) -> None:
    builder = BundleBuilder(tmp_path / "m.apbundle").add_model("a", b"1")
    with pytest.raises(BundleError, match="already has an entry named 'a'"):
        builder.add_model("a", b"2")
    with pytest.raises(BundleError, match="non-empty"):
        builder.add_model("", b"2")
    with pytest.raises(BundleError, match="must be bytes"):
        builder.add_model("s", "text")  # type: ignore[arg-type]
    with pytest.raises(BundleError, match="unknown compression 'lzma'"):
        BundleConfig(compression="lzma")  # type: ignore[arg-type]
    with pytest.raises(BundleError, match="level"):
        BundleConfig(level=12)


def test_missing_entry_is_a_one_line_bundle_error(tmp_path: Path) -> None:
    path = tmp_path / "m.apbundle"
    make_bundle(path, {"a": 1})
    with pytest.raises(EntryNotFoundError) as caught:
        ModelBundle.load(path).get_model("b")
    assert str(caught.value) == "the bundle has no entry named 'b'"
    with PagedBundle.open(path) as paged, pytest.raises(KeyError, match="no entry named 'b'"):
        paged.get_model("b")


def _old_bundle(path: Path) -> bytes:
    make_bundle(path, {"old": 1000, "other": 10})
    return path.read_bytes()


def _assert_only_old_remains(path: Path, old: bytes) -> None:
    assert path.read_bytes() == old
    assert ModelBundle.load(path).get_model("old") == entry_data("old", 1000)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_crash_while_writing_entries_keeps_the_old_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "models" / "m.apbundle"
    old = _old_bundle(path)
    real_write = builder_module._write_entry
    written: list[str] = []

    def write_then_crash(handle, position, entry, packed):  # type: ignore[no-untyped-def]
        if len(written) == 2:
            raise OSError(28, "No space left on device")
        written.append(entry.name)
        return real_write(handle, position, entry, packed)

    monkeypatch.setattr(builder_module, "_write_entry", write_then_crash)
    builder = BundleBuilder(path)
    for number in range(5):
        builder.add_model(f"new{number}", b"n" * 5000)
    with pytest.raises(OSError, match="(?i)no space") as raised:
        builder.build()
    assert raised.value.errno == 28
    assert written == ["new0", "new1"]
    _assert_only_old_remains(path, old)


def test_crash_at_rename_keeps_the_old_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "models" / "m.apbundle"
    old = _old_bundle(path)

    def failing_replace(src: object, dst: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="Input/output"):
        BundleBuilder(path).add_model("new", b"n" * 100).build()
    monkeypatch.undo()
    _assert_only_old_remains(path, old)

"""Damaged and hostile files: always one clear BundleError, never a traceback, hang or huge read."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aprender_shell.bundle import BundleError, ModelBundle, PagedBundle

from .conftest import make_bundle

GOOD_SIZES = {"a": 100, "b": 70, "c": 0, "d": 5}


def good_bundle(tmp_path: Path) -> bytes:
    path = tmp_path / "good.apbundle"
    make_bundle(path, GOOD_SIZES)
    return path.read_bytes()


def load_all(path: Path) -> None:
    """Read ``path`` both ways, touching every entry."""
    whole = ModelBundle.load(path)
    for name in whole.model_names():
        whole.get_model(name)
    with PagedBundle.open(path) as paged:
        for name in paged.model_names():
            paged.get_model(name)


def assert_rejected(path: Path, *fragments: str) -> str:
    messages = []
    for reader in (ModelBundle.load, PagedBundle.open):
        with pytest.raises(BundleError) as caught:
            result = reader(path)
            if isinstance(result, PagedBundle):
                with result:
                    for name in result.model_names():
                        result.get_model(name)
        message = str(caught.value)
        assert "\n" not in message and message
        for fragment in fragments:
            assert fragment in message
        messages.append(message)
    return messages[0]


def with_manifest(raw: bytes, edit: Callable[[dict[str, Any]], object]) -> bytes:
    """``raw`` with its manifest replaced by ``edit(manifest)``; the entries stay in place."""
    length = struct.unpack_from("<I", raw, 12)[0]
    manifest = json.loads(raw[16 : 16 + length])
    data_start = -(-(16 + length) // 64) * 64
    result = edit(manifest)
    text = result if isinstance(result, bytes) else json.dumps(manifest, separators=(",", ":"))
    text = text if isinstance(text, bytes) else text.encode()
    assert 16 + len(text) <= data_start, "edit made the manifest overrun the first entry"
    head = raw[:12] + struct.pack("<I", len(text)) + text
    return head.ljust(data_start, b"\0") + raw[data_start:]


def test_the_good_bundle_loads(tmp_path: Path) -> None:
    path = tmp_path / "x.apbundle"
    path.write_bytes(good_bundle(tmp_path))
    load_all(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "x.apbundle"
    path.write_bytes(b"")
    assert_rejected(path, "is empty")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert_rejected(tmp_path / "nothing.apbundle", "no bundle at")
    with pytest.raises(BundleError, match="not a regular file"):
        PagedBundle.open(tmp_path)
    with pytest.raises(BundleError, match="is a directory, not a regular file"):
        ModelBundle.load(tmp_path)


def test_truncation_at_every_length_is_reported(tmp_path: Path) -> None:
    raw = good_bundle(tmp_path)
    path = tmp_path / "x.apbundle"
    for length in range(len(raw)):
        path.write_bytes(raw[:length])
        message = assert_rejected(path)
        if length >= 8:
            assert "truncated" in message or "is empty" in message, (length, message)


def test_wrong_magic(tmp_path: Path) -> None:
    path = tmp_path / "x.apbundle"
    path.write_bytes(b"PK\x03\x04" + good_bundle(tmp_path)[4:])
    assert_rejected(path, "not an aprender-shell bundle")


def test_newer_version_asks_for_an_upgrade(tmp_path: Path) -> None:
    raw = bytearray(good_bundle(tmp_path))
    struct.pack_into("<I", raw, 8, 2)
    path = tmp_path / "x.apbundle"
    path.write_bytes(bytes(raw))
    assert_rejected(path, "version 2", "newer aprender-shell", "upgrade")


def test_version_zero(tmp_path: Path) -> None:
    raw = bytearray(good_bundle(tmp_path))
    struct.pack_into("<I", raw, 8, 0)
    path = tmp_path / "x.apbundle"
    path.write_bytes(bytes(raw))
    assert_rejected(path, "invalid bundle format version 0")


@pytest.mark.parametrize("length", [2**32 - 1, 64 * 1024 * 1024 + 1])
def test_huge_manifest_length_is_refused_before_allocating(tmp_path: Path, length: int) -> None:
    raw = bytearray(good_bundle(tmp_path))
    struct.pack_into("<I", raw, 12, length)
    path = tmp_path / "x.apbundle"
    path.write_bytes(bytes(raw))
    assert_rejected(path, "manifest length")


def test_manifest_length_past_the_end(tmp_path: Path) -> None:
    raw = bytearray(good_bundle(tmp_path))
    struct.pack_into("<I", raw, 12, len(raw))
    path = tmp_path / "x.apbundle"
    path.write_bytes(bytes(raw))
    assert_rejected(path, "truncated", "manifest")


def _set(key: str, value: object, entry: int | None = 0) -> Callable[[dict[str, Any]], None]:
    def edit(manifest: dict[str, Any]) -> None:
        target = manifest if entry is None else manifest["models"][entry]
        target[key] = value

    return edit


def _drop(key: str, entry: int | None = 0) -> Callable[[dict[str, Any]], None]:
    def edit(manifest: dict[str, Any]) -> None:
        (manifest if entry is None else manifest["models"][entry]).pop(key)

    return edit


def _duplicate_name(manifest: dict[str, Any]) -> None:
    manifest["models"][1]["name"] = manifest["models"][0]["name"]


def _overlap(manifest: dict[str, Any]) -> None:
    manifest["models"][1]["offset"] = manifest["models"][0]["offset"]


MANIFEST_DAMAGE: dict[str, tuple[Callable[[dict[str, Any]], object], str]] = {
    "broken json": (lambda m: b'{"model_count": 4, "models": [', "not valid JSON"),
    "not utf-8": (lambda m: b'{"model_count":0,"models":[],"\xff":1}', "not valid JSON"),
    "nan": (lambda m: b'{"model_count": NaN, "models": []}', "not valid JSON"),
    "duplicate key": (lambda m: b'{"model_count":0,"model_count":0,"models":[]}', "duplicate"),
    "not an object": (lambda m: b"[1, 2, 3]", "not a JSON object"),
    "models missing": (_drop("models", None), "no 'models' list"),
    "count missing": (_drop("model_count", None), "'model_count' must be an integer"),
    "count disagrees": (_set("model_count", 3, None), "model_count says 3"),
    "count is text": (_set("model_count", "4", None), "must be an integer"),
    "count is bool": (_set("model_count", True, None), "must be an integer"),
    "entry not object": (lambda m: m["models"].__setitem__(0, 7), "not a JSON object"),
    "name missing": (_drop("name"), "has no name"),
    "name empty": (_set("name", ""), "has no name"),
    "name not text": (_set("name", 12), "has no name"),
    "offset missing": (_drop("offset"), "'offset' must be an integer"),
    "offset float": (_set("offset", 64.0), "'offset' must be an integer"),
    "offset negative": (_set("offset", -64), "out of range"),
    "offset past end": (_set("offset", 1 << 40), "ends at byte"),
    "offset misaligned": (_set("offset", 0x1C1), "not 64-byte aligned"),
    "offset in manifest": (_set("offset", 0), "inside the header or manifest"),
    "size negative": (_set("size", -1), "out of range"),
    "size huge": (_set("size", 10**30), "out of range"),
    "size past end": (_set("size", 5000, 3), "ends at byte"),
    "raw_size differs": (_set("raw_size", 99), "raw_size differs"),
    "checksum missing": (_drop("checksum"), "'checksum' must be an integer"),
    "checksum too big": (_set("checksum", 2**32), "out of range"),
    "unknown compression": (_set("compression", "zstd"), "upgrade aprender-shell"),
    "duplicate names": (_duplicate_name, "appears twice"),
    "overlapping entries": (_overlap, "overlap"),
}


@pytest.mark.parametrize("damage", sorted(MANIFEST_DAMAGE))
def test_damaged_manifest(tmp_path: Path, damage: str) -> None:
    edit, fragment = MANIFEST_DAMAGE[damage]
    path = tmp_path / "x.apbundle"
    path.write_bytes(with_manifest(good_bundle(tmp_path), edit))
    assert_rejected(path, fragment)


def test_corrupt_zlib_entry_is_a_bundle_error(tmp_path: Path) -> None:
    from aprender_shell.bundle import Compression

    path = tmp_path / "z.apbundle"
    make_bundle(path, {"text": 3000}, Compression.ZLIB)
    raw = path.read_bytes()

    def lie_about_size(manifest: dict[str, Any]) -> None:
        manifest["models"][0]["raw_size"] = 10**12  # a zlib bomb claim: must not allocate it

    path.write_bytes(with_manifest(raw, lie_about_size))
    with pytest.raises(BundleError, match="inflates to a different size"):
        ModelBundle.load(path)


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                HealthCheck.function_scoped_fixture])


def _read_or_reject(path: Path) -> None:
    try:
        load_all(path)
    except BundleError as error:
        assert str(error) and "\n" not in str(error)


@FUZZ
@given(data=st.binary(max_size=600))
def test_fuzz_random_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.apbundle"
    path.write_bytes(b"APBUNDLE" + data if data[:1] == b"\x00" else data)
    _read_or_reject(path)


@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1,
                      max_size=6),
       cut=st.one_of(st.none(), st.integers(0, 10**6)))
def test_fuzz_mutated_bundle(tmp_path: Path, edits: list[tuple[int, int]], cut: int | None) -> None:
    raw = bytearray(GOOD_RAW)
    for position, value in edits:
        raw[position % len(raw)] = value
    if cut is not None:
        del raw[cut % len(raw) :]
    path = tmp_path / "fuzz.apbundle"
    path.write_bytes(bytes(raw))
    _read_or_reject(path)


def _good_raw() -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return good_bundle(Path(folder))


GOOD_RAW = _good_raw()


def test_a_zlib_entry_claiming_the_largest_raw_size_is_a_bundle_error(tmp_path: Path) -> None:
    # raw_size may be 2**63 - 1 by the format; inflating must not overflow a C size
    import json
    import struct

    from aprender_shell.bundle import BundleBuilder, BundleConfig, BundleError, Compression
    from aprender_shell.bundle import ModelBundle as Loader

    path = tmp_path / "big-claim.apbundle"
    BundleBuilder(path).with_config(BundleConfig(compression=Compression.ZLIB)).add_model(
        "text", b"abc" * 1000
    ).build()
    raw = path.read_bytes()
    length = struct.unpack_from("<I", raw, 12)[0]
    manifest = json.loads(raw[16 : 16 + length])
    assert manifest["models"][0]["compression"] == "zlib"
    entry = manifest["models"][0]
    stored = raw[entry["offset"] : entry["offset"] + entry["size"]]
    entry["raw_size"] = 2**63 - 1
    text = json.dumps(manifest, separators=(",", ":")).encode()
    entry["offset"] = -(-(16 + len(text) + 8) // 64) * 64  # room for the offset's own digits
    text = json.dumps(manifest, separators=(",", ":")).encode()
    head = raw[:12] + struct.pack("<I", len(text)) + text
    path.write_bytes(head.ljust(entry["offset"], b"\0") + stored)
    with pytest.raises(BundleError):
        Loader.load(path)

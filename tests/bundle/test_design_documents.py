"""The design document's API runs as written: its Rust calls, translated to Python, work here.

Every ``PagingConfig::new()...`` and ``BundleConfig::new()...`` chain of the two documents in
``docs/design/`` is extracted and translated mechanically
(``X::new()`` is ``X()``, ``A::B`` is ``A.B``, comments dropped) and evaluated; the document's
other calls are written out below in the same order as there. Rust methods without arguments
that read a figure (``stats.hit_rate()``) are Python properties (``stats.hit_rate``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aprender_shell.bundle import (
    BundleBuilder,
    BundleConfig,
    Compression,
    EntryTooLargeError,
    EvictionStrategy,
    ModelBundle,
    PagedBundle,
    PagingConfig,
)
from aprender_shell.errors import BundleError

DESIGN = Path(__file__).resolve().parents[2] / "docs" / "design"
DOCUMENTS = (DESIGN / "model-bundling-paging.md", DESIGN / "bundle-trace-demo.md")
CHAIN_START = re.compile(r"\b(PagingConfig|BundleConfig)::new\(\)")


def _balanced(text: str, start: int) -> int:
    """The position just after the parenthesis group opening at ``start``."""
    depth = 0
    for position in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[position], 0)
        if depth == 0:
            return position + 1
    raise AssertionError(f"unbalanced call at {text[start:start + 40]!r}")


def documented_chains() -> list[str]:
    """Each configuration chain of the document, translated to a Python expression."""
    text = "\n".join(document.read_text(encoding="utf-8") for document in DOCUMENTS)
    text = re.sub(r"//[^\n]*", "", text)
    chains = []
    for match in CHAIN_START.finditer(text):
        parts = [f"{match.group(1)}()"]
        position = match.end()
        while True:
            call = re.compile(r"\s*\.(\w+)\(").match(text, position)
            if call is None:
                break
            end = _balanced(text, call.end() - 1)
            arguments = text[call.end() : end - 1].replace("::", ".")
            parts.append(f".{call.group(1)}({arguments})")
            position = end
        chains.append("".join(parts))
    return chains


CHAINS = documented_chains()


def test_the_document_has_the_chains_the_issue_names() -> None:
    assert len(CHAINS) >= 9
    assert "PagingConfig().with_max_memory(1024).with_prefetch(false)" in CHAINS
    assert any(".with_eviction(EvictionStrategy.LFU)" in chain for chain in CHAINS)
    assert any(".with_compression(false)" in chain for chain in CHAINS)
    assert any(".with_page_size(4096)" in chain for chain in CHAINS)


@pytest.mark.parametrize("chain", CHAINS)
def test_each_documented_configuration_runs_as_written(chain: str) -> None:
    namespace = {
        "PagingConfig": PagingConfig,
        "BundleConfig": BundleConfig,
        "EvictionStrategy": EvictionStrategy,
        "false": False,
        "true": True,
    }
    config = eval(chain, namespace)  # noqa: S307 - the document's own text, translated
    assert isinstance(config, (PagingConfig, BundleConfig))


def test_builder_style_and_keywords_give_equal_configs() -> None:
    built = (
        PagingConfig()
        .with_max_memory(10_000_000)
        .with_page_size(4096)
        .with_prefetch(True)
        .with_prefetch_count(2)
        .with_eviction(EvictionStrategy.LRU)
    )
    assert built == PagingConfig(
        max_memory=10_000_000, page_size=4096, prefetch=True, prefetch_count=2,
        eviction=EvictionStrategy.LRU,
    )
    assert PagingConfig().max_memory == 10_000_000  # the document's default, "max_memory: 10MB"
    config = BundleConfig().with_compression(False).with_max_memory(10_000_000)
    assert config == BundleConfig(compression=Compression.NONE, max_memory=10_000_000)
    assert BundleConfig(compression=True).compression is Compression.ZLIB
    assert BundleConfig().with_compression(True) == BundleConfig(compression="zlib")
    assert BundleConfig().with_compression(False).compression is Compression.NONE


def test_builder_style_values_are_checked_like_keywords() -> None:
    with pytest.raises(BundleError, match="max_memory"):
        PagingConfig().with_max_memory(0)
    with pytest.raises(BundleError, match="page_size"):
        PagingConfig().with_page_size(100)
    with pytest.raises(BundleError, match="prefetch must be True or False"):
        PagingConfig().with_prefetch("yes")  # type: ignore[arg-type]
    with pytest.raises(BundleError, match="eviction"):
        PagingConfig().with_eviction("LRU")  # type: ignore[arg-type]
    with pytest.raises(BundleError, match="unknown compression"):
        BundleConfig().with_compression("lzma")
    with pytest.raises(BundleError, match="max_memory"):
        BundleConfig().with_max_memory(-1)
    base = PagingConfig()
    base.with_max_memory(1024)
    assert base.max_memory == 10_000_000  # each with_* returns a new config


def test_the_documented_walk_through_the_api(tmp_path: Path) -> None:
    path = tmp_path / "models.apbundle"
    encoder, decoder, classifier = b"e" * 4000, b"d" * 3000, b"c" * 2000
    # Quick Start and BundleBuilder
    BundleBuilder(path).add_model("encoder", encoder).add_model("decoder", decoder).add_model(
        "classifier", classifier
    ).with_config(BundleConfig().with_compression(False).with_max_memory(10_000_000)).build()
    paged = PagedBundle.open(path, PagingConfig().with_max_memory(10_000_000))
    assert paged.get_model("encoder") == encoder
    # ModelBundle
    bundle = ModelBundle()
    bundle.add_model("model1", b"weights")
    bundle.save(tmp_path / "path.apbundle")
    assert ModelBundle.load(tmp_path / "path.apbundle").get_model("model1") == b"weights"
    # Pre-fetching
    config = PagingConfig().with_prefetch(True).with_prefetch_count(2)
    with PagedBundle.open(path, config) as bundle_paged:
        assert bundle_paged.prefetch_hint("classifier")
        assert bundle_paged.is_cached("classifier")
    # PagedBundle
    with PagedBundle.open(path, PagingConfig().with_max_memory(10_000_000)) as paged_api:
        assert paged_api.get_model("decoder") == decoder
        assert paged_api.is_cached("decoder")
        assert paged_api.evict("decoder") and not paged_api.is_cached("decoder")
        paged_api.get_model("encoder")
        paged_api.clear_cache()
        assert not paged_api.is_cached("encoder")
        # Paging Statistics
        stats = paged_api.stats()
        assert (stats.hits, stats.misses, stats.evictions) == (0, 2, 0)
        assert f"{stats.hit_rate * 100.0:.1f}" == "0.0" and stats.memory_used == 0
    paged.close()


def test_a_bundle_built_for_a_limit_refuses_an_entry_that_could_never_be_paged(
    tmp_path: Path,
) -> None:
    builder = BundleBuilder(tmp_path / "small.apbundle").with_config(
        BundleConfig().with_max_memory(1024)
    )
    builder.add_model("fits", bytes(1024)).add_model("too-big", bytes(1025))
    with pytest.raises(EntryTooLargeError, match="'too-big' holds 1025 bytes"):
        builder.build()
    assert not (tmp_path / "small.apbundle").exists()

"""Small real bundles in tmp_path for the bundle tests."""

from __future__ import annotations

from pathlib import Path

from aprender_shell.bundle import BundleBuilder, BundleConfig, Compression


def entry_data(name: str, size: int) -> bytes:
    """Deterministic, entry-specific bytes, so a mix-up between entries is always visible."""
    seed = name.encode("utf-8") + b":"
    return (seed * (size // len(seed) + 1))[:size]


def make_bundle(
    path: Path,
    sizes: dict[str, int],
    compression: Compression = Compression.NONE,
) -> dict[str, bytes]:
    """Write a bundle of entries of the given sizes at ``path``; returns name -> data."""
    models = {name: entry_data(name, size) for name, size in sizes.items()}
    builder = BundleBuilder(path).with_config(BundleConfig(compression=compression))
    for name, data in models.items():
        builder.add_model(name, data)
    builder.build()
    return models

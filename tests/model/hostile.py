"""Crafting models whose checksums are valid but whose contents are hostile.

Each helper trains a real model, then rewrites chosen entries through ``BundleBuilder``, so
every entry's CRC-32 matches its bytes: only the model layer's own checks stand in the way.
The index is edited as raw JSON, so the same crafts apply to any version of the index.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aprender_shell.bundle import BundleBuilder, BundleConfig, Compression, ModelBundle
from aprender_shell.history.formats import HistoryEntry
from aprender_shell.model.training.train import train_model

# Enough distinct commands for every table to need several segments.
COMMANDS = [
    "git status",
    "git add .",
    "git commit -m fix",
    "git push",
    "ls -la",
    "make test",
    "docker ps",
] * 20 + [f"tool{n % 40} --option-{n} path/to/file-{n % 97}.txt" for n in range(4000)]


def trained(path: Path, commands: Sequence[str] = COMMANDS) -> Path:
    train_model([HistoryEntry(command, 1_700_000_000 + n) for n, command in enumerate(commands)],
                path)
    return path


def rewrite(path: Path, entries: dict[str, bytes]) -> Path:
    """Replace (or add) ``entries`` of the bundle at ``path``, keeping every other entry."""
    whole = ModelBundle.load(path)
    builder = BundleBuilder(path).with_config(BundleConfig(compression=Compression.NONE))
    for name in whole.model_names():
        builder.add_model(name, entries.pop(name, whole.get_model(name)))
    for name, data in entries.items():
        builder.add_model(name, data)
    builder.build()
    return path


def read_index(path: Path) -> dict[str, Any]:
    document = json.loads(ModelBundle.load(path).get_model("index"))
    assert isinstance(document, dict)
    return document


def edit_index(path: Path, change: Callable[[dict[str, Any]], object]) -> Path:
    index = read_index(path)
    change(index)
    return rewrite(path, {"index": json.dumps(index).encode()})


def corpus_names(path: Path) -> list[str]:
    return [name for name in ModelBundle.load(path).model_names() if name.startswith("corpus/")]


def zlib_bomb(megabytes: int) -> bytes:
    """A zlib stream of ``megabytes`` MiB of zero bytes, built without holding them."""
    packer = zlib.compressobj(9)
    block = bytes(1 << 20)
    parts = [packer.compress(block) for _ in range(megabytes)]
    parts.append(packer.flush())
    return b"".join(parts)


def nested(depth: int) -> bytes:
    return b'{"format":"aprender-shell-model","version":1,"x":' + b"[" * depth + b"]" * depth + b"}"

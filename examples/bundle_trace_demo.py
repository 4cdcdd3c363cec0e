"""Walk through the .apbundle library: build a bundle, load it whole, then page it at 1 KB.

Run ``python examples/bundle_trace_demo.py [path]``; the bundle goes to a temporary folder
(or ``path``) and is removed afterwards. To watch the paging happen at the system-call level:
``strace -c -e trace=openat,read,pread64 python examples/bundle_trace_demo.py``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from aprender_shell.bundle import (
    BundleBuilder,
    BundleConfig,
    Compression,
    EvictionStrategy,
    ModelBundle,
    PagedBundle,
    PagingConfig,
)

MODELS = [("encoder", 500), ("decoder", 500), ("classifier", 300)]
MEMORY_LIMIT = 1024


def demo(path: Path) -> None:
    print("1. Building a bundle of three models (no compression)")
    builder = BundleBuilder(path).with_config(BundleConfig(compression=Compression.NONE))
    for number, (name, size) in enumerate(MODELS):
        builder.add_model(name, bytes([number + 1]) * size)
    builder.build()
    print(f"   - Wrote {path.name}: {path.stat().st_size} bytes")
    print()

    print("2. Loading the whole bundle")
    whole = ModelBundle.load(path)
    for name in whole.model_names():
        print(f"   - {name}: {whole.model_size(name)} bytes")
    print(f"   - Total: {len(whole)} models, {whole.total_size} bytes")
    print()

    print(f"3. Paging the bundle with a {MEMORY_LIMIT}-byte memory limit (prefetch off)")
    config = PagingConfig(max_memory=MEMORY_LIMIT, prefetch=False, eviction=EvictionStrategy.LRU)
    with PagedBundle.open(path, config) as paged:
        for name, _ in MODELS:
            print()
            print(f"   Accessing {name}...")
            data = paged.get_model(name)
            stats = paged.stats()
            print(f"   - Loaded {name}: {len(data)} bytes")
            print(f"   - Cached: {stats.cached_count}, Memory used: {stats.memory_used} bytes")
        stats = paged.stats()
    print()
    print("   Paging Statistics:")
    print(f"   - Hits: {stats.hits}")
    print(f"   - Misses: {stats.misses}")
    print(f"   - Evictions: {stats.evictions}")
    print(f"   - Hit rate: {stats.hit_rate:.1%}")
    print(f"   - Total bytes loaded: {stats.total_bytes_loaded}")


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        path = Path(argv[1])
        try:
            demo(path)
        finally:
            path.unlink(missing_ok=True)
        return 0
    folder = Path(tempfile.mkdtemp(prefix="apbundle-demo-"))
    try:
        demo(folder / "models.apbundle")
    finally:
        shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

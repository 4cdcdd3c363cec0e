"""Walk through the .apbundle library: build a bundle, load it whole, then page it at 1 KB.

Prints the walkthrough of docs/design/bundle-trace-demo.md line for line, every figure read
from the library's own objects. Run ``python examples/bundle_trace_demo.py [path]``; the bundle
goes to a temporary folder (or ``path``) and is removed afterwards. To watch the paging at the
system-call level: ``strace -e trace=openat,read,pread64 python examples/bundle_trace_demo.py``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from aprender_shell.bundle import (
    BundleBuilder,
    BundleConfig,
    ModelBundle,
    PagedBundle,
    PagingConfig,
)

MODELS = [("encoder", 500), ("decoder", 500), ("classifier", 300)]
MEMORY_LIMIT = 1024


def demo(path: Path) -> None:
    print("=== Model Bundling and Memory Paging Demo ===")
    print()
    print(f"1. Creating bundle with {len(MODELS)} models...")
    builder = BundleBuilder(path).with_config(BundleConfig().with_compression(False))
    for number, (name, size) in enumerate(MODELS):
        builder.add_model(name, bytes([number + 1]) * size)
        print(f"   - {name.capitalize()}: {size} bytes")
    builder.build()
    print(f"   Bundle created with {len(builder)} models")
    print(f"   Total size: {builder.total_size} bytes")
    print()

    print("2. Loading bundle into memory...")
    whole = ModelBundle.load(path)
    print(f"   Loaded {len(whole)} models:")
    for name in whole.model_names():
        print(f"   - {name}: {whole.model_size(name)} bytes")
    print()

    print(f"3. Loading with memory paging (limited to {MEMORY_LIMIT // 1024}KB)...")
    config = PagingConfig().with_max_memory(MEMORY_LIMIT).with_prefetch(False)
    with PagedBundle.open(path, config) as paged:
        print(f"   Memory limit: {paged.memory_limit} bytes")
        print(f"   Initially cached: {paged.stats().cached_count} models")
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

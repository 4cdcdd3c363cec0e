"""Bundle paging costs, measured side by side: a cached hit against a dict lookup, and a miss
(evict, then ``get_model`` with its CRC-32 check) against a plain ``read()`` of the same bytes.

``python -m benchmarks.bundle [--quick]``. Ratios above 1.0 mean the bundle is slower.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import BinaryIO, Callable

from aprender_shell.bundle import BundleBuilder, PagedBundle, PagingConfig

FULL_SIZES = [1 << 10, 16 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20]
QUICK_SIZES = [1 << 10, 16 << 10, 256 << 10]


def label(size: int) -> str:
    """``1K``, ``256K``, ``16M``: the size the table rows are named by."""
    return f"{size >> 20}M" if size >= 1 << 20 else f"{size >> 10}K"


def best_per_call(action: Callable[[], object], calls: int, rounds: int) -> float:
    """The fastest of ``rounds`` runs of ``calls`` calls, in seconds per call."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            action()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def run(sizes: list[int], rounds: int, out: Callable[[str], None] = print) -> None:
    """Build a bundle of one entry per size in a temporary folder and print both tables."""
    with tempfile.TemporaryDirectory(prefix="apbundle-bench-") as folder:
        path = Path(folder) / "bench.apbundle"
        builder = BundleBuilder(path)
        for size in sizes:
            builder.add_model(label(size), os.urandom(size))
        builder.build()
        config = PagingConfig(max_memory=2 * max(sizes), prefetch=False)
        # buffering=0: the plain read is one read() system call, the fairest comparison.
        with PagedBundle.open(path, config) as bundle, open(path, "rb", buffering=0) as plain:
            out(f"aprender-shell bundle benchmark (Python {sys.version.split()[0]},"
                f" zlib {zlib.ZLIB_RUNTIME_VERSION}; best of {rounds} rounds)")
            out("")
            _hits(bundle, rounds, out)
            out("")
            _misses(bundle, plain, sizes, rounds, out)


def _hits(bundle: PagedBundle, rounds: int, out: Callable[[str], None]) -> None:
    name = bundle.model_names()[0]
    table = {name: bundle.get_model(name)}
    calls = 20_000
    lookup = best_per_call(lambda: table[name], calls, rounds)
    hit = best_per_call(lambda: bundle.get_model(name), calls, rounds)
    out("Cached hit: PagedBundle.get_model on a cached entry vs a plain dict lookup")
    out(f"  {'dict lookup':<26}{lookup * 1e9:>10.0f} ns")
    out(f"  {'PagedBundle.get_model':<26}{hit * 1e9:>10.0f} ns   ratio {hit / lookup:.1f}x")


def _misses(
    bundle: PagedBundle, plain: BinaryIO, sizes: list[int], rounds: int,
    out: Callable[[str], None],
) -> None:
    out("Miss: evict + get_model (pread + CRC-32 check) vs plain read() of the same bytes")
    out(f"  {'size':>5}  {'read MB/s':>10}  {'miss MB/s':>10}  {'ratio':>6}  {'crc32 MB/s':>10}"
        f"  {'ratio less crc':>14}")
    for size in sizes:
        read_time, miss_time, crc_time = _measure_miss(bundle, plain, label(size), rounds)
        mbps = [size / seconds / 1e6 for seconds in (read_time, miss_time, crc_time)]
        ratio, without_crc = miss_time / read_time, max(miss_time - crc_time, 0.0) / read_time
        out(f"  {label(size):>5}  {mbps[0]:>10.0f}  {mbps[1]:>10.0f}  {ratio:>5.2f}x"
            f"  {mbps[2]:>10.0f}  {without_crc:>13.2f}x")
    out("  Reads come from the page cache, faster than zlib.crc32 here: verifying the CRC-32")
    out("  is most of a large miss ('ratio less crc' subtracts the time of crc32 alone).")


def _measure_miss(
    bundle: PagedBundle, plain: BinaryIO, name: str, rounds: int
) -> tuple[float, float, float]:
    """Seconds per plain read, per miss and per CRC-32 of entry ``name``."""
    size = bundle.model_size(name)
    offset = bundle._entries[name].offset
    calls = max(3, min(2000, (32 << 20) // size))

    def plain_read() -> bytes:
        plain.seek(offset)
        return plain.read(size)

    def miss() -> bytes:
        bundle.evict(name)
        return bundle.get_model(name)

    data = plain_read()
    return (
        best_per_call(plain_read, calls, rounds),
        best_per_call(miss, calls, rounds),
        best_per_call(lambda: zlib.crc32(data), calls, rounds),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes only, fewer rounds")
    args = parser.parse_args(argv)
    if args.quick:
        run(QUICK_SIZES, rounds=2)
    else:
        run(FULL_SIZES, rounds=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The bundle trace demo prints the design document's walkthrough; paging is visible to strace."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "bundle_trace_demo.py"
DOCUMENT = ROOT / "docs" / "design" / "bundle-trace-demo.md"


def documented_output() -> str:
    """The "Example Output" block of the design document, exactly."""
    section = DOCUMENT.read_text(encoding="utf-8").split("## Example Output", 1)[1]
    block = section.split("```", 2)[1]
    return block.split("\n", 1)[1]  # without the fence's own line

EXPECTED_TAIL = """\
   Accessing classifier...
   - Loaded classifier: 300 bytes
   - Cached: 2, Memory used: 800 bytes

   Paging Statistics:
   - Hits: 0
   - Misses: 3
   - Evictions: 1
   - Hit rate: 0.0%
   - Total bytes loaded: 1300
"""


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*args, sys.executable, str(DEMO)], capture_output=True, text=True, timeout=120, check=True
    )


def test_demo_prints_the_documented_walkthrough_line_for_line() -> None:
    expected = documented_output().splitlines()
    got = run_demo().stdout.splitlines()
    assert len(expected) == 37
    for number, (want, line) in enumerate(zip(expected, got), 1):
        assert line == want, f"line {number}"
    assert len(got) == len(expected)


def test_demo_output_ends_with_the_documented_statistics() -> None:
    output = run_demo().stdout
    assert output.endswith(EXPECTED_TAIL)
    assert "   Accessing encoder...\n   - Loaded encoder: 500 bytes\n" in output
    assert "   - Cached: 1, Memory used: 500 bytes\n" in output
    assert "   Accessing decoder...\n   - Loaded decoder: 500 bytes\n" in output
    assert "   - Cached: 2, Memory used: 1000 bytes\n" in output
    for name, size in (("encoder", 500), ("decoder", 500), ("classifier", 300)):
        assert f"   - {name}: {size} bytes\n" in output


def test_demo_writes_to_a_given_path_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "demo.apbundle"
    result = subprocess.run(
        [sys.executable, str(DEMO), str(target)], capture_output=True, text=True, timeout=120,
        check=True,
    )
    assert result.stdout.endswith(EXPECTED_TAIL) and not target.exists()


PREAD = re.compile(r'pread64\((\d+), "(.*?)"(?:\.\.\.)?, (\d+), (\d+)\) = (\d+)')


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_strace_shows_one_pread_per_miss_of_exactly_the_entry_size() -> None:
    trace = run_demo("strace", "-f", "-e", "trace=pread64", "-s", "16").stderr
    calls = [match.groups() for match in PREAD.finditer(trace)]
    header = next(i for i, call in enumerate(calls) if call[1].startswith("APBUNDLE"))
    fd = calls[header][0]
    bundle_reads = [(int(size), int(got)) for call_fd, _, size, _, got in calls[header:]
                    if call_fd == fd]
    # header, manifest, then one read per miss: encoder, decoder, classifier — nothing else
    assert [size for size, _ in bundle_reads[:1] + bundle_reads[2:]] == [16, 500, 500, 300]
    assert all(size == got for size, got in bundle_reads) and len(bundle_reads) == 5

"""History reading is bounded per line: a line over the cap is skipped, counted and never
decoded, so one huge line costs training about its own bytes, not several times them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aprender_shell.history.formats import parse_history

MAX_LINE_BYTES = 16 * 1024  # the cap the README states
COMMANDS = ["git status", "ls -la", "make test", "git push"] * 50
LONG = 48 << 20  # the 200 MB line, smaller to spare a shared machine; same cost per byte

# Runs `train` in a child and prints that child's peak resident size (ru_maxrss, KiB).
PEAK = """
import json, resource, subprocess, sys
done = subprocess.run([sys.executable, "-m", "aprender_shell", *sys.argv[1:]],
                      capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"code": done.returncode, "out": done.stdout, "err": done.stderr,
                  "peak": peak}))
"""


def train_peak(history: Path, model: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PEAK, "train", "--history", str(history), "--model", str(model)],
        capture_output=True, text=True, timeout=600, check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    assert result["code"] == 0, result["err"]
    return result


@pytest.mark.parametrize("fmt", ["zsh", "bash", "fish"])
def test_a_line_over_the_cap_is_skipped_and_counted(fmt: str) -> None:
    long = "echo " + "x" * MAX_LINE_BYTES
    if fmt == "fish":
        lines = [f"- cmd: {c}\n  when: {1700000000 + n}\n" for n, c in
                 enumerate(["ls", long, "git status"])]
    elif fmt == "zsh":
        lines = [f": {1700000000 + n}:0;{c}\n" for n, c in enumerate(["ls", long, "git status"])]
    else:
        lines = ["#1700000000\n", "ls\n", "#1700000001\n", long + "\n", "git status\n"]
    data = "".join(lines).encode()
    assert [e.command for e in parse_history(data, fmt)] == ["ls", "git status"]
    just_fits = "echo " + "y" * (MAX_LINE_BYTES - 5)
    assert [e.command for e in parse_history(f"ls\n{just_fits}\n".encode(), "bash")] == [
        "ls", just_fits]


def test_one_huge_line_costs_train_about_its_bytes_and_is_reported(tmp_path: Path) -> None:
    plain = tmp_path / "plain_history"
    plain.write_text("\n".join(COMMANDS) + "\n")
    huge = tmp_path / "huge_history"
    with open(huge, "w") as handle:
        handle.write("\n".join(COMMANDS[:100]) + "\n")
        handle.write("echo " + "a" * LONG + "\n")
        handle.write("\n".join(COMMANDS[100:]) + "\n")
    base = train_peak(plain, tmp_path / "plain.apbundle")
    with_line = train_peak(huge, tmp_path / "huge.apbundle")
    extra = int(str(with_line["peak"])) - int(str(base["peak"]))
    # The file is read whole (it is under the 256 MB history cap); the line itself adds nothing
    # more: before the cap it was decoded, split and copied, about 4 times its size.
    assert extra < 1.5 * LONG, f"{extra / LONG:.2f}x the line's size"
    assert "Skipped 1 history line over 16 KB" in str(with_line["out"])
    assert "Unique commands: 4" in str(with_line["out"])

"""The fill-key benchmark: one small run in real bash and fish."""

from __future__ import annotations

import pytest

from benchmarks.fill_key import run
from tests.integration.shells import require


@pytest.mark.slow
def test_a_small_run_times_each_shell_and_finds_what_it_keeps() -> None:
    require("bash")
    require("fish")
    lines: list[str] = []
    run(presses=3, out=lines.append)
    rows = {line.split("  p50")[0].strip(): line for line in lines if "p50" in line}
    assert "bash" in rows and "fish, relay" in rows, lines
    # bash keeps its relay running; fish keeps nothing.
    assert "beside the shell: 0.0 MB" not in rows["bash"]
    assert rows["fish, relay"].endswith("beside the shell: 0.0 MB")

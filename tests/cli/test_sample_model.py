"""A model trained on the packaged sample says so, and gives way to the user's own commands.

End to end, as a new user meets it: ``train`` with no history at all, ``stats``, then commands
recorded through ``suggest --batch`` (as the shell hook records them), then ``suggest``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from aprender_shell.model.query.predictor import SAMPLE_GIVES_WAY_AFTER
from aprender_shell.paths import default_model_path

# Commands of this user; the sample knows none of them, and it knows many starting with "g".
OWN = ["gradle build", "go test ./...", "gcloud auth list", "grep -rn TODO src"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aprender_shell", *args],
        input=stdin, capture_output=True, text=True, timeout=120,
    )


def suggested(prefix: str) -> list[str]:
    result = run("suggest", prefix, "-k", "5")
    assert result.returncode == 0, result.stderr
    return [line.split("\t")[0] for line in result.stdout.splitlines()]


def record(commands: list[str]) -> list[Any]:
    lines = "".join(json.dumps({"record": command, "exit": 0}) + "\n" for command in commands)
    result = run("suggest", "--batch", stdin=lines)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_the_sample_model_says_so_and_gives_way_to_the_users_commands() -> None:
    trained = run("train")
    assert trained.returncode == 0, trained.stderr
    assert "training on the packaged sample history" in trained.stdout
    assert default_model_path().exists()

    stats = run("stats")
    assert stats.returncode == 0, stats.stderr
    assert "Trained on:      the packaged sample history, not yours" in stats.stdout
    # The weights in words, and every line of them that speaks of a history names the sample.
    weights = _weights_part(stats.stdout)
    assert weights[0].startswith("🎛  How suggestions are scored")
    assert not {"mu", "kappa", "tau_recent", "recycle"} & set(" ".join(weights).split())
    assert all("the sample history" in line for line in weights if "history" in line)
    assert not any("your" in line for line in weights)
    # What it saved opens stats, and says whose suggestions they are.
    assert "the sample model's suggestions, not yet your history's" in stats.stdout.splitlines()[0]
    before = suggested("g")
    assert len(before) == 5 and not set(before) & set(OWN)  # the quick start shows something

    # The first commands of the user's own rank above everything the sample knows.
    assert record(OWN[:2]) == [{"ok": True}] * 2
    first = suggested("g")
    assert sorted(first[:2]) == sorted(OWN[:2]), first
    assert len(first) == 5  # the sample still fills the rest, for now

    # After enough of them, the sample's suggestions are gone.
    more = (OWN * SAMPLE_GIVES_WAY_AFTER)[: SAMPLE_GIVES_WAY_AFTER - 2]
    assert record(more) == [{"ok": True}] * len(more)
    final = suggested("g")
    assert sorted(final) == sorted(OWN), final
    assert suggested("git") == []  # only the sample ever ran git

    # A model trained on the user's own history never says it is the sample's.
    history = Path.home() / ".bash_history"
    history.write_text("".join(command + "\n" for command in OWN * 3))
    assert run("train").returncode == 0
    own_stats = run("stats").stdout
    assert "Trained on" not in own_stats
    assert "sample" not in " ".join(_weights_part(own_stats))
    assert own_stats.splitlines()[0].endswith("What it saved you (from your shells):")
    assert suggested("gi") == []  # the sample history is not part of it


def _weights_part(stats: str) -> list[str]:
    """The lines of ``stats`` from the weights' heading to the next blank line."""
    lines = stats.splitlines()
    start = next(i for i, line in enumerate(lines) if "How suggestions are scored" in line)
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]

"""CI enforces what the README asks of every change: ruff, mypy (strict) and the whole suite."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def commands() -> list[str]:
    return [line.strip() for line in CI.splitlines() if line.strip().startswith("python3 -m ")]


def test_ci_installs_the_dev_tools_then_runs_ruff_mypy_and_the_suite_in_that_order() -> None:
    found = commands()
    assert any("pip install" in line and "'.[dev]'" in line for line in found)
    checks = [line for line in found if "pip install" not in line]
    assert checks == ["python3 -m ruff check .", "python3 -m mypy", "python3 -m pytest -q"]
    assert "set -euo pipefail" in CI  # any failure, pytest's "no tests collected" (5) too, fails


def test_mypy_is_strict_over_the_package() -> None:
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = config.split("[tool.mypy]", 1)[1].split("\n[", 1)[0]
    assert "strict = true" in section
    assert 'files = ["aprender_shell", "benchmarks"]' in section


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None,
                    reason="ruff is not installed (pip install -e '.[dev]')")
def test_ruff_is_clean() -> None:
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ci_installs_shellcheck_and_checks_every_bash_script_before_the_suite() -> None:
    assert "shellcheck" in CI.split("for tool in", 1)[1].split(";", 1)[0]
    lines = [line.strip() for line in CI.splitlines()]
    assert "shellcheck shell/*.bash" in lines
    assert lines.index("shellcheck shell/*.bash") < lines.index("python3 -m pytest -q")


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_the_bash_scripts_are_shellcheck_clean() -> None:
    scripts = sorted(str(path) for path in (ROOT / "shell").glob("*.bash"))
    assert scripts
    done = subprocess.run(["shellcheck", *scripts], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ci_installs_syncthing_for_the_real_transport_tests() -> None:
    # tests/sync/transports runs two real Syncthing instances; in CI a missing one fails them.
    tools = CI.split("for tool in", 1)[1].split(";", 1)[0].split()
    assert "syncthing" in tools


def test_ci_installs_fzf_for_the_ctrl_r_tests() -> None:
    # Ctrl-R opens fzf when it is installed; without it the fzf half of test_ctrl_r.py fails in CI.
    tools = CI.split("for tool in", 1)[1].split(";", 1)[0].split()
    assert "fzf" in tools

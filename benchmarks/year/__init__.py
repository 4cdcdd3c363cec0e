"""``python -m benchmarks.year``: a year of use in a regular install (scenario.py), driving an
installed aprender-shell (installed.py)."""

from __future__ import annotations

from benchmarks.year.scenario import main, run

__all__ = ["main", "run"]

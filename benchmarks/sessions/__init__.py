"""Synthetic shell sessions with the structure of real use, for tuning and benchmarks.

A simulated user runs workflows (edit-test-commit loops, branch work, searches, containers,
remote hosts) chosen Markov-style from the previous one; each workflow is a sequence of steps,
some optional. The vocabulary drifts (new branches, files, tickets, projects, pod names), a
long tail of one-off commands keeps a fifth or so of the lines new, typos are followed by the
corrected command, and time runs in bursts within sessions, with breaks and nights between.

``python -m benchmarks.sessions`` rewrites the shipped sample history.
"""


from __future__ import annotations

from benchmarks.sessions.personas import generate_sessions
from benchmarks.sessions.simulator import PERSONAS, CommandLike, SessionCommand
from benchmarks.sessions.writers import (
    sample_history_file,
    sample_sessions,
    write_bash_history,
    write_fish_history,
    write_sample_history,
    write_zsh_history,
)

__all__ = [
    "PERSONAS",
    "CommandLike",
    "SessionCommand",
    "generate_sessions",
    "sample_history_file",
    "sample_sessions",
    "write_bash_history",
    "write_fish_history",
    "write_sample_history",
    "write_zsh_history",
]

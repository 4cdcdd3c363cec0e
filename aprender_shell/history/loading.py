"""The history a command learns from: the files given, else the user's own found where the
shells keep them, read and marked, merged in time order; the packaged sample when there are
none."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from aprender_shell.history.formats import HistoryEntry


class Histories(NamedTuple):
    """What ``read_histories`` read."""

    entries: list[HistoryEntry]  # oldest first
    marks: list[dict[str, Any]]  # each file's mark (what was read), none for the sample
    files: list[Path]  # the files read: the packaged sample's alone when ``sample``
    sample: bool  # the user has no history: the packaged sample was read instead


def read_histories(paths: Sequence[Path]) -> Histories:
    """The entries of ``paths``, or of the history files found when none are given."""
    from aprender_shell.history.files import find_history_files, read_history, sample_history_path
    from aprender_shell.history.marks import read_and_mark

    files = find_history_files(list(paths))
    if not files:
        sample = sample_history_path()
        return Histories(read_history(sample), [], [sample], True)
    entries: list[HistoryEntry] = []
    marks = []
    for path in files:
        found, mark = read_and_mark(path)
        entries.extend(found)
        marks.append(mark.to_dict())
    if len(files) > 1 and all(entry.timestamp is not None for entry in entries):
        # Several shells' histories, merged in the order the commands were run.
        entries.sort(key=lambda entry: entry.timestamp or 0)
    return Histories(entries, marks, files, False)

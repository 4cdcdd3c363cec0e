"""Training's count of where, in which shell and how well each command ran (store/runs.py).

Only entries with a context count (the shells' records, kept in the corpus through folds); a
history file's lines have none, and a model trained on them alone gets neither table.
"""

from __future__ import annotations

import heapq
import json
import os
from collections import Counter
from collections.abc import Iterable

from aprender_shell.history.formats import HistoryEntry
from aprender_shell.limits import INTERRUPTED, SHELLS
from aprender_shell.model.store.runs import (
    MAX_FOLDER_COMMAND_CHARS,
    MAX_PER_FOLDER,
    encode_folder_payload,
    encode_runs_payload,
)

_SUCCEEDED, _FAILED = len(SHELLS), len(SHELLS) + 1


def predecessors(entries: Iterable[HistoryEntry]) -> list[str | None] | None:
    """What ran before each entry in its own shell, where a context says (two shells at once
    interleave their commands), else the entry before it; None when no context says (the
    sequence alone then: a history file)."""
    said = False
    found: list[str | None] = []
    before: str | None = None
    for entry in entries:
        context = entry.context
        if context is not None and context.prev is not None:
            prev: str | None = context.prev
            said = True
        else:
            prev = before
        found.append(prev or None)  # "": nothing ran before it in its shell
        before = entry.command
    return found if said else None


Records = list[tuple[str, bytes]]


def run_records(entries: Iterable[HistoryEntry]) -> tuple[Records, Records, Records]:
    """The sorted ``dir``, ``run`` and ``host`` records of ``entries`` (oldest first)."""
    here = os.uname().nodename  # as the overlay tells this host's runs (learned/overlay.py)
    hosts: dict[str, list[int]] = {}
    folders: dict[str, Counter[str]] = {}
    # The position of each command's last run in its folder: among equal counts the most
    # recent is kept, as the overlay would have kept it.
    last: dict[tuple[str, str], int] = {}
    runs: dict[str, list[int]] = {}
    for position, entry in enumerate(entries):
        context = entry.context
        if context is None:
            continue
        command = entry.command
        host = hosts.get(command)
        if host is None:
            host = hosts[command] = [0, 0]
        host[0] += 1
        if context.host and context.host != here:
            host[1] += 1
        if context.cwd and len(command) <= MAX_FOLDER_COMMAND_CHARS:
            counter = folders.get(context.cwd)
            if counter is None:
                counter = folders[context.cwd] = Counter()
            counter[command] += 1
            last[context.cwd, command] = position
        shell, status = context.shell, context.exit
        if shell in SHELLS or status is not None:
            counts = runs.get(command)
            if counts is None:
                counts = runs[command] = [0] * (len(SHELLS) + 2)
            if shell in SHELLS:
                counts[SHELLS.index(shell)] += 1
            if status is not None and status not in INTERRUPTED:
                counts[_SUCCEEDED if status == 0 else _FAILED] += 1
    folder_records = []
    for cwd in sorted(folders):
        counter = folders[cwd]
        best = heapq.nlargest(
            MAX_PER_FOLDER, counter.items(), key=lambda item: (item[1], last[cwd, item[0]])
        )
        folder_records.append((cwd, encode_folder_payload(best)))
    run_records = [(command, encode_runs_payload(runs[command])) for command in sorted(runs)]
    host_records = [
        (command, encode_runs_payload(hosts[command])) for command in sorted(hosts)
        if hosts[command][1]
    ]
    return folder_records, run_records, host_records


def failing_table(entries: Iterable[HistoryEntry], budget: int) -> bytes | None:
    """The ``exits`` entry (query/runs.py): the commands whose last recorded run failed, oldest
    first, each with whether it failed as a usage error or "not found", within ``budget``
    bytes (None: none failed). The predictor starts from it, so a fold forgets no failure."""
    from aprender_shell.model.query.runs import MAX_FAILING, Outcomes

    outcomes = Outcomes()
    for entry in entries:
        if entry.context is not None and entry.context.exit is not None:
            outcomes.note(entry.command, entry.context.exit)
    rows = list(outcomes)[-MAX_FAILING:]
    size = 2
    kept: list[list[object]] = []
    for text, usage in reversed(rows):  # the newest first, within the budget
        size += len(json.dumps([text, usage], ensure_ascii=False).encode("utf-8")) + 1
        if size > budget:
            break
        kept.append([text, usage])
    if not kept:
        return None
    return json.dumps(kept[::-1], ensure_ascii=False, separators=(",", ":")).encode("utf-8")

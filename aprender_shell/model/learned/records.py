"""A journal record: what a shell recorded about one command, and what it does to the model.

``record_line`` makes one; ``replay`` learns records into the overlay in the order they were
recorded; ``without_commands`` takes commands back out. A record merged from another device
(aprender_shell/sync/) also carries ``"dev"`` and ``"seq"``: that device's id and the record's
number there, so it is never applied twice; its ``"host"`` is that device's.
"""

from __future__ import annotations

import os
import time

from aprender_shell.limits import SHELLS
from aprender_shell.model.learned.journal import Journal, Record

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

# The setting that lets agents' commands be suggested (README, "Commands run by agents").
AGENTS_SETTING = "APRENDER_SHELL_AGENTS"

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from aprender_shell.bundle import PagedBundle
    from aprender_shell.model.learned.overlay import Overlay
    from aprender_shell.model.store.index import ModelIndex


def record_line(
    command: str,
    cwd: str | None,
    exit_status: int | None,
    previous: str | None,
    shell: str | None = None,
    agent: str | None = None,
) -> Record:
    """The journal record of a command recorded by a shell, stamped now; ``agent`` names the
    coding agent or script that ran it, when the shell saw one."""
    record: Record = {"c": command}
    if shell is not None:
        record["sh"] = shell  # optional: records written before it lack the key
    if agent is not None:
        record["agent"] = agent
    if cwd is not None:
        record["cwd"] = cwd
    if exit_status is not None:
        record["exit"] = exit_status
    if previous is not None:
        record["prev"] = previous
    # Where it ran: a home shared by several machines keeps one journal (Ctrl-R's host filter).
    record["host"] = os.uname().nodename
    record["t"] = int(time.time())
    return record


def agents_wanted() -> bool:
    """Whether commands run by coding agents and scripts are suggested too (the user set
    ``APRENDER_SHELL_AGENTS=1`` where the server starts, or ran ``suggest --agents``)."""
    return os.environ.get(AGENTS_SETTING) == "1"


def people_only(records: list[Record]) -> list[Record]:
    """``records`` without those an agent ran, unless ``agents_wanted``."""
    if agents_wanted():
        return records
    return [record for record in records if "agent" not in record]


def agent_runs(
    bundle: PagedBundle, index: ModelIndex, model_path: str | os.PathLike[str]
) -> list[Record]:
    """What agents ran that a fold put in the model's corpus, as journal records, oldest first:
    training keeps it out of the model's tables, so ``--agents`` (``agents_wanted``) replays
    it from there. Reads the whole corpus: only when asked."""
    from aprender_shell.model.store.corpus import read_corpus

    runs: list[Record] = []
    for entry in read_corpus(bundle, index, model_path):
        context = entry.context
        if context is None or not context.agent:
            continue
        run: Record = {"c": entry.command, "agent": context.agent}
        for key, value in (("cwd", context.cwd), ("exit", context.exit),
                           ("sh", context.shell), ("prev", context.prev or None)):
            if value is not None:
                run[key] = value
        runs.append(run)
    return runs


def replay(overlay: Overlay, records: Iterable[Record]) -> int:
    """Learn journal records into ``overlay`` in the order they were recorded; returns how many."""
    count = 0
    for line in records:
        previous = line.get("prev")
        cwd = line.get("cwd")
        shell = line.get("sh")
        host = line.get("host")
        status = line.get("exit")
        overlay.learn(
            line["c"],
            previous if isinstance(previous, str) else None,
            cwd if isinstance(cwd, str) else None,
            shell if shell in SHELLS else None,
            status if isinstance(status, int) and not isinstance(status, bool) else None,
            host if isinstance(host, str) else None,
        )
        count += 1
    return count


def without_commands(matches: Callable[[str], bool]) -> tuple[
    Callable[[Record], bool], Callable[[Record], Record]
]:
    """``Journal.rewrite`` arguments that drop the commands ``matches`` accepts, as records
    and as another record's previous command."""

    def keep(record: Record) -> bool:
        return not matches(record["c"])

    def change(record: Record) -> Record:
        previous = record.get("prev")
        if isinstance(previous, str) and matches(previous):
            record["prev"] = None
        return record

    return keep, change


def read_journal_commands(model_path: str | os.PathLike[str], generation: str) -> list[str]:
    """The commands recorded for model ``generation`` beside ``model_path``, oldest first."""
    return [str(record["c"]) for record in Journal(model_path, generation).records()]

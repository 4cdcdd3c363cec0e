"""Other tools' history databases: atuin's and mcfly's SQLite files, read without writing.

Each is opened read-only (an SQLite URI with ``mode=ro``, and ``immutable=1`` for a WAL
database no program has open: nothing is written, not even beside it) and read in time
order; what the row knows of the run beyond the command becomes the entry's ``Context``.
The fields used:

- atuin (``~/.local/share/atuin/history.db``, or ``$XDG_DATA_HOME/atuin/history.db``):
  table ``history``: ``command``; ``timestamp`` (nanoseconds since 1970); ``cwd``; ``exit``;
  ``hostname``, which atuin writes ``host:user`` (the host is kept); ``deleted_at`` (a row
  with one was deleted in atuin and is skipped); where the database has them, ``shell`` and
  ``author_kind``/``author`` (a command an agent ran, ``author_kind`` 1, keeps the author's
  name as its agent). ``session`` is not used: the commands are learned in the order they ran.
- mcfly (``~/.local/share/mcfly/history.db``, ``$XDG_DATA_HOME/mcfly/history.db``, on macOS
  ``~/Library/Application Support/McFly/history.db``, and ``~/.mcfly/history.db`` first when
  that exists, as mcfly itself chooses): table ``commands``: ``cmd``; ``when_run`` (seconds);
  ``dir``; ``exit_code``. ``session_id`` is not used either.

A value of the wrong type (SQLite lets any column hold anything) leaves that field unknown;
a row whose command is not text, or is longer than ``formats.MAX_LINE_BYTES``, is skipped and
counted (its text is never loaded). Secrets and the user's ``history_filter`` are kept out
by training's one learning gate, as for history files.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

from aprender_shell.errors import HistoryError
from aprender_shell.history.formats import MAX_LINE_BYTES, Context, HistoryEntry
from aprender_shell.limits import SHELLS

SOURCES = ("atuin", "mcfly")
# Seconds to wait for a writer's lock (atuin writes after every command) before giving up.
LOCK_WAIT = 2.0
# A working folder or host name longer than this is no real one: left unknown.
MAX_FIELD_CHARS = 4096
_NANOSECONDS = 1_000_000_000


class _Table(NamedTuple):
    """Where one tool keeps what aprender-shell reads: a table, and column names by role."""

    name: str
    command: str
    time: str
    per_second: int  # time units in a second
    optional: Mapping[str, str]  # role -> column, used when the database has it
    deleted: str | None = None


_TABLES = {
    "atuin": _Table(
        "history", "command", "timestamp", _NANOSECONDS,
        {"cwd": "cwd", "exit": "exit", "host": "hostname", "shell": "shell",
         "author": "author", "author_kind": "author_kind"},
        deleted="deleted_at",
    ),
    "mcfly": _Table("commands", "cmd", "when_run", 1, {"cwd": "dir", "exit": "exit_code"}),
}


class DatabaseHistory(NamedTuple):
    """What ``read_database`` read: the entries, oldest first, and the rows skipped."""

    entries: list[HistoryEntry]
    skipped: int


def default_database(
    tool: str,
    environ: Mapping[str, str] = os.environ,
    home: Path | None = None,
    platform: str = sys.platform,
) -> Path:
    """Where ``tool`` (``atuin`` or ``mcfly``) keeps its history database by default."""
    home = Path.home() if home is None else home
    data_home = environ.get("XDG_DATA_HOME", "")
    data_dir = Path(data_home) if os.path.isabs(data_home) else home / ".local" / "share"
    if tool == "atuin":
        return data_dir / "atuin" / "history.db"
    legacy = home / ".mcfly" / "history.db"
    if legacy.exists():
        return legacy
    if platform == "darwin":
        return home / "Library" / "Application Support" / "McFly" / "history.db"
    return data_dir / "mcfly" / "history.db"


def read_database(tool: str, path: Path) -> DatabaseHistory:
    """The commands of ``tool``'s database at ``path``, oldest first; ``HistoryError`` (one
    line: what is wrong, what to do) when it cannot be read."""
    if tool not in _TABLES:
        raise HistoryError(f"unknown history source {tool!r}: use one of {', '.join(SOURCES)}")
    path = Path(path)
    if not path.is_file():
        raise HistoryError(
            f"no {tool} database at {path}: pass its path with --history PATH"
        )
    table = _TABLES[tool]
    # A read-only open of a database in WAL mode (atuin's) creates its log and the log's
    # index beside it when they are not there; and they are not there only when no program
    # has it open to write (a writer keeps its log): such a one is read as immutable, so
    # nothing at all is written. Any other is read under SQLite's locks.
    quiet = _in_wal_mode(path) and not Path(str(path) + "-wal").exists()
    uri = path.absolute().as_uri() + ("?mode=ro&immutable=1" if quiet else "?mode=ro")
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=LOCK_WAIT)
    except sqlite3.Error as error:
        raise HistoryError(f"{tool} database {path} cannot be opened ({error})") from error
    try:
        entries: list[HistoryEntry] = []
        skipped = 0
        for entry in _rows(connection, table, tool, path):
            if entry is None:
                skipped += 1
            else:
                entries.append(entry)
        return DatabaseHistory(entries, skipped)
    except sqlite3.Error as error:
        raise HistoryError(_explain(tool, path, error)) from error
    finally:
        connection.close()


def _in_wal_mode(path: Path) -> bool:
    """Whether the database file's header says it is in WAL mode (read and write versions 2)."""
    try:
        with open(path, "rb") as file:
            header = file.read(20)
    except OSError:
        return False
    return header.startswith(b"SQLite format 3\x00") and header[18:20] == b"\x02\x02"


def _explain(tool: str, path: Path, error: sqlite3.Error) -> str:
    text = str(error)
    if "locked" in text or "busy" in text:
        return (f"{tool} database {path} is locked by another program ({text}): "
                "try again in a moment")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (f"{path} is not a readable {tool} database ({text}): check the path "
                "given with --history, or repair it with sqlite3's .recover")
    return f"{tool} database {path} cannot be read ({text})"


def _columns(connection: sqlite3.Connection, table: str) -> set[str]:
    found = connection.execute(
        "SELECT name FROM pragma_table_info(?)", (table,)
    ).fetchall()
    return {str(row[0]) for row in found}


def _rows(
    connection: sqlite3.Connection, table: _Table, tool: str, path: Path
) -> Iterator[HistoryEntry | None]:
    """Each row as an entry, None for one skipped, in time order."""
    columns = _columns(connection, table.name)
    if not columns:
        raise HistoryError(
            f"{path} has no {table.name!r} table, so it is no {tool} history database: "
            "check the path given with --history"
        )
    for needed in (table.command, table.time):
        if needed not in columns:
            raise HistoryError(
                f"{path}: table {table.name!r} has no column {needed!r}, so it is no {tool} "
                "history database this version reads: check the path given with --history"
            )
    roles = {role: column for role, column in table.optional.items() if column in columns}
    # Long values are cut in SQL, never loaded: only their length is.
    selected = [
        f"CASE WHEN length({_quoted(table.command)}) <= {MAX_LINE_BYTES} "
        f"THEN {_quoted(table.command)} END",
        _quoted(table.time),
        *(f"CASE WHEN length({_quoted(column)}) <= {MAX_FIELD_CHARS} THEN {_quoted(column)} END"
          for column in roles.values()),
    ]
    where = ""
    if table.deleted is not None and table.deleted in columns:
        where = f" WHERE {_quoted(table.deleted)} IS NULL"
    query = (f"SELECT {', '.join(selected)} FROM {_quoted(table.name)}{where} "
             f"ORDER BY {_quoted(table.time)}, rowid")
    names = list(roles)
    for row in connection.execute(query):
        command = row[0]
        if isinstance(command, bytes):
            command = command.decode("utf-8", errors="replace")
        if not isinstance(command, str) or not command.strip():
            yield None
            continue
        found = dict(zip(names, row[2:]))
        yield HistoryEntry(command, _seconds(row[1], table.per_second), _context(found))


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _seconds(value: object, per_second: int) -> int | None:
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            return None
        value = int(value)
    if isinstance(value, float) and value == value and abs(value) < 1e30:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return None
    return value // per_second


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _context(found: Mapping[str, object]) -> Context | None:
    cwd = _text(found.get("cwd"))
    exit_status = found.get("exit")
    if not isinstance(exit_status, int) or isinstance(exit_status, bool):
        exit_status = None
    host = _text(found.get("host"))
    if host is not None:
        host = host.partition(":")[0] or None  # atuin's "host:user"
    shell = _text(found.get("shell"))
    if shell not in SHELLS:
        shell = None
    agent = None
    if found.get("author_kind") == 1:
        agent = _text(found.get("author")) or "agent"
    if cwd is None and exit_status is None and host is None and shell is None and agent is None:
        return None
    return Context(cwd=cwd, exit=exit_status, host=host, shell=shell, agent=agent)

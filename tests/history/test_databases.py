"""``train --from atuin|mcfly``: real SQLite files with each tool's own schema, read-only,
and hostile ones refused with one line."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from aprender_shell.errors import HistoryError
from aprender_shell.history.databases import default_database, read_database
from aprender_shell.history.formats import Context
from aprender_shell.paths import history_filter_path
from tests.history.secret_samples import GITHUB

NS = 1_000_000_000

# atuin's client migrations, in order (crates/atuin-client/migrations): the table as
# 20210422143411_create_history made it, then the columns later ones added.
ATUIN_SCHEMA = """
create table if not exists history (
    id text primary key,
    timestamp integer not null,
    duration integer not null,
    exit integer not null,
    command text not null,
    cwd text not null,
    session text not null,
    hostname text not null,
    unique(timestamp, cwd, command)
);
create index if not exists idx_history_timestamp on history(timestamp);
create index if not exists idx_history_command on history(command);
alter table history add column deleted_at integer;
"""
ATUIN_AUTHORS = """
alter table history add column author text;
alter table history add column intent text;
alter table history add column shell text;
alter table history add column author_kind integer;
"""
# mcfly's (src/history/history.rs, then schema.rs's migrations to version 3).
MCFLY_SCHEMA = """
CREATE TABLE commands(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cmd TEXT NOT NULL,
    cmd_tpl TEXT,
    session_id TEXT NOT NULL,
    when_run INTEGER NOT NULL,
    exit_code INTEGER NOT NULL,
    selected INTEGER NOT NULL,
    dir TEXT,
    old_dir TEXT
);
CREATE INDEX command_cmds ON commands (cmd);
CREATE INDEX command_session_id ON commands (session_id);
CREATE INDEX command_dirs ON commands (dir);
CREATE TABLE selected_commands(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cmd TEXT NOT NULL,
    session_id TEXT NOT NULL,
    dir TEXT NOT NULL
);
CREATE INDEX selected_command_session_cmds ON selected_commands (session_id, cmd);
CREATE TABLE schema_versions(
    id INTEGER PRIMARY KEY AUTOINCREMENT, version INTEGER NOT NULL, when_run INTEGER NOT NULL);
INSERT INTO schema_versions (version, when_run) VALUES (3, 1700000000);
"""

AtuinRow = tuple[int, int, str, str, str, "int | None"]  # time (s), exit, cmd, cwd, host, deleted


def atuin_db(path: Path, rows: Iterable[Sequence[object]], authors: bool = False) -> Path:
    """An atuin database holding ``rows`` (seconds, exit, command, cwd, hostname, deleted_at,
    then author, shell, author_kind when ``authors``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("pragma journal_mode=wal")  # as atuin keeps it
        db.executescript(ATUIN_SCHEMA + (ATUIN_AUTHORS if authors else ""))
        for number, row in enumerate(rows):
            seconds, status, command, cwd, host, deleted, *more = row
            names = "id, timestamp, duration, exit, command, cwd, session, hostname, deleted_at"
            values: list[object] = [f"{number:032x}", int(seconds) * NS + number, 1000, status,
                                    command, cwd, "s1", host, deleted]
            if authors:
                names += ", author, shell, author_kind"
                values += more
            db.execute(f"insert into history ({names}) values ({', '.join('?' * len(values))})",
                       values)
    db.close()
    return path


def mcfly_db(path: Path, rows: Iterable[tuple[int, int, str, str]]) -> Path:
    """A mcfly database holding ``rows`` (seconds, exit code, command, dir)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.executescript(MCFLY_SCHEMA)
        for when, status, command, folder in rows:
            db.execute(
                "INSERT INTO commands (cmd, cmd_tpl, session_id, when_run, exit_code, selected,"
                " dir) VALUES (?, ?, ?, ?, ?, 0, ?)",
                (command, command, "s1", when, status, folder),
            )
    db.close()
    return path


def aprender(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aprender_shell", *args],
                          capture_output=True, text=True, timeout=120)


def suggested(model: Path, prefix: str) -> list[str]:
    result = aprender("suggest", "-k", "10", "--model", str(model), prefix)
    assert result.returncode == 0, result.stderr
    return [line.split("\t")[0] for line in result.stdout.splitlines()]


ATUIN_ROWS = [
    (1_700_000_300, 0, "git push", "/src/shop", "laptop:ana", None),
    (1_700_000_100, 0, "cd ~/src/shop", "/home/ana", "laptop:ana", None),
    (1_700_000_200, 1, "make tset", "/src/shop", "laptop:ana", None),
    (1_700_000_250, 0, "rm -rf build", "/src/shop", "laptop:ana", 1_700_000_260 * NS),
    (1_700_000_400, 0, f"git push https://{GITHUB}@github.com/ana/shop", "/src/shop",
     "laptop:ana", None),
]


def test_atuin_rows_are_read_in_time_order_with_their_context(tmp_path: Path) -> None:
    read = read_database("atuin", atuin_db(tmp_path / "history.db", ATUIN_ROWS))
    commands = [entry.command for entry in read.entries]
    assert commands[:3] == ["cd ~/src/shop", "make tset", "git push"]
    assert "rm -rf build" not in commands  # deleted in atuin
    first, failed = read.entries[:2]
    assert first.timestamp == 1_700_000_100
    assert first.context == Context(cwd="/home/ana", exit=0, host="laptop")
    assert failed.context is not None and failed.context.exit == 1


def test_an_agents_commands_and_the_shell_are_kept_where_atuin_has_them(tmp_path: Path) -> None:
    rows = [(1_700_000_000, 0, "cargo test", "/w", "box:ana", None, "ana", "zsh", 0),
            (1_700_000_001, 0, "cargo fmt", "/w", "box:ana", None, "claude", "bash", 1),
            (1_700_000_002, 0, "ls", "/w", "box:ana", None, None, "nu", None)]
    entries = read_database("atuin", atuin_db(tmp_path / "h.db", rows, authors=True)).entries
    contexts = [entry.context for entry in entries]
    assert contexts[0] == Context(cwd="/w", exit=0, host="box", shell="zsh")
    assert contexts[1] == Context(cwd="/w", exit=0, host="box", shell="bash", agent="claude")
    assert contexts[2] == Context(cwd="/w", exit=0, host="box")  # a shell we do not serve


def test_train_from_atuin_learns_without_secrets_deleted_rows_or_filtered_ones(
    tmp_path: Path, private_home: Path
) -> None:
    # Where atuin keeps it by default: no --history needed.
    database = atuin_db(private_home / ".local/share/atuin/history.db",
                        ATUIN_ROWS + [(1_700_000_500, 0, "vault login -method=userpass",
                                       "/src", "laptop:ana", None)] * 3)
    before = database.read_bytes(), os.stat(database).st_mtime_ns
    history_filter_path().parent.mkdir(parents=True, exist_ok=True)
    history_filter_path().write_text("^vault \n")
    model = tmp_path / "model.apbundle"
    result = aprender("train", "--from", "atuin", "--model", str(model))
    assert result.returncode == 0, result.stderr
    assert "atuin" in result.stdout and "with secrets dropped" in result.stdout
    assert "git push" in suggested(model, "git p")
    assert "make tset" in suggested(model, "m")
    everything = " ".join(suggested(model, "") + suggested(model, "g") + suggested(model, "r")
                          + suggested(model, "v"))
    assert GITHUB not in everything and "rm -rf build" not in everything
    assert "vault" not in everything
    # read-only: not a byte of atuin's database changed, nothing written beside it
    assert (database.read_bytes(), os.stat(database).st_mtime_ns) == before
    assert sorted(path.name for path in database.parent.iterdir()) == ["history.db"]


def test_train_from_mcfly_reads_its_commands_table(tmp_path: Path) -> None:
    database = mcfly_db(tmp_path / "mcfly.db", [
        (1_700_000_200, 0, "kubectl get pods", "/ops"),
        (1_700_000_100, 0, "kubectl config use-context prod", "/ops"),
        (1_700_000_300, 2, "kubectl lgs api", "/ops"),
    ])
    read = read_database("mcfly", database)
    assert [e.command for e in read.entries] == [
        "kubectl config use-context prod", "kubectl get pods", "kubectl lgs api"]
    assert read.entries[2].context == Context(cwd="/ops", exit=2)
    assert read.entries[0].timestamp == 1_700_000_100
    os.chmod(database, 0o444)  # read-only is all it needs
    model = tmp_path / "model.apbundle"
    result = aprender("train", "--from", "mcfly", "--history", str(database),
                      "--model", str(model))
    assert result.returncode == 0, result.stderr
    assert "kubectl get pods" in suggested(model, "kubectl g")


def test_each_tool_is_looked_for_where_it_keeps_its_database(tmp_path: Path) -> None:
    home = tmp_path / "someone"
    assert default_database("atuin", {}, home) == home / ".local/share/atuin/history.db"
    assert default_database("atuin", {"XDG_DATA_HOME": "/x"}, home) == Path(
        "/x/atuin/history.db")
    assert default_database("mcfly", {}, home, "linux") == home / ".local/share/mcfly/history.db"
    assert default_database("mcfly", {}, home, "darwin") == (
        home / "Library/Application Support/McFly/history.db")
    (home / ".mcfly").mkdir(parents=True)
    (home / ".mcfly/history.db").write_bytes(b"")
    assert default_database("mcfly", {}, home, "darwin") == home / ".mcfly/history.db"


def test_values_of_the_wrong_type_leave_a_field_unknown_and_bad_commands_are_skipped(
    tmp_path: Path,
) -> None:
    database = tmp_path / "h.db"
    # atuin's columns, with no types declared: SQLite then keeps whatever it is given.
    _execute(database, "create table history (id, timestamp, duration, exit, command, cwd,"
                       " session, hostname, deleted_at)")
    with sqlite3.connect(database) as db:
        rows: list[tuple[object, ...]] = [
            ("a", 1_700_000_001 * NS, 0, "git status", "/r", "h:u"),
            ("b", "yesterday", "zero", "git log", b"\xff", 7),
            ("c", 1_700_000_002 * NS, 0, 12345, "/r", "h:u"),
            ("d", 1_700_000_003 * NS, 0, b"echo bytes \xff", "/r", "h:u"),
            ("e", 1_700_000_004 * NS, 0, "x" * 100_000, "/r", "h:u"),  # too long to learn
            ("f", 1_700_000_005 * NS, 0, "git diff", "/" + "d" * 100_000, "h:u"),
            ("g", 2.5e9 * NS, 0, "   ", "/r", "h:u"),
            ("h", 1_700_000_006 * NS, 0, 3.5, "/r", "h:u"),
        ]
        db.executemany("insert into history (id, timestamp, duration, exit, command, cwd,"
                       " session, hostname) values (?, ?, 0, ?, ?, ?, 's', ?)", rows)
    db.close()
    read = read_database("atuin", database)
    by_command = {entry.command: entry for entry in read.entries}
    assert set(by_command) == {"git status", "git log", "echo bytes \ufffd", "git diff"}
    assert read.skipped == 4  # the two numbers, the 100,000 x's, the blank
    assert by_command["git log"].timestamp is None
    assert by_command["git log"].context is None  # no exit, cwd or host it could use
    assert by_command["git diff"].context == Context(exit=0, host="h")  # no such cwd


HOSTILE = {
    "not a database": lambda path: path.write_bytes(b"SQLite format 2\x00" + os.urandom(4000)),
    "random bytes": lambda path: path.write_bytes(os.urandom(8192)),
    "empty file": lambda path: path.write_bytes(b""),
    "another program's database": lambda path: _execute(path, "create table t (x)"),
    "no command column": lambda path: _execute(
        path, "create table history (id text, timestamp integer, cmd text)"),
}


def _execute(path: Path, script: str) -> None:
    with sqlite3.connect(path) as db:
        db.executescript(script)
    db.close()


@pytest.mark.parametrize("damage", sorted(HOSTILE))
def test_a_hostile_file_is_refused_with_one_line(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "history.db"
    HOSTILE[damage](path)
    with pytest.raises(HistoryError):
        read_database("atuin", path)
    result = aprender("train", "--from", "atuin", "--history", str(path),
                      "--model", str(tmp_path / "m.apbundle"))
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "Traceback" not in result.stderr
    assert not (tmp_path / "m.apbundle").exists()


def test_a_damaged_page_is_one_line_too(tmp_path: Path) -> None:
    path = atuin_db(tmp_path / "history.db",
                    [(1_700_000_000 + n, 0, f"echo {n} {'x' * 300}", "/", "h:u", None)
                     for n in range(400)])
    with sqlite3.connect(path) as db:
        db.execute("pragma wal_checkpoint(truncate)")
    db.close()
    data = bytearray(path.read_bytes())
    for at in range(4096 * 3, len(data), 4096):  # every page's header after the first three
        data[at : at + 16] = b"\xa5" * 16
    path.write_bytes(bytes(data))
    result = aprender("train", "--from", "atuin", "--history", str(path),
                      "--model", str(tmp_path / "m.apbundle"))
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result
    assert "is not a readable atuin database" in result.stderr


def test_a_locked_database_is_one_line_not_a_hang(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    _execute(path, ATUIN_SCHEMA)  # a rollback journal: a writer's lock keeps readers out
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("begin exclusive")  # a writer, half way through
        holder.execute("insert into history (id, timestamp, duration, exit, command, cwd,"
                       " session, hostname) values ('x', 1, 0, 0, 'ls', '/', 's', 'h')")
        result = aprender("train", "--from", "atuin", "--history", str(path),
                          "--model", str(tmp_path / "m.apbundle"))
    finally:
        holder.close()
    assert result.returncode == 1, result
    assert "is locked by another program" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_missing_database_and_two_of_them_say_what_to_do(tmp_path: Path) -> None:
    result = aprender("train", "--from", "mcfly", "--model", str(tmp_path / "m.apbundle"))
    assert result.returncode == 1 and "no mcfly database at" in result.stderr
    assert "--history PATH" in result.stderr
    result = aprender("train", "--from", "atuin", "--history", "a.db", "--history", "b.db")
    assert result.returncode == 2 and "reads one database" in result.stderr


def test_atuin_writing_meanwhile_is_read_under_its_locks(tmp_path: Path) -> None:
    path = atuin_db(tmp_path / "history.db", ATUIN_ROWS[:2])
    atuin = sqlite3.connect(path, isolation_level=None)  # atuin, open: its log is there
    try:
        atuin.execute("insert into history (id, timestamp, duration, exit, command, cwd,"
                      " session, hostname) values ('z', ?, 0, 0, 'htop', '/', 's', 'h:u')",
                      (1_700_000_999 * NS,))
        assert (tmp_path / "history.db-wal").exists()
        commands = [entry.command for entry in read_database("atuin", path).entries]
        assert commands == ["cd ~/src/shop", "git push", "htop"]
    finally:
        atuin.close()

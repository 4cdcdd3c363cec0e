"""History files: every format, damaged content, discovery, and finding what is new."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from aprender_shell.errors import HistoryError
from aprender_shell.history.files import find_history_files, read_history, sample_history_path
from aprender_shell.history.formats import HistoryEntry, parse_history, sniff_format
from aprender_shell.history.marks import HistoryMark, mark_history, new_entries_since

# --- writers shaped like the shells' own -------------------------------------------------------


def metafy(raw: bytes) -> bytes:
    """zsh's on-disk encoding: NUL, 0x83 and zsh's token bytes become 0x83, byte ^ 0x20."""
    out = bytearray()
    for byte in raw:
        if byte == 0 or 0x83 <= byte <= 0xA2:
            out += bytes((0x83, byte ^ 0x20))
        else:
            out.append(byte)
    return bytes(out)


def zsh_line(command: str, timestamp: int | None = None) -> bytes:
    body = metafy(command.replace("\n", "\\\n").encode())
    return (b": %d:0;" % timestamp if timestamp is not None else b"") + body + b"\n"


def zsh_history(entries: list[HistoryEntry]) -> bytes:
    return b"".join(zsh_line(e.command, e.timestamp) for e in entries)


def bash_history(entries: list[HistoryEntry]) -> bytes:
    out = b""
    for entry in entries:
        if entry.timestamp is not None:
            out += b"#%d\n" % entry.timestamp
        out += entry.command.encode() + b"\n"
    return out


def fish_history(entries: list[HistoryEntry]) -> bytes:
    out = ""
    for entry in entries:
        escaped = entry.command.replace("\\", "\\\\").replace("\n", "\\n")
        out += f"- cmd: {escaped}\n  when: {entry.timestamp}\n"
    return out.encode()


ENTRIES = [
    HistoryEntry("cd ~/src/api", 1700000000),
    HistoryEntry("git status", 1700000004),
    HistoryEntry("git commit -m 'fix  spacing'", 1700000030),
    HistoryEntry("make test", 1700000100),
]

# --- parsing --------------------------------------------------------------------------------


def test_zsh_extended() -> None:
    assert parse_history(zsh_history(ENTRIES)) == ENTRIES
    assert parse_history(zsh_history(ENTRIES), "zsh") == ENTRIES


def test_zsh_plain_is_one_command_a_line() -> None:
    data = b"ls\ncd /tmp\n  echo  two  spaces  \n"
    assert parse_history(data) == [
        HistoryEntry("ls"),
        HistoryEntry("cd /tmp"),
        HistoryEntry("  echo  two  spaces  "),
    ]


def test_zsh_multiline_command_is_joined() -> None:
    command = "for f in *.txt; do\n  wc -l $f\ndone"
    data = zsh_line("ls", 1) + zsh_line(command, 2) + zsh_line("pwd", 3)
    assert parse_history(data) == [HistoryEntry("ls", 1), HistoryEntry(command, 2),
                                   HistoryEntry("pwd", 3)]


def test_zsh_metafied_bytes_are_decoded() -> None:
    commands = ["echo привет мир", "cd ~/Документы", "echo 日本語 ✓ é", "printf 'a\\x00b'"]
    entries = [HistoryEntry(c, i) for i, c in enumerate(commands)]
    data = zsh_history(entries)
    assert b"\x83" in data
    assert parse_history(data) == entries
    assert parse_history(data.replace(b": ", b": ", 1), "zsh") == entries


def test_unmetafied_utf8_is_left_alone() -> None:
    """bash writes plain UTF-8, where a 0x83 byte is part of a character, not zsh's Meta."""
    data = "#1\necho всему\n#2\nls\n".encode()
    assert b"\x83" in data
    assert parse_history(data) == [HistoryEntry("echo всему", 1), HistoryEntry("ls", 2)]


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    data = b": 1:0;echo caf\xe9\n: 2:0;ls \xff\xfe\n: 3:0;cat \x83\n"
    commands = [e.command for e in parse_history(data)]
    assert commands[0] == "echo caf\ufffd"
    assert commands[1] == "ls \ufffd\ufffd"
    assert commands[2].startswith("cat ")


def test_bash_timestamps_belong_to_the_next_command() -> None:
    data = b"ls\n#1700000000\ngit status\n#notatime\n#1700000009\nmake\n"
    assert parse_history(data) == [
        HistoryEntry("ls"),
        HistoryEntry("git status", 1700000000),
        HistoryEntry("#notatime"),
        HistoryEntry("make", 1700000009),
    ]
    assert parse_history(bash_history(ENTRIES)) == ENTRIES


def test_fish_escapes_and_metadata() -> None:
    data = (
        b"- cmd: echo first\\nsecond\n"
        b"  when: 1700000000\n"
        b"- cmd: printf 'a\\\\nb'\n"
        b"  when: 1700000005\n"
        b"  paths:\n"
        b"    - /etc/hosts\n"
        b"    - ~/notes.txt\n"
        b"- cmd: ls\n"
    )
    assert parse_history(data) == [
        HistoryEntry("echo first\nsecond", 1700000000),
        HistoryEntry("printf 'a\\nb'", 1700000005),
        HistoryEntry("ls"),
    ]
    assert parse_history(fish_history(ENTRIES)) == ENTRIES


def test_blank_commands_dropped_and_crlf_stripped() -> None:
    data = b"ls\r\n\r\n   \ncd  a b\t\r\n"
    assert parse_history(data) == [HistoryEntry("ls"), HistoryEntry("cd  a b\t")]
    assert parse_history(b"") == []
    assert parse_history(b": 1:0;\n: 2:0;   \n: 3:0;ls\n") == [HistoryEntry("ls", 3)]


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"- cmd: ls\n  when: 1\n", "fish"),
        (b": 1700000000:0;ls\n", "zsh"),
        (b"echo hi\n: 1700000000:0;ls\n", "zsh"),
        (b"#1700000000\nls\n", "bash"),
        (b"ls\ncd\n", "plain"),
        (b"#!/bin/sh\nls\n", "plain"),
    ],
)
def test_sniffing(data: bytes, fmt: str) -> None:
    assert sniff_format(data) == fmt


def test_explicit_format_wins_and_unknown_is_refused() -> None:
    data = b": 1700000000:0;ls\n"
    assert parse_history(data, "bash") == [HistoryEntry(": 1700000000:0;ls")]
    with pytest.raises(ValueError, match="unknown history format"):
        parse_history(data, "tcsh")


@given(st.binary(max_size=2000), st.sampled_from([None, "zsh", "bash", "fish", "plain"]))
def test_parse_never_fails_on_arbitrary_bytes(data: bytes, fmt: str | None) -> None:
    for entry in parse_history(data, fmt):
        assert entry.command.strip()
        assert "\r\n" not in entry.command


_command_text = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\r"),
    min_size=1,
    max_size=60,
)


@given(st.lists(st.tuples(_command_text, st.integers(0, 2**40)), max_size=20))
def test_zsh_round_trip(rows: list[tuple[str, int]]) -> None:
    entries = [HistoryEntry(c, t) for c, t in rows]
    assume(all(e.command.strip() and not e.command.endswith("\\") for e in entries))
    assert parse_history(zsh_history(entries), "zsh") == entries


@given(st.lists(st.tuples(_command_text, st.integers(0, 2**40)), max_size=20))
def test_fish_round_trip(rows: list[tuple[str, int]]) -> None:
    entries = [HistoryEntry(c, t) for c, t in rows]
    assume(all(e.command.strip() for e in entries))
    assert parse_history(fish_history(entries), "fish") == entries


# --- reading files -----------------------------------------------------------------------------


def test_format_is_guessed_from_the_file_name(tmp_path: Path) -> None:
    content = b"echo a\\\nb\n"
    zsh = tmp_path / ".zsh_history"
    bash = tmp_path / ".bash_history"
    zsh.write_bytes(content)
    bash.write_bytes(content)
    assert read_history(zsh) == [HistoryEntry("echo a\nb")]
    assert read_history(bash) == [HistoryEntry("echo a\\"), HistoryEntry("b")]
    fish = tmp_path / "fish_history"
    fish.write_bytes(fish_history(ENTRIES))
    assert read_history(fish) == ENTRIES


def _one_line_error(path: Path) -> str:
    with pytest.raises(HistoryError) as info:
        read_history(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return message


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    assert "does not exist" in _one_line_error(tmp_path / "nope")


def test_directory_is_a_clear_error(tmp_path: Path) -> None:
    assert "is a directory" in _one_line_error(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / ".zsh_history"
    path.write_bytes(b"ls\n")
    path.chmod(0)
    try:
        assert "permission denied" in _one_line_error(path)
    finally:
        path.chmod(0o600)


@pytest.mark.parametrize(
    "content",
    [
        b"\x00" * 100 + b"ls\n",
        b"\x1f\x8b\x08\x00" + bytes(range(256)) * 8,
        b"ls\n" + bytes(range(128, 256)) * 4,
    ],
    ids=["nul", "gzip-like", "high-bytes"],
)
def test_binary_file_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "history"
    path.write_bytes(content)
    assert "binary" in _one_line_error(path)


def test_metafied_text_with_a_stray_byte_is_not_binary(tmp_path: Path) -> None:
    path = tmp_path / ".zsh_history"
    lines = [zsh_line("cd ДОКУМЕНТЫ/ЗАДАЧИ", i) for i in range(300)]  # mostly metafied
    path.write_bytes(b"".join(lines) + b": 301:0;echo \x00 \xff\n")
    assert len(read_history(path)) == 301


def test_sample_history_is_packaged() -> None:
    path = sample_history_path()
    assert path.parts[-3:] == ("history", "data", "sample_history")
    entries = read_history(path)
    assert len(entries) > 1000
    assert all(e.timestamp is not None for e in entries)


# --- finding history files ---------------------------------------------------------------------


def _write(path: Path, content: bytes = b"ls\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_explicit_paths_are_returned_as_given(tmp_path: Path) -> None:
    _write(tmp_path / "home" / ".zsh_history")
    explicit = [tmp_path / "missing", tmp_path / "other"]
    assert find_history_files(explicit, {"HISTFILE": "x"}, tmp_path / "home") == explicit


def test_histfile_comes_first(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _write(home / ".zsh_history")
    custom = _write(tmp_path / "custom_history")
    assert find_history_files([], {"HISTFILE": str(custom)}, home) == [custom]
    tilde = _write(home / "hist" / "zsh")
    assert find_history_files([], {"HISTFILE": "~/hist/zsh"}, home) == [tilde]


def test_missing_histfile_falls_back_to_the_usual_files(tmp_path: Path) -> None:
    home = tmp_path / "home"
    zsh = _write(home / ".zsh_history")
    bash = _write(home / ".bash_history")
    fish = _write(home / ".local" / "share" / "fish" / "fish_history")
    _write(home / ".histfile", b"")  # empty: nothing to learn
    environ = {"HISTFILE": str(tmp_path / "gone")}
    assert find_history_files([], environ, home) == [zsh, bash, fish]
    assert find_history_files([], {}, tmp_path / "empty-home") == []


def test_xdg_data_home_and_zdotdir(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _write(home / ".local" / "share" / "fish" / "fish_history")
    fish = _write(tmp_path / "data" / "fish" / "fish_history")
    zsh = _write(tmp_path / "zdot" / ".zsh_history")
    environ = {"XDG_DATA_HOME": str(tmp_path / "data"), "ZDOTDIR": str(tmp_path / "zdot")}
    assert find_history_files([], environ, home) == [zsh, fish]


def test_home_defaults_to_the_user_home(private_home: Path) -> None:
    zsh = _write(private_home / ".zsh_history")
    assert find_history_files([], {}) == [zsh]


# --- what is new since training ----------------------------------------------------------------


def _history(path: Path, entries: list[HistoryEntry]) -> HistoryMark:
    path.write_bytes(zsh_history(entries))
    return mark_history(path, read_history(path))


def _numbered(start: int, stop: int) -> list[HistoryEntry]:
    return [HistoryEntry(f"cmd {i}", 1700000000 + i) for i in range(start, stop)]


def test_appended_commands_are_new(tmp_path: Path) -> None:
    path = tmp_path / ".zsh_history"
    mark = _history(path, _numbered(0, 10))
    with path.open("ab") as f:
        f.write(zsh_history(_numbered(10, 13)))
    new, mark2, rewritten = new_entries_since(path, mark)
    assert (new, rewritten) == (_numbered(10, 13), False)
    assert mark2.count == 13
    assert new_entries_since(path, mark2)[0::2] == ([], False)


def test_mark_round_trips_through_json(tmp_path: Path) -> None:
    path = tmp_path / ".zsh_history"
    mark = _history(path, _numbered(0, 10))
    again = HistoryMark.from_dict(json.loads(json.dumps(mark.to_dict())))
    assert again == mark


def test_no_mark_means_everything_is_new(tmp_path: Path) -> None:
    path = tmp_path / ".zsh_history"
    path.write_bytes(zsh_history(_numbered(0, 5)))
    new, mark, rewritten = new_entries_since(path, None)
    assert (new, rewritten, mark.count) == (_numbered(0, 5), False, 5)


def test_commands_added_between_reading_and_marking_stay_new(tmp_path: Path) -> None:
    path = tmp_path / ".zsh_history"
    path.write_bytes(zsh_history(_numbered(0, 5)))
    read = read_history(path)
    with path.open("ab") as f:
        f.write(zsh_history(_numbered(5, 7)))
    mark = mark_history(path, read)
    assert mark.count == 5
    assert new_entries_since(path, mark)[0] == _numbered(5, 7)


def test_bash_truncation_in_place(tmp_path: Path) -> None:
    """bash trims the oldest lines to HISTFILESIZE, rewriting the same file."""
    path = tmp_path / ".bash_history"
    path.write_bytes(bash_history(_numbered(0, 20)))
    mark = mark_history(path, read_history(path))
    inode = path.stat().st_ino
    with path.open("r+b") as f:
        f.write(bash_history(_numbered(12, 24)))
        f.truncate()
    assert path.stat().st_ino == inode
    new, mark2, rewritten = new_entries_since(path, mark)
    assert (new, rewritten) == (_numbered(20, 24), True)
    assert new_entries_since(path, mark2)[0::2] == ([], False)


def test_zsh_rewrite_with_a_new_inode(tmp_path: Path) -> None:
    """zsh trims to SAVEHIST by writing a new file and renaming it over the old one."""
    path = tmp_path / ".zsh_history"
    mark = _history(path, _numbered(0, 20))
    new_file = tmp_path / ".zsh_history.new"
    new_file.write_bytes(zsh_history(_numbered(5, 23)))
    keep_inode_busy = path.open("rb")  # so the new file cannot reuse the old inode
    try:
        os.replace(new_file, path)
        assert path.stat().st_ino != mark.inode
        new, _, rewritten = new_entries_since(path, mark)
    finally:
        keep_inode_busy.close()
    assert (new, rewritten) == (_numbered(20, 23), True)


def test_same_size_rewrite_is_noticed(tmp_path: Path) -> None:
    path = tmp_path / ".bash_history"
    path.write_bytes(b"ls\npwd\nid\n")
    mark = mark_history(path, read_history(path))
    path.write_bytes(b"ps\ncal\nw\n")
    new, _, rewritten = new_entries_since(path, mark)
    assert (new, rewritten) == ([HistoryEntry("ps"), HistoryEntry("cal"), HistoryEntry("w")], True)


def test_rotation_keeps_only_the_new_file(tmp_path: Path) -> None:
    path = tmp_path / ".zsh_history"
    mark = _history(path, _numbered(0, 10))
    path.rename(tmp_path / ".zsh_history.1")
    path.write_bytes(zsh_history(_numbered(10, 12)))
    assert new_entries_since(path, mark)[0::2] == (_numbered(10, 12), True)


def test_repeated_tail_uses_its_last_place(tmp_path: Path) -> None:
    """Where the old end appears twice, the later place is the end: fewer commands re-learned."""
    loop = [HistoryEntry("make"), HistoryEntry("./run"), HistoryEntry("vim main.c")]
    path = tmp_path / ".zsh_history"
    path.write_bytes(zsh_history(loop * 3))
    mark = mark_history(path, read_history(path))
    path.unlink()
    path.write_bytes(zsh_history(loop * 2 + [HistoryEntry("git diff")]))
    assert new_entries_since(path, mark)[0::2] == ([HistoryEntry("git diff")], True)


def test_lost_tail_falls_back_to_timestamps(tmp_path: Path) -> None:
    """fish and zsh's HIST_IGNORE_ALL_DUPS move re-run commands: the old end may vanish."""
    path = tmp_path / "fish_history"
    old = _numbered(0, 10)
    path.write_bytes(fish_history(old))
    mark = mark_history(path, read_history(path))
    moved = old[:6] + [HistoryEntry("cmd 11", 1700000011), HistoryEntry("cmd 9", 1700000012)]
    path.unlink()
    path.write_bytes(fish_history(moved))
    new, _, rewritten = new_entries_since(path, mark)
    assert (new, rewritten) == (moved[-2:], True)


def test_lost_tail_without_timestamps_returns_everything(tmp_path: Path) -> None:
    path = tmp_path / ".bash_history"
    path.write_bytes(b"a\nb\nc\nd\n")
    mark = mark_history(path, read_history(path))
    path.write_bytes(b"x\n")
    assert new_entries_since(path, mark)[0::2] == ([HistoryEntry("x")], True)


def test_missing_history_at_update_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / ".zsh_history"
    mark = _history(path, _numbered(0, 3))
    path.unlink()
    with pytest.raises(HistoryError, match="does not exist"):
        new_entries_since(path, mark)

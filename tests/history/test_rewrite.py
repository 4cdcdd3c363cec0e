"""Taking commands out of the shells' own history files: exactly the lines that hold them go
(as train reads them), every other byte stays; a backup first, an atomic replace, the mode
kept."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from aprender_shell.history.files import read_history
from aprender_shell.history.rewrite import forget_in_files, remove_commands

SSH = "ssh pi@192.168.1.20"


def exact(command: str) -> object:
    return command.__eq__


# zsh: extended lines, a command on two lines (a trailing backslash), and metafied bytes:
# "dağ" is 64 61 C4 9F, and zsh stores 9F as 83 BF.
ZSH = (
    b": 1700000000:0;ls -la\n"
    b": 1700000001:0;" + SSH.encode() + b"\n"
    b": 1700000002:0;echo da\xc4\x83\xbf\n"
    b": 1700000003:0;for h in a b\\\n"
    b"do " + SSH.encode() + b"; done\n"
    b"\n"
    b": 1700000004:0;" + SSH.encode() + b"\n"
    b": 1700000005:0;make test"
)


def test_zsh_exact_command_goes_with_its_timestamp_and_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / ".zsh_history"
    path.write_bytes(ZSH)
    done = remove_commands(path, SSH.__eq__, tmp_path / "backups")
    assert done.removed == 2
    assert path.read_bytes() == ZSH.replace(b": 1700000001:0;" + SSH.encode() + b"\n", b"", 1) \
        .replace(b": 1700000004:0;" + SSH.encode() + b"\n", b"", 1)
    assert SSH not in [entry.command for entry in read_history(path)]


def test_zsh_a_command_on_two_lines_goes_whole(tmp_path: Path) -> None:
    path = tmp_path / ".zsh_history"
    path.write_bytes(ZSH)
    done = remove_commands(path, lambda command: "for h in" in command, tmp_path / "backups")
    assert done.removed == 1
    assert path.read_bytes() == ZSH.replace(
        b": 1700000003:0;for h in a b\\\ndo " + SSH.encode() + b"; done\n", b""
    )


def test_zsh_metafied_bytes_are_matched_as_text_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / ".zsh_history"
    path.write_bytes(ZSH)
    assert remove_commands(path, "echo dağ".__eq__, tmp_path / "backups").removed == 1
    assert path.read_bytes() == ZSH.replace(b": 1700000002:0;echo da\xc4\x83\xbf\n", b"")


BASH = (
    b"#1700000000\nls -la\n"
    b"#1700000001\n" + SSH.encode() + b"\n"
    b"\n"
    + SSH.encode() + b"\n"
    b"#1700000002\n#1700000003\nmake test\n"
    b"#1700000004\n" + SSH.encode() + b"\n"
)


def test_bash_timestamp_lines_go_with_their_command(tmp_path: Path) -> None:
    path = tmp_path / ".bash_history"
    path.write_bytes(BASH)
    assert remove_commands(path, SSH.__eq__, tmp_path / "backups").removed == 3
    assert path.read_bytes() == (
        b"#1700000000\nls -la\n"
        b"\n"
        b"#1700000002\n#1700000003\nmake test\n"
    )


FISH = (
    b"- cmd: ls -la\n"
    b"  when: 1700000000\n"
    b"- cmd: scp notes.txt pi@192.168.1.20:\n"
    b"  when: 1700000001\n"
    b"  paths:\n"
    b"    - notes.txt\n"
    b"- cmd: echo a\\nb\n"
    b"  when: 1700000002\n"
    b"- cmd: " + SSH.encode() + b"\n"
    b"  when: 1700000003\n"
)


def test_fish_entries_go_with_their_when_and_paths_lines(tmp_path: Path) -> None:
    path = tmp_path / "fish_history"
    path.write_bytes(FISH)
    done = remove_commands(path, lambda command: "pi@192.168.1.20" in command,
                           tmp_path / "backups")
    assert done.removed == 2
    assert path.read_bytes() == (
        b"- cmd: ls -la\n"
        b"  when: 1700000000\n"
        b"- cmd: echo a\\nb\n"
        b"  when: 1700000002\n"
    )
    # An escaped newline in fish's format is read as the command's newline, and matched so.
    assert remove_commands(path, "echo a\nb".__eq__, tmp_path / "backups").removed == 1
    assert path.read_bytes() == b"- cmd: ls -la\n  when: 1700000000\n"


def test_a_private_backup_first_then_an_atomic_replace_keeping_the_mode(tmp_path: Path) -> None:
    path = tmp_path / ".zsh_history"
    path.write_bytes(ZSH)
    path.chmod(0o640)
    before = path.stat()
    done = remove_commands(path, SSH.__eq__, tmp_path / "backups")
    assert done.backup is not None and done.backup.parent == tmp_path / "backups"
    assert done.backup.read_bytes() == ZSH
    assert stat.S_IMODE(done.backup.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "backups").stat().st_mode) == 0o700
    after = path.stat()
    assert stat.S_IMODE(after.st_mode) == 0o640
    assert after.st_ino != before.st_ino  # replaced by rename, never rewritten in place
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".zsh_history.")] == []


def test_a_linked_history_file_stays_a_link_to_the_rewritten_file(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "zsh_history"
    real.parent.mkdir()
    real.write_bytes(ZSH)
    link = tmp_path / ".zsh_history"
    link.symlink_to(real)
    assert remove_commands(link, SSH.__eq__, tmp_path / "backups").removed == 2
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert SSH.encode() + b"\n:" not in real.read_bytes()


def test_nothing_matching_changes_nothing_and_makes_no_backup(tmp_path: Path) -> None:
    path = tmp_path / ".bash_history"
    path.write_bytes(BASH)
    before = path.stat()
    done = remove_commands(path, "rm -rf /".__eq__, tmp_path / "backups")
    assert done.removed == 0 and done.backup is None
    assert path.stat().st_ino == before.st_ino and path.read_bytes() == BASH
    assert not (tmp_path / "backups").exists()


def test_a_dry_run_counts_and_an_unreadable_file_is_reported(tmp_path: Path) -> None:
    zsh = tmp_path / ".zsh_history"
    zsh.write_bytes(ZSH)
    binary = tmp_path / ".bash_history"
    binary.write_bytes(bytes(range(256)) * 64)
    counted = forget_in_files([zsh, binary], SSH.__eq__, tmp_path / "backups", dry_run=True)
    assert [(r.path, r.removed, bool(r.error)) for r in counted] == [
        (zsh, 2, False), (binary, 0, True)
    ]
    assert zsh.read_bytes() == ZSH and not (tmp_path / "backups").exists()
    done = forget_in_files([zsh, binary], SSH.__eq__, tmp_path / "backups")
    assert [(r.removed, bool(r.error)) for r in done] == [(2, False), (0, True)]
    assert "binary" in done[1].error and binary.read_bytes() == bytes(range(256)) * 64

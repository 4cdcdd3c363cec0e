"""An rc file is the user's, byte for byte: install and uninstall change our block and nothing
else, whatever encoding (or no encoding) the rest of the file is in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aprender_shell.integration import BEGIN

# Latin-1 comments, a lone continuation byte, a Windows line end, a NUL, a form feed, an
# escape sequence, no newline at the end: what years of copied snippets leave in an rc file.
HOSTILE = (
    b"# caf\xe9 cr\xe8me (latin-1)\n"
    b"export PS1='\x1b[1;32m\\u\x1b[0m $ '\r\n"
    b"alias x='echo \x80\xff'\n"
    b"\x00\x0c# odd bytes\n"
    b"# \xe2\x80\xa8 a UTF-8 line separator\n"
    b"export LAST=1"
)


def aprender(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "aprender_shell", *args],
                          capture_output=True, timeout=60)


@pytest.mark.parametrize("shell", ["zsh", "bash"])
def test_install_then_uninstall_keeps_every_byte(private_home: Path, shell: str) -> None:
    rc = private_home / f".{shell}rc"
    rc.write_bytes(HOSTILE)
    installed = aprender("install", "--shell", shell)
    assert installed.returncode == 0, installed.stderr.decode(errors="replace")
    assert installed.stderr == b""
    after = rc.read_bytes()
    assert after.startswith(HOSTILE + b"\n")
    assert after.count(BEGIN.encode()) == 1
    again = aprender("install", "--shell", shell)
    assert again.returncode == 0 and rc.read_bytes() == after
    removed = aprender("uninstall", "--shell", shell, "--keep-model")
    assert removed.returncode == 0, removed.stderr.decode(errors="replace")
    assert removed.stderr == b""
    # Our block and the newline install added are gone; every other byte is as it was.
    assert rc.read_bytes() == HOSTILE


def test_uninstall_removes_a_block_from_a_non_utf8_file(private_home: Path) -> None:
    rc = private_home / ".bashrc"
    before = b"# \xe9t\xe9\n"
    installed = aprender("install", "--shell", "bash")
    assert installed.returncode == 0
    rc.write_bytes(before + rc.read_bytes() + b"alias ll='ls -l' # \xff\n")
    removed = aprender("uninstall", "--shell", "bash", "--keep-model")
    assert removed.returncode == 0, removed.stderr.decode(errors="replace")
    assert rc.read_bytes() == before + b"alias ll='ls -l' # \xff\n"

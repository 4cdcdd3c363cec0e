"""The built-in list on a real pseudo-terminal: the keys a user presses, what it ends with."""

from __future__ import annotations

import os
import pty
import termios
import threading
from collections.abc import Iterator
from tty import setraw as raw

import pytest

from aprender_shell.picker import BuiltinList, Picked, header, matches

COMMANDS = ["git commit -m fix", "make test", "git checkout main", "ls -la", "Makefile edit"]


@pytest.fixture
def terminal() -> Iterator[tuple[int, int]]:
    """A pseudo-terminal: the user's end and the list's end (drained, as a terminal would)."""
    user, tty = pty.openpty()
    # As a shell leaves it while it reads keys: no line editing, no signals from keys.
    raw(tty)
    shown = threading.Thread(target=_drain, args=(user,), daemon=True)
    shown.start()
    yield user, tty
    os.close(tty)
    os.close(user)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass


def pick(terminal: tuple[int, int], keys: bytes, query: str = "") -> Picked:
    user, tty = terminal
    before = termios.tcgetattr(tty)
    os.write(user, keys)  # typed before the list shows: still its keys
    picked = BuiltinList(tty, COMMANDS, query, {"folder": False}).run()
    assert termios.tcgetattr(tty) == before  # the terminal is given back as it was
    return picked


@pytest.mark.parametrize(
    ("keys", "command"),
    [
        (b"\r", "git commit -m fix"),
        (b"chec\r", "git checkout main"),
        (b"\x1b[B\x1b[B\r", "git checkout main"),  # Down, Down
        (b"\x1bOB\x1b[A\x0e\r", "make test"),  # Down, Up, Ctrl-N
        (b"git main\r", "git checkout main"),  # every word, anywhere
        (b"make\r", "make test"),  # a word in lower case matches any case; capitals only themselves
        (b"Make\r", "Makefile edit"),
        (b"lsx\x7f\r", "ls -la"),  # Backspace
        (b"zz zz\x17\x17ls\r", "ls -la"),  # Ctrl-W twice
        (b"zzz\x15make\r", "make test"),  # Ctrl-U
        (b"\x1b[1;5Cls\r", "ls -la"),  # an unknown sequence is skipped whole
        ("é\x7fls\r".encode(), "ls -la"),
    ],
)
def test_keys_choose_the_command(terminal: tuple[int, int], keys: bytes, command: str) -> None:
    assert pick(terminal, keys).command == command


@pytest.mark.parametrize("keys", [b"chec\x1b", b"\x03", b"\x07", b"nothing matches\r\x1b"])
def test_esc_ctrl_c_and_ctrl_g_cancel(terminal: tuple[int, int], keys: bytes) -> None:
    picked = pick(terminal, keys)
    assert picked.command is None and picked.key is None


def test_a_filter_key_ends_the_pick_with_the_query_kept(terminal: tuple[int, int]) -> None:
    assert pick(terminal, b"git\x1bd") == Picked(None, "alt-d", "git")
    assert pick(terminal, b"\x1bs", query="make") == Picked(None, "alt-s", "make")


def test_keys_after_enter_stay_for_the_shell(terminal: tuple[int, int]) -> None:
    user, tty = terminal
    assert pick(terminal, b"ls\rX").command == "ls -la"
    assert os.read(tty, 10) == b"X"


def test_matching_and_the_header() -> None:
    assert matches("", COMMANDS) == [0, 1, 2, 3, 4]
    assert matches("git  fix", COMMANDS) == [0]
    assert header({"folder": True}) == (
        "Alt-D [x] this folder   Alt-S [ ] succeeded   Alt-H [ ] this host"
    )

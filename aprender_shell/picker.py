"""Choosing one command from a ranked list on the terminal: fzf when it is there, else our own.

Both read keys from and draw on ``/dev/tty`` (a shell's key binding captures our stdout), keep
the list's order while narrowing it to what is typed, and end in one of three ways: a command
chosen (Enter), cancelled (Esc, Ctrl-C, Ctrl-G), or a filter key pressed (``FILTER_KEYS``),
after which the caller fetches the list again and reopens the picker with the same query.

The built-in list is a plain ANSI full-screen list (the alternate screen, so the shell's screen
comes back as it was): a query line, a status line with the filters, then the matches.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
from collections.abc import Sequence
from typing import NamedTuple

from aprender_shell.terminal import escape_field

# Alt-D: only this folder; Alt-S: only commands that succeeded; Alt-H: only this host.
FILTER_KEYS = {"alt-d": "folder", "alt-s": "succeeded", "alt-h": "host"}
# After a lone Esc, how long to wait for the rest of a key sequence (an arrow's "[A") before
# taking it as Esc itself: terminals send a sequence in one write, so this is only a guard.
ESCAPE_WAIT = 0.05


class Picked(NamedTuple):
    """How a pick ended: ``command`` chosen, or ``key`` (a filter key) pressed, or neither
    (cancelled); ``query`` is what was typed."""

    command: str | None
    key: str | None
    query: str


def fzf_program() -> str | None:
    """fzf's path, unless it is missing or turned off with ``APRENDER_SHELL_FZF=0``."""
    if os.environ.get("APRENDER_SHELL_FZF", "") == "0":
        return None
    return shutil.which("fzf")


def header(filters: dict[str, bool]) -> str:
    """The line naming the filter keys and which filters are on."""
    names = {"folder": "this folder", "succeeded": "succeeded", "host": "this host"}
    return "   ".join(
        f"{key.replace('alt-', 'Alt-').upper().replace('ALT-', 'Alt-')} "
        f"{'[x]' if filters.get(name) else '[ ]'} {names[name]}"
        for key, name in FILTER_KEYS.items()
    )


def pick_with_fzf(
    program: str, commands: Sequence[str], query: str, filters: dict[str, bool]
) -> Picked:
    """Let the user pick with fzf, in our order (``--no-sort``), each command shown escaped."""
    lines = "".join(f"{number}\t{escape_field(text)}\n" for number, text in enumerate(commands))
    argv = [
        program, "--no-sort", "--height=40%", "--delimiter=\t", "--with-nth=2..",
        "--print-query", f"--expect={','.join(FILTER_KEYS)}", f"--query={query}",
        f"--header={header(filters)}", "--prompt=Ctrl-R> ",
    ]
    # fzf draws on its stderr: the terminal's, even where the shell sent ours away (it does, so
    # that an error of ours never lands in the middle of the line being edited).
    try:
        terminal: int | None = os.open("/dev/tty", os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        terminal = None
    try:
        found = subprocess.run(
            argv, input=lines.encode("utf-8", "surrogateescape"), stdout=subprocess.PIPE,
            stderr=terminal, check=False,
        )
    finally:
        if terminal is not None:
            os.close(terminal)
    # --print-query, --expect: the query, the key (empty for Enter), then the chosen line.
    out = found.stdout.decode("utf-8", "surrogateescape").split("\n")
    typed = out[0] if out else query
    if found.returncode not in (0, 1) or len(out) < 2:
        return Picked(None, None, typed)
    key = out[1] or None
    if key in FILTER_KEYS:
        return Picked(None, key, typed)
    chosen = out[2] if len(out) > 2 else ""
    number, _, _ = chosen.partition("\t")
    if found.returncode == 0 and number.isdigit() and int(number) < len(commands):
        return Picked(commands[int(number)], None, typed)
    return Picked(None, None, typed)


def matches(query: str, commands: Sequence[str], lowered: Sequence[str] | None = None) -> list[int]:
    """The places of the commands holding every word of ``query``, in order; a word is matched
    regardless of case unless it has a capital letter (smart case, as fzf). ``lowered``: the
    commands in lower case, when the caller keeps them between keys."""
    words = query.split()
    if not words:
        return list(range(len(commands)))
    if lowered is None:
        lowered = [text.lower() for text in commands]
    found = []
    cased = [(word, word.lower() == word) for word in words]
    for number, text in enumerate(commands):
        lower = lowered[number]
        if all((word in lower) if caseless else (word in text) for word, caseless in cased):
            found.append(number)
    return found


class BuiltinList:
    """The built-in list, drawn on the terminal ``tty_fd`` (opened on ``/dev/tty``)."""

    def __init__(self, tty_fd: int, commands: Sequence[str], query: str,
                 filters: dict[str, bool]) -> None:
        self.fd = tty_fd
        self.commands = commands
        self.query = query
        self.filters = filters
        self.selected = 0
        self.lowered = [text.lower() for text in commands]
        self.shown = matches(query, commands, self.lowered)

    def run(self) -> Picked:
        import termios
        import tty

        saved = termios.tcgetattr(self.fd)
        try:
            # Now, not flushing: keys typed before the list showed are its first keys.
            tty.setraw(self.fd, termios.TCSANOW)
            self._write("\x1b[?1049h\x1b[?25l")  # the alternate screen, no cursor
            while True:
                self.draw()
                try:
                    key = self.read_key()
                except EOFError:
                    return Picked(None, None, self.query)
                ended = self.handle(key)
                if ended is not None:
                    return ended
        finally:
            # A terminal that hung up takes neither: nothing is left to give back.
            with contextlib.suppress(OSError, termios.error):
                self._write("\x1b[?25h\x1b[?1049l")
                # Draining, not flushing: keys typed after Enter are the shell's.
                termios.tcsetattr(self.fd, termios.TCSADRAIN, saved)

    def handle(self, key: str) -> Picked | None:
        """Act on one key; a ``Picked`` when it ends the pick."""
        if key in ("\r", "\n"):
            if self.shown:
                return Picked(self.commands[self.shown[self.selected]], None, self.query)
            return None
        if key in ("esc", "\x03", "\x07"):
            return Picked(None, None, self.query)
        if key in FILTER_KEYS:
            return Picked(None, key, self.query)
        if key in ("up", "\x10"):
            self.selected = max(0, self.selected - 1)
        elif key in ("down", "\x0e"):
            self.selected = min(max(0, len(self.shown) - 1), self.selected + 1)
        elif key in ("\x7f", "\x08"):
            self._narrow(self.query[:-1])
        elif key == "\x15":
            self._narrow("")
        elif key == "\x17":
            kept = self.query.rstrip().rpartition(" ")[0]
            self._narrow(kept + " " if kept else "")
        elif len(key) == 1 and key.isprintable():
            self._narrow(self.query + key)
        return None

    def _narrow(self, query: str) -> None:
        self.query = query
        self.shown = matches(query, self.commands, self.lowered)
        self.selected = 0

    def draw(self) -> None:
        try:
            size = os.get_terminal_size(self.fd)
            columns, rows = size.columns, size.lines
        except OSError:
            columns, rows = 80, 24
        width = max(10, columns - 3)
        out = ["\x1b[H\x1b[2J", f"Ctrl-R> {escape_field(self.query)}"[: columns - 1], "\r\n"]
        status = f"  {len(self.shown)}/{len(self.commands)}   {header(self.filters)}"
        out += [status[: columns - 1], "\r\n"]
        room = max(1, rows - 2)
        top = max(0, self.selected - room + 1)
        for row, number in enumerate(self.shown[top : top + room]):
            text = escape_field(self.commands[number])[:width]
            if top + row == self.selected:
                out.append(f"\x1b[7m> {text}\x1b[0m")
            else:
                out.append(f"  {text}")
            if row < room - 1:
                out.append("\r\n")
        self._write("".join(out))

    def read_key(self) -> str:
        """The next key: a character, or a name (``esc``, ``up``, ``down``, ``alt-d``...).

        Read a byte at a time: keys typed after Enter stay in the terminal for the shell.
        """
        first = self._byte()
        if first != b"\x1b":
            return self._char(first)
        if not self._more():
            return "esc"
        second = self._byte()
        if second in (b"[", b"O"):
            final = self._byte()
            while not 0x40 <= final[0] <= 0x7E:
                final = self._byte()
            # Arrows; any other sequence (a function key, Home...) is skipped whole.
            return {b"A": "up", b"B": "down"}.get(final, "")
        name = "alt-" + second.decode("ascii", "replace").lower()
        return name if name in FILTER_KEYS else ""

    def _char(self, data: bytes) -> str:
        # A UTF-8 character comes as its lead byte and as many more as it announces.
        lead = data[0]
        more = 3 if lead >= 0xF0 else 2 if lead >= 0xE0 else 1 if lead >= 0xC0 else 0
        for _ in range(more):
            data += self._byte()
        return data.decode("utf-8", "replace")

    def _byte(self) -> bytes:
        try:
            data = os.read(self.fd, 1)
        except OSError:
            data = b""  # hung up (EIO): as the end of input
        if not data:
            raise EOFError("the terminal went away")
        return data

    def _more(self) -> bool:
        return bool(select.select([self.fd], [], [], ESCAPE_WAIT)[0])

    def _write(self, text: str) -> None:
        data = text.encode("utf-8", "replace")
        while data:
            data = data[os.write(self.fd, data) :]


def pick_builtin(commands: Sequence[str], query: str, filters: dict[str, bool]) -> Picked:
    """Let the user pick from the built-in list on the controlling terminal."""
    fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        return BuiltinList(fd, commands, query, filters).run()
    finally:
        os.close(fd)

"""Just enough of a terminal to tell which colour each character on screen was last drawn in.

zle redraws a line with cursor moves, erases and SGR colour changes; replaying them onto a grid
shows what stays in the scrollback, which the raw byte stream alone does not (a character may
be drawn grey, then redrawn plain).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SEQUENCE = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z@])|\x1b[()][A-Za-z0-9]|\x1b[=>78]|(.)", re.S)
DEFAULT = "default"


def _colour(params: list[int], current: str) -> str:
    # Only the foreground matters here; every other attribute is ignored.
    index = 0
    while index < len(params):
        code = params[index]
        if code in (0, 39):
            current = DEFAULT
        elif 30 <= code <= 37 or 90 <= code <= 97:
            current = str(code - 30 if code < 90 else code - 82)
        elif code == 38 and index + 2 < len(params) and params[index + 1] == 5:
            current = str(params[index + 2])
            index += 2
        index += 1
    return current


@dataclass
class Screen:
    """Characters and their foreground colour, by (row, column); rows grow without scrolling."""

    cells: dict[tuple[int, int], tuple[str, str]] = field(default_factory=dict)
    row: int = 0
    column: int = 0
    colour: str = DEFAULT

    def feed(self, output: str) -> Screen:
        for match in _SEQUENCE.finditer(output):
            text, final = match.group(3), match.group(2)
            if text is not None:
                self._character(text)
            elif final is not None:
                self._control(match.group(1), final)
        return self

    def _character(self, char: str) -> None:
        if char == "\r":
            self.column = 0
        elif char == "\n":
            self.row += 1
        elif char == "\b":
            self.column = max(0, self.column - 1)
        elif char >= " ":
            self.cells[(self.row, self.column)] = (char, self.colour)
            self.column += 1

    def _control(self, raw: str, final: str) -> None:
        params = [int(part) for part in raw.split(";") if part.isdigit()]
        count = params[0] if params else 1
        if final == "m":
            self.colour = _colour(params or [0], self.colour)
        elif final == "A":
            self.row = max(0, self.row - count)
        elif final == "B":
            self.row += count
        elif final == "C":
            self.column += count
        elif final == "D":
            self.column = max(0, self.column - count)
        elif final == "K":
            for key in [key for key in self.cells if key[0] == self.row and key[1] >= self.column]:
                del self.cells[key]
        elif final == "J":
            for key in [key for key in self.cells if key[0] > self.row
                        or (key[0] == self.row and key[1] >= self.column)]:
                del self.cells[key]

    def line(self, row: int) -> list[tuple[str, str]]:
        """The characters of ``row`` with their colours, left to right, gaps as plain blanks."""
        columns = [column for (r, column) in self.cells if r == row]
        if not columns:
            return []
        return [self.cells.get((row, column), (" ", DEFAULT)) for column in range(max(columns) + 1)]

    def text(self, row: int) -> str:
        return "".join(char for char, _ in self.line(row))

    def rows_with(self, text: str) -> list[int]:
        return sorted({row for (row, _) in self.cells if text in self.text(row)})

    def colours_after(self, row: int, start: str) -> dict[str, str]:
        """Each character drawn after ``start`` on ``row``, with the colour it was drawn in."""
        line = self.line(row)
        at = self.text(row).index(start) + len(start)
        return {f"{index}:{char}": colour for index, (char, colour) in enumerate(line[at:])
                if char != " "}

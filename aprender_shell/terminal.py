"""Text bound for a person's terminal, made harmless: no byte of it can drive the terminal.

A history line may hold escape sequences (``ESC ] 0 ; title BEL`` retitles the window,
``ESC [2J`` clears it, C1's single-byte CSI does the same on some terminals) and bidirectional
overrides that make text read other than it runs. Everything printed for a person that
comes from a history, a model, a request or a file name goes through here. Imports nothing:
the cold ``suggest`` path uses it.
"""

from __future__ import annotations

# The escapes every output field and the protocol's line form share, read back by shells too.
SHORT_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
# Bidirectional controls (Trojan Source, CVE-2021-42574): escaped like control characters.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Beyond C0, what still drives a terminal or reorders what it shows: DEL, C1, bidi controls.
TERMINAL_CONTROLS = "\x7f" + "".join(map(chr, range(0x80, 0xA0))) + BIDI_CONTROLS
_BIDI = frozenset(BIDI_CONTROLS)


def _unsafe(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF or char in _BIDI


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"  # a byte that was not UTF-8 (surrogateescape)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character, bidirectional control and undecodable byte
    written as a visible ``\\xHH`` / ``\\uXXXX`` escape; everything else as it is."""
    if text.isprintable():  # the common case, in C; it is False for all we escape
        return text
    return "".join(_escape(char) if _unsafe(char) else char for char in text)


def escape_field(text: str) -> str:
    """``text`` as one tab-separated output field: as ``printable``, and also backslash,
    newline, tab and CR as ``\\\\``, ``\\n``, ``\\t``, ``\\r``, so the escaping reads back."""
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(
        SHORT_ESCAPES.get(char) or (_escape(char) if _unsafe(char) else char) for char in text
    )


def suggestion_line(text: str, p: float, partial: bool = False) -> str:
    """One line of ``suggest``'s output (no newline): the command as one escaped field, a tab,
    its ``p``, and for a partial ghost (the likely start of several commands) a tab and
    ``partial``; the command line and its click-free fast path print exactly this."""
    line = f"{escape_field(text)}\t{p:.4f}"
    return f"{line}\tpartial" if partial else line


def human_bytes(size: float) -> str:
    """``size`` bytes for a person: 812 bytes, 3.4 KB, 1.2 GB."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"

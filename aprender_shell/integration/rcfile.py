"""The marked block aprender-shell keeps in an rc file: added once, shown first, removed cleanly.

An rc file is edited as text decoded with ``surrogateescape``: bytes that are not UTF-8 (a
Latin-1 comment, stray binary) travel through as they were, so every byte outside our block is
written back exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aprender_shell.errors import AprenderError
from aprender_shell.fileio import NotRegularFileError, atomic_write_bytes, read_regular

# An rc file is a few KB; anything past this is not one, and is not read whole.
MAX_RC_BYTES = 16 * 1024 * 1024

BEGIN = "# >>> aprender-shell >>>"
END = "# <<< aprender-shell <<<"


def make_block(init_line: str) -> str:
    """The whole marked block around ``init_line``, ending with a newline."""
    note = "# Added by 'aprender-shell install'; remove with 'aprender-shell uninstall'."
    return f"{BEGIN}\n{note}\n{init_line}\n{END}\n"


def _block_span(lines: list[str]) -> tuple[int, int] | None:
    # The first complete block as [start, end) line indices; an unterminated block is no block.
    start = next((i for i, line in enumerate(lines) if line.strip() == BEGIN), None)
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].strip() == END), None)
    return None if end is None else (start, end + 1)


def remove_block(text: str) -> str:
    """``text`` without its aprender-shell blocks (and the blank line install put before one)."""
    lines = text.splitlines(keepends=True)
    span = _block_span(lines)
    while span is not None:
        start, end = span
        if start > 0 and lines[start - 1].strip() == "":
            start -= 1
        del lines[start:end]
        span = _block_span(lines)
    return "".join(lines)


def with_block(text: str, block: str) -> str:
    """``text`` with one aprender-shell block, ``block``: replaced where it was, else appended."""
    lines = text.splitlines(keepends=True)
    span = _block_span(lines)
    if span is not None:
        start, end = span
        rest = remove_block("".join(lines[end:]))
        return "".join(lines[:start]) + block + rest
    if not text.strip():
        return block
    return text + ("" if text.endswith("\n") else "\n") + "\n" + block


@dataclass(frozen=True)
class RcEdit:
    """A planned change of one rc file: what it holds now and what it would hold after."""

    path: Path
    before: str
    after: str

    @property
    def changes(self) -> bool:
        return self.before != self.after

    def apply(self) -> None:
        """Write ``after`` atomically, keeping the file's permission bits (0644 for a new file)."""
        mode = self.path.stat().st_mode & 0o777 if self.path.exists() else 0o644
        target = self.path.resolve() if self.path.is_symlink() else self.path
        atomic_write_bytes(target, encode_rc(self.after), mode=mode)


def read_rc(path: Path) -> str:
    """The rc file's text (non-UTF-8 bytes kept as surrogates), or "" when it does not exist.

    Raises ``AprenderError`` when it cannot be read, or is not a regular file of sensible size.
    """
    try:
        data = read_regular(path, MAX_RC_BYTES, what="rc file")
    except FileNotFoundError:
        return ""
    except NotRegularFileError:
        raise
    except OSError as error:
        raise AprenderError(f"cannot read rc file {path}: {error.strerror or error}") from None
    except AprenderError:
        raise AprenderError(
            f"rc file {path} is larger than {MAX_RC_BYTES // 2**20} MB, so not an rc file: "
            "check what it is"
        ) from None
    return data.decode("utf-8", "surrogateescape")


def encode_rc(text: str) -> bytes:
    """The bytes of rc-file text from ``read_rc``: exactly the bytes read, where unchanged."""
    return text.encode("utf-8", "surrogateescape")


def plan_install(path: Path, init_line: str) -> RcEdit:
    """The edit that leaves ``path`` with one up-to-date block running ``init_line``."""
    before = read_rc(path)
    return RcEdit(path, before, with_block(before, make_block(init_line)))


def plan_uninstall(path: Path) -> RcEdit:
    """The edit that removes the aprender-shell block from ``path``."""
    before = read_rc(path)
    return RcEdit(path, before, remove_block(before))

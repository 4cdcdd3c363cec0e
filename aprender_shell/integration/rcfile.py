"""What install writes into a user's files, and how uninstall gives them back byte for byte.

Two kinds of edit: a marked block in an rc file (zsh, bash), added once, shown first, removed
cleanly; and a whole snippet file of our own (fish's ``conf.d``), deleted on uninstall. Whatever
install had to change besides (a file it created, a final newline it added, folders it made) is
written down in the block or snippet itself, so uninstall can undo exactly that, even after the
data folder is gone.

An rc file is edited as text decoded with ``surrogateescape``: bytes that are not UTF-8 (a
Latin-1 comment, stray binary) travel through as they were, so every byte outside our block is
written back exactly.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from aprender_shell.errors import AprenderError
from aprender_shell.fileio import NotRegularFileError, atomic_write_bytes, read_regular

# An rc file is a few KB; anything past this is not one, and is not read whole.
MAX_RC_BYTES = 16 * 1024 * 1024

BEGIN = "# >>> aprender-shell >>>"
END = "# <<< aprender-shell <<<"
NOTE = "# Added by 'aprender-shell install'; remove with 'aprender-shell uninstall'."
# Notes of what install changed besides the block, read back by uninstall.
CREATED = "# (install created this file: uninstall deletes it if nothing else is left in it)"
JOINED = "# (install ended the line above with a newline: uninstall takes it back)"
MADE_FOLDER = "# (install made the folder: "
MADE_FOLDER_END = ")"


def make_block(init_line: str, created: bool = False, joined: bool = False) -> str:
    """The whole marked block around ``init_line``, ending with a newline."""
    notes = [NOTE] + ([CREATED] if created else []) + ([JOINED] if joined else [])
    return "\n".join([BEGIN, *notes, init_line, END]) + "\n"


def _block_span(lines: list[str]) -> tuple[int, int] | None:
    # The first complete block as [start, end) line indices; an unterminated block is no block.
    start = next((i for i, line in enumerate(lines) if line.strip() == BEGIN), None)
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].strip() == END), None)
    return None if end is None else (start, end + 1)


@dataclass(frozen=True)
class Removed:
    """A text with its blocks taken out, and what those blocks said install had done."""

    text: str
    created: bool = False
    joined: bool = False


def take_blocks(text: str) -> Removed:
    """``text`` without its aprender-shell blocks, and the notes they carried.

    The blank line install puts before a block goes with it; when a block noted that install
    added the final newline of the line before it, and nothing follows the block, that newline
    goes too.
    """
    lines = text.splitlines(keepends=True)
    created = joined = False
    span = _block_span(lines)
    while span is not None:
        start, end = span
        notes = {line.strip() for line in lines[start:end]}
        created = created or CREATED in notes
        at_end = end == len(lines)
        if start > 0 and lines[start - 1].strip() == "":
            start -= 1
        del lines[start:end]
        if JOINED in notes and at_end and lines and lines[-1].endswith("\n"):
            lines[-1] = lines[-1][:-1]
            joined = True
        span = _block_span(lines)
    return Removed("".join(lines), created, joined)


def remove_block(text: str) -> str:
    """``text`` without its aprender-shell blocks (see ``take_blocks``)."""
    return take_blocks(text).text


def with_block(text: str | None, init_line: str) -> str:
    """``text`` (None: no file) with one up-to-date block running ``init_line``.

    An existing block is replaced where it is, keeping its notes; a new one is appended after a
    blank line, noting what else install had to change to put it there.
    """
    if text is None:
        return make_block(init_line, created=True)
    lines = text.splitlines(keepends=True)
    span = _block_span(lines)
    if span is not None:
        start, end = span
        notes = {line.strip() for line in lines[start:end]}
        block = make_block(init_line, CREATED in notes, JOINED in notes)
        rest = remove_block("".join(lines[end:]))
        return "".join(lines[:start]) + block + rest
    if not text:
        return make_block(init_line)
    joined = not text.endswith("\n")
    return text + ("\n" if joined else "") + "\n" + make_block(init_line, joined=joined)


@dataclass(frozen=True)
class RcEdit:
    """A planned change of one file: what it holds now and after (None: no such file).

    ``folders`` are the folders to make before writing (install) or to remove once empty after
    deleting the file (uninstall), innermost first.
    """

    path: Path
    before: str | None
    after: str | None
    folders: tuple[Path, ...] = field(default=())

    @property
    def changes(self) -> bool:
        return self.before != self.after

    def describe(self) -> list[str]:
        """One line for each thing ``apply`` would do beyond changing lines of the file."""
        done: list[str] = []
        if self.after is None and self.before is not None:
            done.append(f"Deleting {self.path}")
            done += [f"Removing the folder {folder} if empty" for folder in self.folders]
        elif self.before is None and self.after is not None:
            done += [f"Making the folder {folder}" for folder in reversed(self.folders)]
            done.append(f"Creating {self.path}")
        return done

    def apply(self) -> None:
        """Make the change: write ``after`` atomically keeping the file's permission bits
        (0644 for a new file), or delete the file and the empty folders install had made."""
        if self.after is None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            for folder in self.folders:
                with contextlib.suppress(OSError):  # not empty, or gone: leave it
                    folder.rmdir()
            return
        for folder in reversed(self.folders):
            folder.mkdir(exist_ok=True)
        mode = self.path.stat().st_mode & 0o777 if self.path.exists() else 0o644
        target = self.path.resolve() if self.path.is_symlink() else self.path
        atomic_write_bytes(target, encode_rc(self.after), mode=mode)


def read_rc(path: Path) -> str | None:
    """The rc file's text (non-UTF-8 bytes kept as surrogates; CRLF kept), or None when it does
    not exist.

    Raises ``AprenderError`` when it cannot be read, or is not a regular file of sensible size.
    """
    try:
        data = read_regular(path, MAX_RC_BYTES, what="rc file")
    except FileNotFoundError:
        return None
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
    return RcEdit(path, before, with_block(before, init_line))


def plan_uninstall(path: Path) -> RcEdit:
    """The edit that takes the block out of ``path``: the file as it was before install."""
    before = read_rc(path)
    if before is None:
        return RcEdit(path, None, None)
    removed = take_blocks(before)
    after: str | None = removed.text
    if removed.created and not removed.text:
        after = None
    return RcEdit(path, before, after)


# --- a snippet file of our own (fish's conf.d) ------------------------------------------------


def missing_folders(folder: Path) -> tuple[Path, ...]:
    """``folder`` and those of its parents that do not exist, innermost first."""
    missing: list[Path] = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return tuple(missing)


def make_snippet(body: str, folders: tuple[Path, ...] = ()) -> str:
    """A snippet file: our opening mark, a note per folder install made, ``body``, and the
    closing mark after the code it wraps."""
    made = [f"{MADE_FOLDER}{os.fspath(folder)}{MADE_FOLDER_END}" for folder in folders]
    return "\n".join([BEGIN, NOTE, *made, body.rstrip("\n"), END]) + "\n"


def is_ours(text: str) -> bool:
    """Whether a snippet file was written by install (it starts with our mark)."""
    return text.startswith(BEGIN + "\n")


def snippet_folders(text: str) -> tuple[Path, ...]:
    """The folders a snippet notes install made for it, innermost first."""
    found = []
    for line in text.splitlines():
        if line == END or not line.startswith("#"):
            break  # the notes come before the code (and the closing mark, in older snippets)
        if line.startswith(MADE_FOLDER) and line.endswith(MADE_FOLDER_END):
            found.append(Path(line[len(MADE_FOLDER):-len(MADE_FOLDER_END)]))
    return tuple(found)


def plan_snippet_install(path: Path, body: str) -> RcEdit:
    """The edit that leaves ``path`` holding our snippet running ``body``."""
    before = read_rc(path)
    if before is not None and not is_ours(before):
        raise AprenderError(f"{path} exists and was not written by aprender-shell: "
                            "move it away, then run 'aprender-shell install' again")
    if before is None:
        folders = missing_folders(path.parent)
        return RcEdit(path, None, make_snippet(body, folders), folders)
    return RcEdit(path, before, make_snippet(body, snippet_folders(before)))


def plan_snippet_uninstall(path: Path) -> RcEdit:
    """The edit that deletes our snippet and the folders install made for it (if empty)."""
    before = read_rc(path)
    if before is None or not is_ours(before):
        return RcEdit(path, before, before)
    return RcEdit(path, before, None, snippet_folders(before))

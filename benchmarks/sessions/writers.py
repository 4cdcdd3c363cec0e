"""History files in each shell's own format, and the shipped sample history."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from benchmarks.sessions.personas import generate_sessions
from benchmarks.sessions.simulator import (
    SAMPLE_SEED,
    SAMPLE_SIZE,
    START,
    CommandLike,
    SessionCommand,
)


def _timed(cmds: Sequence[CommandLike]) -> list[tuple[str, int | None]]:
    return [(c, None) if isinstance(c, str) else (c.command, c.timestamp) for c in cmds]


def _metafy(line: str) -> bytes:
    """zsh's history file encoding: bytes 0x83-0x9f and NUL become 0x83 and the byte ^ 0x20."""
    out = bytearray()
    for byte in line.encode("utf-8"):
        if byte == 0 or 0x83 <= byte <= 0x9F:
            out += bytes((0x83, byte ^ 0x20))
        else:
            out.append(byte)
    return bytes(out)


def write_zsh_history(path: Path | str, cmds: Sequence[CommandLike]) -> None:
    """zsh EXTENDED_HISTORY lines; a plain string takes the time of the command before it."""
    chunks = []
    last = START
    for command, timestamp in _timed(cmds):
        last = last if timestamp is None else timestamp
        chunks.append(b": %d:0;" % last + _metafy(command.replace("\n", "\\\n")) + b"\n")
    Path(path).write_bytes(b"".join(chunks))


def write_bash_history(path: Path | str, cmds: Sequence[CommandLike]) -> None:
    """bash HISTTIMEFORMAT history: ``#<time>`` before each timed command."""
    lines = []
    for command, timestamp in _timed(cmds):
        if timestamp is not None:
            lines.append(f"#{timestamp}\n")
        lines.append(f"{command}\n")
    Path(path).write_text("".join(lines), encoding="utf-8")


def write_fish_history(path: Path | str, cmds: Sequence[CommandLike]) -> None:
    """fish's ``- cmd:`` / ``when:`` entries, with fish's escaping of backslash and newline."""
    lines = []
    for command, timestamp in _timed(cmds):
        escaped = command.replace("\\", "\\\\").replace("\n", "\\n")
        lines.append(f"- cmd: {escaped}\n")
        if timestamp is not None:
            lines.append(f"  when: {timestamp}\n")
    Path(path).write_text("".join(lines), encoding="utf-8")


def sample_history_file() -> Path:
    """Where the shipped sample history lives inside the package."""
    from aprender_shell.history.files import sample_history_path

    return sample_history_path()


def sample_sessions() -> list[SessionCommand]:
    """The commands of the shipped sample history: a developer's few weeks."""
    return generate_sessions(SAMPLE_SIZE, seed=SAMPLE_SEED, persona="developer")


def write_sample_history(path: Path | None = None) -> Path:
    """Regenerate the shipped sample history (or write it to ``path``)."""
    target = path or sample_history_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    write_zsh_history(target, sample_sessions())
    return target



"""The memory limit: one value, parsed once, bytes inside, used by every layer.

People write it in MB (MiB; ``16``, ``0.25``) or with a unit (``512K``, ``1G``); the CLI and
the click-free fast path parse it with ``MemoryLimit.parse``, the launcher hands it to the
server as bytes (``MemoryLimit.argument``), and the model, the service and the CLI pass the
value itself: nothing below the parser checks it again.

Which limit applies is one policy, ``MemoryLimit.choose``: the one given, else the model's own
(the one it was trained for, kept in its index), else ``DEFAULT``. A limit is split between the
paging cache (``paging``, the bundle's ``max_memory``) and what is learned live since training
(``learned``, the overlay's bytes); training sizes segments from it (``segment_bytes``).

Kept apart from the model's other modules so that parsing it imports nothing else.
"""

from __future__ import annotations

from aprender_shell.errors import UsageError

_MB = 2**20
_UNITS = {
    "": _MB,  # a bare number is MB, as --memory-limit has always been
    "b": 1,
    "k": 2**10, "kb": 2**10, "kib": 2**10,
    "m": _MB, "mb": _MB, "mib": _MB,
    "g": 2**30, "gb": 2**30, "gib": 2**30,
}
# Segment sizes a model may be trained with: a quarter of its limit, within these bounds.
MIN_SEGMENT_BYTES = 32 * 1024
MAX_SEGMENT_BYTES = 256 * 1024
# What is learned live gets this fraction (1/LEARNED_SHARE) of the limit; paging the rest.
LEARNED_SHARE = 4


def _megabytes(size: float) -> str:
    return f"{size / _MB:.3g}" if size < 1000 * _MB else f"{size / _MB:.0f}"


class MemoryLimit:
    """The bytes a model may hold while answering (``size``), checked when it is made.

    Two limits are equal when their sizes are; ``str()`` is what a person reads (``16 MB``).
    """

    __slots__ = ("size",)
    # Below this even one segment and the index do not fit; above it no machine has the memory.
    MIN = 128 * 1024
    MAX = 2**40
    # The tool's one default (the bundle library keeps its own, for other users of it).
    DEFAULT_SIZE = 16 * _MB

    size: int

    def __init__(self, size: int) -> None:
        if not self.MIN <= size <= self.MAX:
            problem = "too small" if size < self.MIN else "too large"
            raise UsageError(
                f"memory limit {_megabytes(size)} MB is {problem}: use at least "
                f"{_megabytes(self.MIN)} MB and at most {_megabytes(self.MAX)} MB (1 TB)"
            )
        object.__setattr__(self, "size", int(size))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a MemoryLimit cannot change")

    @classmethod
    def parse(cls, text: str) -> MemoryLimit:
        """The limit a person wrote: MB, or a number and a unit (``B``, ``K``/``KB``/``KiB``,
        ``M``/``MB``/``MiB``, ``G``/``GB``/``GiB``, binary, case ignored). Anything else, or a
        size out of range, is a ``UsageError`` of one line."""
        written = text.strip()
        number = written.rstrip("BbKkMmGgIi ")
        unit = written[len(number) :].strip().lower()
        try:
            value = float(number) * _UNITS[unit]
            if value != value or abs(value) == float("inf"):
                raise ValueError(number)
        except (KeyError, ValueError):
            raise UsageError(
                f"memory limit {text[:40]!r} is not a size: give MB (16, 0.25) or a unit "
                "(512K, 16MB, 1G)"
            ) from None
        if value > cls.MAX:
            # Said in the words written: 1e30 MB has no useful rendering as a size.
            raise UsageError(
                f"memory limit {text[:40]!r} is too large: use at least {_megabytes(cls.MIN)} "
                f"MB and at most {_megabytes(cls.MAX)} MB (1 TB)"
            )
        return cls(int(value))

    @classmethod
    def default(cls) -> MemoryLimit:
        return cls(cls.DEFAULT_SIZE)

    @classmethod
    def choose(cls, given: MemoryLimit | None, trained: int | None = None) -> MemoryLimit:
        """The limit that applies: ``given`` if any, else the model's own (``trained``, the size
        its index records), else the default."""
        if given is not None:
            return given
        return cls(trained) if trained is not None else cls.default()

    @property
    def learned(self) -> int:
        """The bytes what is learned live (the overlay) may hold."""
        return self.size // LEARNED_SHARE

    @property
    def paging(self) -> int:
        """The bytes the paging cache may hold (the bundle's ``max_memory``)."""
        return self.size - self.learned

    @property
    def segment_bytes(self) -> int:
        """The largest segment a model trained for this limit may hold: a quarter of it, within
        ``MIN_SEGMENT_BYTES`` and ``MAX_SEGMENT_BYTES``."""
        return max(MIN_SEGMENT_BYTES, min(MAX_SEGMENT_BYTES, self.size // 4))

    def argument(self) -> str:
        """The limit as ``--memory-limit`` reads it back exactly (bytes, for the launcher)."""
        return f"{self.size}B"

    def __str__(self) -> str:
        return f"{_megabytes(self.size)} MB"

    def __repr__(self) -> str:
        return f"MemoryLimit({self.size})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MemoryLimit) and other.size == self.size

    def __hash__(self) -> int:
        return hash(self.size)

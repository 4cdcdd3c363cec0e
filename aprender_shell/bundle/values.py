"""Plain value classes: equality, hashing and ``repr`` read off their ``__slots__``.

What the read path keeps (a manifest entry, a table's segment boundaries, a corpus chunk, paging
settings and counters) is made once and read by attribute. A ``NamedTuple`` class compiles its
constructor when it is made, about 0.2 ms of every cold start each (``-X importtime``), and a
dataclass costs its import: a subclass of ``Value`` costs neither. Imports nothing.
"""

from __future__ import annotations


class Value:
    """Equal to another of its own class with equal fields (its ``__slots__``, in order), hashed
    by them, and shown as ``Name(field=value, ...)``. A class holding lists sets ``__hash__`` to
    None."""

    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, type(self)) or type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"

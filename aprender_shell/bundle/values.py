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


TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any, TypeVar

    C = TypeVar("C", bound="Choice")


class _Choices(type):
    """Iterating a ``Choice`` class lists its members, in the order defined."""

    _members: tuple[Choice, ...]

    def __iter__(cls: type[C]) -> Iterator[C]:  # type: ignore[misc]
        return iter(cls._members)  # type: ignore[arg-type]

    def __len__(cls) -> int:
        return len(cls._members)


class Choice(metaclass=_Choices):
    """One of a class's named constants, as an ``Enum`` member is: ``Cls.NAME``, its ``name``
    and ``value``, ``Cls(value)`` finds it (``ValueError`` if none), iterating ``Cls`` lists them,
    and each is one object (compare with ``is``). ``enum`` is not imported: with the functools
    and types it pulls in, about a fifth of Python's own start-up on every cold query.
    ``class Name(Choice, str)`` makes members equal to their values, as ``(str, Enum)`` does.
    Members are made once, by ``_define``, after the class."""

    _members: tuple[Choice, ...] = ()
    name: str
    value: object

    def __new__(cls: type[C], value: object) -> C:
        for member in cls._members:
            if member is value or member.value == value:
                return member  # type: ignore[return-value]
        raise ValueError(f"{value!r} is not a valid {cls.__name__}")

    @classmethod
    def _define(cls, **values: object) -> None:
        base: Any = cls.__mro__[cls.__mro__.index(Choice) + 1]  # str, or object
        members: list[Choice] = []
        for name, value in values.items():
            member: Choice = base.__new__(cls, value) if base is not object else object.__new__(cls)
            member.name, member.value = name, value
            setattr(cls, name, member)
            members.append(member)
        cls._members = tuple(members)

    def __reduce__(self) -> tuple[type[Choice], tuple[object]]:
        return type(self), (self.value,)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}.{self.name}: {self.value!r}>"

    def __str__(self) -> str:
        return f"{type(self).__name__}.{self.name}"

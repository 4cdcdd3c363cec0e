"""``typing.NamedTuple`` for the query path, without importing ``typing``.

``typing`` imports ``re`` and with it costs a cold ``suggest`` about half of Python's own
start-up (``python -m benchmarks.year.floor``). The modules a cold suggest imports take
annotations' names from ``typing`` under ``if TYPE_CHECKING:`` only (a local
``TYPE_CHECKING = False``, which mypy reads as true); what runs, ``NamedTuple`` classes, is
made here with ``collections.namedtuple``, as ``typing.NamedTuple`` itself makes them.
"""

from __future__ import annotations

import collections

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
else:
    # typing.NamedTuple's own rules: the class body's annotations are the fields (those
    # given a value have it as default), and its other names (methods, docstring) are copied
    # onto the namedtuple made from them.
    _SPECIAL = frozenset({"__module__", "__qualname__", "__annotations__"})
    _PROHIBITED = frozenset({"__new__", "__init__", "__slots__", "__getnewargs__", "_fields",
                             "_field_defaults", "_make", "_replace", "_asdict", "_source"})

    class _NamedTupleMeta(type):
        def __new__(cls, name, bases, namespace):
            fields = namespace.get("__annotations__", {})
            defaults = [namespace[field] for field in fields if field in namespace]
            made = collections.namedtuple(name, fields, defaults=defaults,
                                          module=namespace["__module__"])
            made.__annotations__ = made.__new__.__annotations__ = dict(fields)
            for key, value in namespace.items():
                if key in _PROHIBITED:
                    raise AttributeError(f"Cannot overwrite NamedTuple attribute {key}")
                if key not in _SPECIAL and key not in fields:
                    setattr(made, key, value)
            made.__qualname__ = namespace.get("__qualname__", name)
            return made

    NamedTuple = type.__new__(_NamedTupleMeta, "NamedTuple", (), {})

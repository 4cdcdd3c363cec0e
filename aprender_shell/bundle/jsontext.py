"""JSON decoding for the read path, without importing the ``json`` package.

A cold ``suggest`` costs its imports, and importing ``json`` compiles its regular expressions
(about 1.5 ms, a seventh of ``python -c pass``, measured with ``-X importtime`` in a regular
install). A reader needs only the C scanner ``json`` itself decodes with
(``_json.make_scanner``): the same text decodes to the same values. Where ``_json`` is missing
(another Python), this falls back to the ``json`` package. Writing stays with ``json.dumps``,
imported where something is written.
"""

from __future__ import annotations

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    PairsHook = Callable[[list[tuple[str, Any]]], Any]

# JSON's whitespace (RFC 8259), all that may surround a document.
_WHITESPACE = " \t\n\r"
_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


class _Settings:
    """What the C scanner reads off a ``json.JSONDecoder``: the same defaults."""

    def __init__(self, object_pairs_hook: PairsHook | None,
                 parse_constant: Callable[[str], Any]) -> None:
        self.strict = True
        self.object_hook = None
        self.object_pairs_hook = object_pairs_hook
        self.parse_float = float
        self.parse_int = int
        self.parse_constant = parse_constant


class Decoder:
    """``json.loads`` with these hooks, for ``str`` or UTF-8 ``bytes``; raises ``ValueError``
    (or ``RecursionError``) as it does."""

    def __init__(self, object_pairs_hook: PairsHook | None = None,
                 parse_constant: Callable[[str], Any] = _CONSTANTS.__getitem__) -> None:
        # The scanner reads its settings' attributes, as from a json.JSONDecoder.
        self._scan: Callable[[str, int], tuple[Any, int]]
        try:
            from _json import make_scanner
        except ImportError:  # pragma: no cover - CPython has it
            import json

            self._scan = json.JSONDecoder(object_pairs_hook=object_pairs_hook,
                                          parse_constant=parse_constant).scan_once  # type: ignore[attr-defined]
        else:
            settings: object = _Settings(object_pairs_hook, parse_constant)
            self._scan = make_scanner(settings)  # type: ignore[arg-type]

    def loads(self, text: str | bytes | bytearray) -> Any:
        if not isinstance(text, str):
            if not isinstance(text, (bytes, bytearray)):
                raise TypeError(f"JSON text must be str or bytes, not {type(text).__name__}")
            text = text.decode("utf-8", "surrogatepass")  # UnicodeDecodeError is a ValueError
        start = len(text) - len(text.lstrip(_WHITESPACE))
        try:
            value, end = self._scan(text, start)
        except StopIteration as stop:
            raise ValueError(f"Expecting value: char {stop.value}") from None
        except SystemError:
            # _json raises its errors as json.decoder.JSONDecodeError, which it looks up only
            # among modules already imported: a malformed document is where json is needed.
            import json.decoder  # noqa: F401

            value, end = self._scan(text, start)  # raises that error now
        if end != len(text.rstrip(_WHITESPACE)):
            raise ValueError(f"Extra data: char {end}")
        return value


loads = Decoder().loads

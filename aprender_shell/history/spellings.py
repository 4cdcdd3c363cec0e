"""Spellings of a command line's words (read by ``model.query.arguments.shape`` and for heads
with subcommands), told apart with string methods: importing re costs a cold suggest about
3 ms, more than half of Python's own start-up."""

from __future__ import annotations

_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_SUBCOMMAND_CHARACTERS = _LOWER | frozenset("0123456789-")
_SUFFIX_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") | _LOWER


def is_subcommand(token: str) -> bool:
    """Whether ``token`` is spelled as a subcommand: a lowercase ASCII letter, then up to 23
    of those, digits or hyphens."""
    return (0 < len(token) <= 24 and token[0] in _LOWER
            and _SUBCOMMAND_CHARACTERS.issuperset(token))


def is_ipv4(token: str) -> bool:
    """Four dotted groups of one to three digits, and maybe a ``:port``."""
    address, colon, port = token.partition(":")
    if colon and not port.isdecimal():
        return False
    groups = address.split(".")
    return len(groups) == 4 and all(len(group) <= 3 and group.isdecimal() for group in groups)


def has_extension(name: str) -> bool:
    """A file name (no slash) ending in a dot and one to eight letters, digits or ``_``, after
    a stem whose last character is no dot."""
    stem, _, suffix = name.rpartition(".")
    return (bool(stem) and stem[-1] != "." and "/" not in stem and 0 < len(suffix) <= 8
            and _SUFFIX_CHARACTERS.issuperset(suffix))

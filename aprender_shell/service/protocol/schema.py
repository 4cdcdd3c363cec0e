"""What a request may hold: its kinds, keys, types and limits, checked once (PROTOCOL.md).

``parse`` turns a decoded JSON-form request (the line form is decoded into the same shape) into
one typed request, or raises ``RequestError`` with the one line sent back to the client. The
session answers the typed requests; it never looks at raw keys.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aprender_shell.limits import DEFAULT_K, MAX_COMMAND_CHARS, MAX_K, SHELLS
from aprender_shell.model.tuples import NamedTuple

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from typing import Any, Union

# The protocol's version, answered by 'status' (PROTOCOL.md, section 5).
PROTOCOL_VERSION = 1
MAX_LINE_BYTES = 64 * 1024
# Only the most recent commands matter as context; a client sending thousands is trimmed.
MAX_PREV = 16
MAX_ID_CHARS = 256
MAX_ID_INT = 2**63 - 1
# What a request asks, by the one key that says it.
KINDS = ("prefix", "record", "stats", "status", "forget", "search", "feedback")
# The longest agent name a record may carry, and the most suggestions one line's feedback lists.
MAX_AGENT_CHARS = 64
MAX_IGNORED = 16
# The largest count (suggestions shown, characters saved) one line's feedback may carry.
MAX_COUNT = 100_000

__all__ = [
    "DEFAULT_K", "KINDS", "MAX_AGENT_CHARS", "MAX_COMMAND_CHARS", "MAX_COUNT", "MAX_ID_CHARS",
    "MAX_ID_INT", "MAX_IGNORED", "Feedback",
    "MAX_K", "MAX_LINE_BYTES", "MAX_PREV", "PROTOCOL_VERSION", "SHELLS", "Forget", "Record",
    "RequestError", "Search", "Stats", "Status", "Suggest", "parse",
    "request_id",
]

if TYPE_CHECKING:
    RequestId = Union[str, int]
_SURROGATE = re.compile("[\ud800-\udfff]")


class RequestError(ValueError):
    """A request that is not what the protocol allows; its message is sent back."""


class Suggest(NamedTuple):
    """``prefix``: the best ``k`` commands starting with ``prefix``."""

    prefix: str
    k: int
    prev: Sequence[str]
    cwd: str | None
    shell: str | None


class Record(NamedTuple):
    """``record``: a command that was run, to be learned."""

    command: str
    cwd: str | None
    exit_status: int | None
    prev: Sequence[str]
    shell: str | None
    agent: str | None = None


class Feedback(NamedTuple):
    """``feedback``: what happened to the suggestions shown on one command line."""

    shown: int
    saved: int
    right: bool
    accepted: str | None
    ignored: Sequence[str]
    shell: str | None


class Forget(NamedTuple):
    """``forget``: take back the learned commands ``pattern`` matches."""

    pattern: str
    match: str


class Search(NamedTuple):
    """``search``: every past command the model keeps, ranked for this context (Ctrl-R), only
    those with a run in ``folder``, exited 0 (``succeeded``), on ``host`` when given."""

    prev: Sequence[str]
    cwd: str | None
    shell: str | None
    folder: str | None
    succeeded: bool
    host: str | None


class Stats(NamedTuple):
    """``stats``: the model's figures."""


class Status(NamedTuple):
    """``status``: the answering process's figures (not counted as a request)."""


if TYPE_CHECKING:
    Request = Union[Suggest, Record, Forget, Search, Stats, Status, Feedback]


def has_invalid_text(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate, which no UTF-8 line can carry."""
    return _SURROGATE.search(text) is not None


def is_status(request: Any) -> bool:
    """Whether ``request`` is a status probe (which the request counters leave out)."""
    return isinstance(request, dict) and "status" in request


def request_id(request: dict[str, Any]) -> RequestId | None:
    """The request's ``id``, to be echoed in its answer; ``RequestError`` if it is malformed."""
    value = request.get("id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise RequestError("'id' must be a string or an integer")
    if isinstance(value, str):
        if len(value) > MAX_ID_CHARS:
            raise RequestError(f"'id' is longer than {MAX_ID_CHARS} characters")
        _check_text("id", value)
    elif not -MAX_ID_INT <= value <= MAX_ID_INT:
        raise RequestError("'id' must be an integer that fits in 64 bits")
    return value


def parse(request: Any) -> Request:
    """The typed request ``request`` (a decoded JSON object) stands for."""
    if not isinstance(request, dict):
        raise RequestError("request must be a JSON object")
    kinds = [kind for kind in KINDS if kind in request]
    if not kinds:
        listed = ", ".join(repr(kind) for kind in KINDS[:-1])
        raise RequestError(f"unknown request: expected a {listed} or {KINDS[-1]!r} key")
    if len(kinds) > 1:
        together = " and ".join(repr(kind) for kind in kinds)
        raise RequestError(f"ambiguous request: {together} together")
    kind = kinds[0]
    if kind == "prefix":
        return _suggest(request)
    if kind == "record":
        return _record(request)
    if kind == "forget":
        return _forget(request)
    if kind == "search":
        return _search(request)
    if kind == "feedback":
        return _feedback(request)
    _check_flag(request, kind)
    return Stats() if kind == "stats" else Status()


def _suggest(request: dict[str, Any]) -> Suggest:
    prefix = _string(request, "prefix")
    k = request.get("k")
    if k is None:
        k = DEFAULT_K
    if not _is_int(k) or k < 0:
        raise RequestError("'k' must be a non-negative integer")
    prev = _string_list(request, "prev")
    cwd = _optional_string(request, "cwd")
    return Suggest(prefix, min(k, MAX_K), prev, cwd, _shell(request))


def _record(request: dict[str, Any]) -> Record:
    command = _string(request, "record")
    cwd = _optional_string(request, "cwd")
    exit_status = request.get("exit")
    if exit_status is not None and not (_is_int(exit_status) and abs(exit_status) < 2**31):
        raise RequestError("'exit' must be an integer")
    prev = _string_list(request, "prev")
    agent = _optional_string(request, "agent")
    if agent is not None and not 0 < len(agent) <= MAX_AGENT_CHARS:
        raise RequestError(f"'agent' must be a name of 1 to {MAX_AGENT_CHARS} characters")
    return Record(command, cwd, exit_status, prev, _shell(request), agent)


def _feedback(request: dict[str, Any]) -> Feedback:
    _check_flag(request, "feedback")
    counts = []
    for key in ("shown", "saved"):
        value = request.get(key, 0)
        if not _is_int(value) or not 0 <= value <= MAX_COUNT:
            raise RequestError(f"'{key}' must be a whole number from 0 to {MAX_COUNT}")
        counts.append(value)
    right = request.get("right", False)
    if not isinstance(right, bool):
        raise RequestError("'right' must be true or false")
    ignored = request.get("ignored")
    if ignored is not None and (not isinstance(ignored, list) or len(ignored) > MAX_IGNORED):
        raise RequestError(f"'ignored' must be a list of at most {MAX_IGNORED} strings")
    return Feedback(
        counts[0], counts[1], right, _optional_string(request, "accepted"),
        _string_list(request, "ignored"), _shell(request),
    )


def _forget(request: dict[str, Any]) -> Forget:
    pattern = _string(request, "forget")
    return Forget(pattern, _optional_string(request, "match") or "exact")


def _search(request: dict[str, Any]) -> Search:
    _check_flag(request, "search")
    succeeded = request.get("succeeded", False)
    if not isinstance(succeeded, bool):
        raise RequestError("'succeeded' must be true or false")
    return Search(
        _string_list(request, "prev"), _optional_string(request, "cwd"), _shell(request),
        _optional_string(request, "folder"), succeeded, _optional_string(request, "host"),
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_flag(request: dict[str, Any], key: str) -> None:
    if request[key] is not True:
        raise RequestError(f"'{key}' must be true")


def _check_text(key: str, value: str) -> None:
    if has_invalid_text(value):
        raise RequestError(f"'{key}' holds an invalid character (lone surrogate)")


def _string(request: dict[str, Any], key: str) -> str:
    value = request[key]
    if not isinstance(value, str):
        raise RequestError(f"'{key}' must be a string")
    _check_text(key, value)
    return value


def _optional_string(request: dict[str, Any], key: str) -> str | None:
    return None if request.get(key) is None else _string(request, key)


def _shell(request: dict[str, Any]) -> str | None:
    shell = _optional_string(request, "shell")
    if shell is not None and shell not in SHELLS:
        raise RequestError(f"'shell' must be one of {', '.join(SHELLS)}, not {shell[:20]!r}")
    return shell


def _string_list(request: dict[str, Any], key: str) -> Sequence[str]:
    value = request.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RequestError(f"'{key}' must be a list of strings (most recent last)")
    recent = value[-MAX_PREV:]
    for item in recent:
        _check_text(key, item)
    return recent

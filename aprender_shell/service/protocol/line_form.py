"""The protocol's line form, for shell scripts: tab-separated fields instead of JSON.

A shell can split a line on tabs and undo four escapes with its own builtins, while a JSON
decoder written in shell is slow and easy to get wrong. The line form carries the two
requests shells make; everything else is JSON. A line that starts with ``{`` is JSON, any
other is the line form::

    suggest TAB id TAB k TAB shell TAB cwd TAB prefix [TAB prev]...   (prev: most recent last)
        -> suggestions TAB id [TAB suggestion]...
        -> quiet TAB id [TAB suggestion]...     (empty prefix, not sure enough to show)
    record TAB shell TAB cwd TAB exit TAB command [TAB prev]...
        -> ok
    record-agent TAB agent TAB shell TAB cwd TAB exit TAB command [TAB prev]...
        -> ok
    feedback TAB shell TAB shown TAB saved TAB right TAB accepted [TAB ignored]...
        -> ok
    anything wrong
        -> error TAB id TAB message

In every field, ``\\\\`` is a backslash, ``\\t`` a tab, ``\\n`` a newline and ``\\r`` a carriage
return; answers also write any other control character as ``\\xHH``. Empty ``k``, ``shell``,
``cwd`` and ``exit`` fields mean "not given".
"""

from __future__ import annotations

import re

from aprender_shell.terminal import SHORT_ESCAPES

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from typing import Any

SUGGEST, RECORD, RECORD_AGENT, FEEDBACK = "suggest", "record", "record-agent", "feedback"
VERBS = (SUGGEST, RECORD, RECORD_AGENT, FEEDBACK)
_PREFIXES = tuple(verb + "\t" for verb in VERBS)
VERB_PREFIXES = tuple(prefix.encode("ascii") for prefix in _PREFIXES)

_ESCAPES = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}
_ESCAPE = re.compile(r"\\(.|$)", re.DOTALL)
# Lone surrogates (from a hostile model) cannot be written as UTF-8: they become U+FFFD.
_NEEDS_ESCAPE = re.compile("[\\\\\x00-\x1f\x7f\ud800-\udfff]")
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,12}")


class LineFormError(ValueError):
    """A line-form request that cannot be read; the message says what is wrong."""


def is_line_form(line: str) -> bool:
    """Whether ``line`` is a line-form request (its verb and a tab; JSON starts with ``{``)."""
    return line.startswith(_PREFIXES)


def unescape(field: str) -> str:
    """A field as sent, escapes undone; an unknown escape is an error, not a guess."""
    if "\\" not in field:
        return field

    def replace(match: re.Match[str]) -> str:
        found = _ESCAPES.get(match.group(0))
        if found is None:
            raise LineFormError(f"unknown escape {match.group(0)!r}: use \\\\, \\t, \\n or \\r")
        return found

    return _ESCAPE.sub(replace, field)


def escape(text: str) -> str:
    """``text`` as one field: no tab, newline or other control character left raw."""
    if not _NEEDS_ESCAPE.search(text):
        return text
    return _NEEDS_ESCAPE.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    char = match.group(0)
    if "\ud800" <= char <= "\udfff":
        return "\ufffd"
    return SHORT_ESCAPES.get(char, f"\\x{ord(char):02x}")


def parse(line: str) -> dict[str, Any]:
    """The JSON-form request a line-form request stands for."""
    fields = line.rstrip("\r\n").split("\t")
    verb = fields[0]
    if verb == SUGGEST:
        if len(fields) < 6:
            raise LineFormError("suggest needs: suggest, id, k, shell, cwd, prefix [, prev...]")
        request_id, k, shell, cwd, prefix = (unescape(f) for f in fields[1:6])
        request: dict[str, Any] = {"prefix": prefix, "prev": [unescape(f) for f in fields[6:]]}
        if request_id:
            request["id"] = request_id
        if k:
            request["k"] = _whole_number("k", k, signed=False)
    elif verb in (RECORD, RECORD_AGENT):
        agent = verb == RECORD_AGENT
        if len(fields) < 5 + agent:
            raise LineFormError(
                f"{verb} needs: {verb},{' agent,' if agent else ''} shell, cwd, exit, command"
                " [, prev...]"
            )
        shell, cwd, exit_status, command = (unescape(f) for f in fields[1 + agent:5 + agent])
        request = {"record": command, "prev": [unescape(f) for f in fields[5 + agent:]]}
        if agent:
            request["agent"] = unescape(fields[1])
        if exit_status:
            request["exit"] = _whole_number("exit", exit_status, signed=True)
    elif verb == FEEDBACK:
        if len(fields) < 6:
            raise LineFormError(
                "feedback needs: feedback, shell, shown, saved, right, accepted [, ignored...]"
            )
        shell, shown, saved, right, accepted = (unescape(f) for f in fields[1:6])
        if right not in ("", "0", "1"):
            raise LineFormError(f"right must be 1, 0 or empty, not {escape(right[:20])!r}")
        request = {
            "feedback": True,
            "shown": _whole_number("shown", shown or "0", signed=False),
            "saved": _whole_number("saved", saved or "0", signed=False),
            "right": right == "1",
            "ignored": [unescape(f) for f in fields[6:]],
        }
        if accepted:
            request["accepted"] = accepted
        cwd = ""
    else:
        raise LineFormError(
            f"unknown request {verb[:40]!r}: expected suggest, record, record-agent or feedback"
        )
    if shell:
        request["shell"] = shell
    if cwd:
        request["cwd"] = cwd
    return request


def _whole_number(name: str, field: str, signed: bool) -> int:
    # str.isdigit() accepts digits int() refuses ("²") and lengths int() refuses: ASCII only.
    if not _WHOLE_NUMBER.fullmatch(field) or (not signed and field.startswith("-")):
        raise LineFormError(f"{name} must be a whole number, not {escape(field[:20])!r}")
    return int(field)


def request_id_of(line: str) -> str:
    """The id field of a line-form suggest request, if it can be read (for error answers)."""
    fields = line.split("\t", 2)
    if len(fields) > 2 and fields[0] == SUGGEST:
        try:
            return unescape(fields[1])
        except LineFormError:
            return ""
    return ""


def encode(answer: dict[str, Any], request_id: str = "") -> str:
    """One line-form answer line (no newline) for a JSON-form answer."""
    if "error" in answer:
        return "\t".join(("error", escape(request_id), escape(str(answer["error"]))))
    if "suggestions" in answer:
        texts = [escape(str(item["text"])) for item in answer["suggestions"]]
        # an answer the shells should not show unasked gets a verb of its own: a script that
        # does not know it shows nothing, as it should
        verb = "quiet" if answer.get("show") is False else "suggestions"
        return "\t".join([verb, escape(request_id), *texts])
    return "ok"

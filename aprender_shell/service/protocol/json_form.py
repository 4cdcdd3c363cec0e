"""The protocol's JSON form: one JSON object a line, both ways (PROTOCOL.md, section 2)."""

from __future__ import annotations

import json
import re

from aprender_shell.service.protocol import line_form
from aprender_shell.service.protocol.schema import MAX_ID_CHARS, RequestError
from aprender_shell.terminal import TERMINAL_CONTROLS

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from typing import Any

    Answer = dict[str, Any]

_SURROGATE = re.compile("[\ud800-\udfff]")
# JSON escapes C0 only; what else could drive a terminal that shows the line is escaped too.
_TERMINAL_CONTROL = re.compile(f"[{re.escape(TERMINAL_CONTROLS)}]")
# Enough of a line to read a line-form id from, when the rest of the line is not trusted.
_ID_PROBE = 2 * MAX_ID_CHARS + 16


def decode(line: str) -> Any:
    """The request a JSON-form line holds; ``RequestError`` saying why when it holds none."""
    if not line.strip():
        raise RequestError("empty request: expected a JSON object")
    try:
        return json.loads(line)
    except RecursionError:
        raise RequestError("request is nested too deeply") from None
    except ValueError as error:
        # json's messages quote the input; a control character must not reach a terminal raw.
        raise RequestError(f"request is not valid JSON ({line_form.escape(str(error))})") from None


def encode(answer: Answer) -> str:
    """``answer`` as one JSON line that encodes to UTF-8: text holding a lone surrogate (from a
    request, or a model that stores one) falls back to ``\\uXXXX`` escapes, which JSON allows."""
    text = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
    if _SURROGATE.search(text):
        return json.dumps(answer, separators=(",", ":"))
    if _TERMINAL_CONTROL.search(text):
        # They only ever occur inside strings, where \uXXXX means the same.
        return _TERMINAL_CONTROL.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
    return text


def error_line(line: str | bytes, message: str) -> str:
    """An error answer to ``line`` in its own form (line form or JSON), with its id when one can
    be read without trusting the rest of the line; for requests that could not be handled."""
    raw = line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass")
    if raw.startswith(line_form.VERB_PREFIXES):
        request_id = line_form.request_id_of(raw[:_ID_PROBE].decode("utf-8", "replace"))
        return line_form.encode({"error": message}, request_id)
    return encode({"error": message})

"""Patterns the user writes (``history_filter`` lines, ``forget --regex``), matched in linear time.

Python's ``re`` backtracks: ``(a+)+$`` against ``aaaa...ab`` takes exponential time, and a
server checking every record against the user's filter would stop answering every shell. RE2
(``google-re2``) never backtracks, so a match costs time linear in the command whatever the
pattern; what RE2 cannot express in linear time (backreferences, look-around) it refuses to
compile, and so do we, saying why.

``re2`` is imported on first compile only: most keystrokes never compile a user pattern.
"""

from __future__ import annotations

from collections.abc import Sequence

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from typing import Any

# RE2's own cap on one compiled program (its default is 8 MB): a pattern past it is refused
# rather than allowed to grow the server.
MAX_PROGRAM_BYTES = 8 << 20

_OPTIONS: Any = None


class PatternError(ValueError):
    """A pattern the linear-time engine cannot compile; the message says why."""


def _options() -> Any:
    global _OPTIONS
    if _OPTIONS is None:
        import re2

        options = re2.Options()
        options.log_errors = False  # errors are ours to report, on one line, not the C++ log's
        options.max_mem = MAX_PROGRAM_BYTES
        _OPTIONS = options
    return _OPTIONS


class UserPattern:
    """One compiled user pattern (or several as one alternation); ``found_in`` tests a
    command."""

    __slots__ = ("_regexp", "text")

    def __init__(self, text: str) -> None:
        import re2

        self.text = text
        try:
            self._regexp = re2.compile(text, _options())
        except re2.error as error:
            raise PatternError(_why(error)) from None
        except UnicodeEncodeError:
            raise PatternError("it holds an invalid character (a lone surrogate)") from None

    def found_in(self, command: str) -> bool:
        """Whether the pattern matches anywhere in ``command``."""
        # As UTF-8 bytes, surrogates passed through: a command decoded from a history file
        # with stray bytes is still judged, never an exception in the keystroke path.
        return self._regexp.search(command.encode("utf-8", "surrogatepass")) is not None


def _why(error: BaseException) -> str:
    reason = error.args[0] if error.args else error
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    text = str(reason)
    if "invalid escape sequence: \\" in text and text[-1:].isdigit():
        return f"{text}: backreferences cannot be matched in linear time"
    if "invalid perl operator: (?<" in text or "invalid perl operator: (?=" in text or (
        "invalid perl operator: (?!" in text
    ):
        return f"{text}: look-around cannot be matched in linear time"
    return text


def compile_pattern(text: str) -> UserPattern:
    """``text`` compiled for linear-time matching; raises ``PatternError`` saying why not."""
    return UserPattern(text)


def compile_any(texts: Sequence[str]) -> UserPattern | None:
    """One pattern found in a command when any of ``texts`` (each already compiled once) is."""
    if not texts:
        return None
    if len(texts) == 1:
        return UserPattern(texts[0])
    return UserPattern("|".join(f"(?:{text})" for text in texts))

"""A command's template: its family and form, the leading words and options before the first
argument. Commands of one template are what one habit produces with different arguments, so
the score counts what followed a command by template as well as by line (``scoring``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

# A template is at most this many leading words and options.
TEMPLATE_WORDS = 3


def template(tokens: list[str]) -> tuple[str, ...]:
    """The command's family and form: its leading words and options, up to the first argument.

    ``git commit -m "fix"`` -> ``("git", "commit", "-m")``; ``vim app.py`` -> ``("vim",)``;
    ``kubectl logs redis-0`` -> ``("kubectl", "logs")``. Commands of one template are what the
    same habit produces with different arguments.
    """
    found: list[str] = []
    for token in tokens[: TEMPLATE_WORDS + 1]:
        if not found:
            found.append(token)
            continue
        if not _extends_template(token) or len(found) >= TEMPLATE_WORDS:
            break
        found.append(token)
    return tuple(found)


def template_of(text: str) -> tuple[str, ...]:
    """``template`` of a command line (split on blanks: cheap enough for every query)."""
    return template(text.split(None, TEMPLATE_WORDS + 1))


def _extends_template(token: str) -> bool:
    """Whether a word after the first is still part of the template: a word or an option."""
    word = token.lstrip("-")
    return bool(word) and word.replace("-", "").isalpha()


def _next_word(text: str, end: int) -> tuple[str, bool] | None:
    """The word after the blanks at ``end``, and whether more (a blank) follows it; None when
    no blank or no word comes next. (String methods, not re: a cold suggest imports no re.)"""
    rest = text[end:]
    stripped = rest.lstrip()
    if not stripped or len(stripped) == len(rest):
        return None
    word = stripped.split(None, 1)[0]
    return word, len(word) < len(stripped)


def _decided_by(
    heads: list[tuple[str, tuple[str, ...]]], prefix: str
) -> tuple[tuple[str, ...] | None] | None:
    """The template every command starting with ``prefix`` has among ``heads`` (longest
    first), when the prefix alone decides it: it goes past the longest head's words and far
    enough into the next word to tell whether that word extends the template. None: it does
    not, and each command has to be looked at."""
    if not heads:
        return (None,)
    head, key = heads[0]
    end = len(head)
    if len(prefix) <= end or not prefix.startswith(head) or not prefix[end].isspace():
        return None
    if len(key) >= TEMPLATE_WORDS:
        return (key,)
    after = _next_word(prefix, end)
    if after is None:
        return None
    word, whole = after
    if whole:  # a blank follows the word
        return (None,) if _extends_template(word) else (key,)
    if any(not (c == "-" or c.isalpha()) for c in word):
        return (key,)  # it already holds a character no template word has
    return None


def _may_begin(head: str, prefix: str) -> bool:
    """Whether a command starting with ``prefix`` can begin with the words ``head``."""
    if head.startswith(prefix):
        return True
    return prefix.startswith(head) and (len(prefix) == len(head) or prefix[len(head)].isspace())


def template_among(
    keys: Iterable[tuple[str, ...]], prefix: str = ""
) -> Callable[[str], tuple[str, ...] | None]:
    """A function telling which of ``keys`` is a command's template (None: none of them).

    For a query's candidates, which all start with ``prefix``, against its previous command's
    successor templates: rather than splitting every candidate, it finds the longest key whose
    words, single-spaced, begin the command and looks at the one word after it. A command whose
    leading words are separated by other runs of blanks matches no key.
    """
    heads = sorted(
        (
            (head, key)
            for head, key in ((" ".join(key), key) for key in keys if key)
            if _may_begin(head, prefix)
        ),
        key=lambda item: -len(item[0]),
    )

    decided = _decided_by(heads, prefix)
    if decided is not None:
        same = decided[0]
        return lambda text: same

    every_head = tuple(head for head, _ in heads)

    def template_of(text: str) -> tuple[str, ...] | None:
        if not text.startswith(every_head):
            return None  # most candidates: one test in C
        for head, key in heads:
            if not text.startswith(head):
                continue
            end = len(head)
            if end < len(text) and not text[end].isspace():
                continue
            if len(key) >= TEMPLATE_WORDS:
                return key
            after = _next_word(text, end)
            if after is not None and _extends_template(after[0]):
                return None  # its template is longer than any key that begins it
            return key
        return None

    return template_of

"""Shell-aware tokens of a command line, as the n-gram model sees them.

A token is a word as the shell splits it, quotes kept as typed (``"fix bug"`` is one token),
or a control operator (``|``, ``||``, ``&&``, ``;``, ``&``, ``(``, ``)``) even when it is
written without spaces (``ls|wc`` is ``ls``, ``|``, ``wc``). Redirections stay inside their
word (``2>/dev/null``), since users type them as one.
"""

from __future__ import annotations

OPERATORS = ("&&", "||", ";;", "|&", "|", ";", "&", "(", ")")
_SPACE = " \t\n"
# Characters that start a quote, an escape or an operator: a line without any of them is split
# at spaces, tabs and newlines only, which ``_plain_words`` does without a character loop.
_SPECIAL = frozenset("'\"\\&|;()")
_OPERATOR_STARTS = frozenset(op[0] for op in OPERATORS)
# Runs of characters that are appended to the word one like the other end at one of these.
# A line is translated once so that each such end reads NUL (and a typed NUL reads \x01):
# one str.find then finds where a run ends, at C speed, without importing re (about 3 ms
# of a cold suggest, more than half of Python's own start-up).
_ORDINARY_ENDS = str.maketrans({**dict.fromkeys(_SPACE + "'\"\\&|;()", "\0"), "\0": "\1"})
_DOUBLE_QUOTED_ENDS = str.maketrans({'"': "\0", "\\": "\0", "\0": "\1"})


def _run_end(ends: str, position: int) -> int:
    """Where the run starting at ``position`` of a line translated to ``ends`` stops."""
    end = ends.find("\0", position)
    return len(ends) if end < 0 else end


def _plain_words(line: str) -> list[str]:
    return [word for word in line.replace("\t", " ").replace("\n", " ").split(" ") if word]


def _lex(line: str) -> tuple[list[str], str, bool]:
    """Tokens, the unfinished last word, and whether a quote is still open."""
    if _SPECIAL.isdisjoint(line):
        words = _plain_words(line)
        if words and line[-1] not in _SPACE:
            return words[:-1], words[-1], False
        return words, "", False
    tokens: list[str] = []
    word: list[str] = []  # pieces of the word being read
    ordinary_ends = line.translate(_ORDINARY_ENDS)
    quoted_ends = ""  # translated at the first double quote
    quote = ""
    position = 0
    length = len(line)
    while position < length:
        char = line[position]
        if quote == "'":
            close = line.find("'", position)
            stop = length if close < 0 else close + 1
            word.append(line[position:stop])
            quote = "" if close >= 0 else quote
            position = stop
            continue
        if quote:
            if not quoted_ends:
                quoted_ends = line.translate(_DOUBLE_QUOTED_ENDS)
            stop = _run_end(quoted_ends, position)
            if stop > position:
                word.append(line[position:stop])
                position = stop
                continue
            word.append(char)
            if char == "\\" and position + 1 < length:
                word.append(line[position + 1])
                position += 1
            elif char == quote:
                quote = ""
        elif char == "\\" and position + 1 < length:
            word.append(line[position : position + 2])
            position += 1
        elif char in "'\"":
            quote = char
            word.append(char)
        elif char in _SPACE:
            if word:
                tokens.append("".join(word))
                word = []
        elif char not in _OPERATOR_STARTS:
            stop = _run_end(ordinary_ends, position)
            if stop == position:  # a backslash ending the line stands for itself
                word.append(char)
            else:
                word.append(line[position:stop])
                position = stop
                continue
        else:
            operator = next(op for op in OPERATORS if line.startswith(op, position))
            redirect = operator == "&" and line.startswith(">", position + 1)
            # ">&" (as in "2>&1") stays in its word: the ">" read just before is unescaped.
            after_redirect = bool(word) and word[-1][-1] == ">" and word[-1][0] != "\\"
            if redirect or (operator == "&" and after_redirect):
                word.append(char)
            else:
                if word:
                    tokens.append("".join(word))
                    word = []
                tokens.append(operator)
                position += len(operator)
                continue
        position += 1
    return tokens, "".join(word), bool(quote)


def tokenize(line: str) -> list[str]:
    """The tokens of a whole command line."""
    tokens, last, _ = _lex(line)
    if last:
        tokens.append(last)
    return tokens


def split_prefix(prefix: str) -> tuple[list[str], str]:
    """The finished tokens of what was typed, and the word being typed (``""`` after a space).

    ``split_prefix("git com")`` is ``(["git"], "com")``; ``split_prefix("git ")`` is
    ``(["git"], "")``. Inside an open quote the partial word runs to the end, spaces included.
    """
    tokens, last, _ = _lex(prefix)
    return tokens, last


def command_family(line: str) -> str:
    """The program a command line runs: its first word after ``VAR=value`` assignments."""
    # The words before the first quote, escape or operator are tokens as they stand.
    for word in _plain_words(line):
        if not _SPECIAL.isdisjoint(word):
            break
        if not _is_assignment(word):
            return word
    else:
        return ""
    return next((token for token in tokenize(line) if not _is_assignment(token)), "")


def _is_assignment(token: str) -> bool:
    name, equals, _ = token.partition("=")
    return bool(equals) and name.isidentifier()


def command_name(line: str) -> str:
    """A command line's name: its first word (``git`` for ``git commit -m x``)."""
    return line.split(None, 1)[0] if line.strip() else ""

"""The tokenizer splits as the shell does, on real one-liners too."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aprender_shell.history.tokens import OPERATORS, command_family, split_prefix, tokenize

NL2BASH = Path(__file__).resolve().parents[3] / "shared" / "data" / "nl2bash"


@pytest.mark.parametrize(
    ("line", "tokens"),
    [
        ("git commit -m 'fix bug'", ["git", "commit", "-m", "'fix bug'"]),
        ('echo "a \\" b" | wc -l', ["echo", '"a \\" b"', "|", "wc", "-l"]),
        ("ls|wc&&echo ok;date", ["ls", "|", "wc", "&&", "echo", "ok", ";", "date"]),
        ("make 2>&1 >/dev/null &", ["make", "2>&1", ">/dev/null", "&"]),
        ("cmd &>log", ["cmd", "&>log"]),
        ("echo a\\>&b", ["echo", "a\\>", "&", "b"]),  # an escaped ">" redirects nothing
        ("echo '>'&", ["echo", "'>'", "&"]),
        ("echo x>&2|y", ["echo", "x>&2", "|", "y"]),
        ("cp my\\ file dst", ["cp", "my\\ file", "dst"]),
        ("(cd src && make)", ["(", "cd", "src", "&&", "make", ")"]),
        ("  spaced   out  ", ["spaced", "out"]),
    ],
)
def test_tokens_follow_shell_words(line: str, tokens: list[str]) -> None:
    assert tokenize(line) == tokens


def test_split_prefix_separates_the_word_being_typed() -> None:
    assert split_prefix("git com") == (["git"], "com")
    assert split_prefix("git ") == (["git"], "")
    assert split_prefix("") == ([], "")
    assert split_prefix('git commit -m "fix th') == (["git", "commit", "-m"], '"fix th')
    assert split_prefix("ls |") == (["ls", "|"], "")


def test_family_is_the_program_after_assignments() -> None:
    assert command_family("git status") == "git"
    assert command_family("FOO=1 BAR=2 make test") == "make"
    assert command_family("   ") == ""


@given(st.text(alphabet=" \t'\"\\|&;()>abc=-\n", max_size=40))
def test_joined_tokens_tokenize_the_same(line: str) -> None:
    tokens = tokenize(line)
    assert tokenize(" ".join(tokens)) == tokens


def test_every_nl2bash_line_round_trips() -> None:
    files = sorted(NL2BASH.glob("*.cm")) or sorted(NL2BASH.glob("**/*.cm"))
    if not files:
        pytest.skip("nl2bash data not present next to the repository")
    lines = [line for f in files for line in f.read_text(encoding="utf-8").splitlines() if line]
    assert len(lines) > 10_000
    for line in lines:
        tokens = tokenize(line)
        assert tokens and tokenize(" ".join(tokens)) == tokens


def _reference_lex(line: str) -> tuple[list[str], str, bool]:
    """The lexer read one character at a time, as the module docstring describes it."""
    tokens: list[str] = []
    word = ""
    quote = ""
    escaped_last = False  # whether the last character added came from an escape or a quote
    position = 0
    while position < len(line):
        char = line[position]
        if quote:
            word += char
            if char == "\\" and quote == '"' and position + 1 < len(line):
                word += line[position + 1]
                position += 1
            elif char == quote:
                quote = ""
            escaped_last = True
        elif char == "\\" and position + 1 < len(line):
            word += line[position : position + 2]
            escaped_last = True
            position += 1
        elif char in "'\"":
            quote = char
            word += char
            escaped_last = True
        elif char in " \t\n":
            if word:
                tokens.append(word)
            word = ""
        else:
            operator = next((op for op in OPERATORS if line.startswith(op, position)), None)
            to_file = operator == "&" and line.startswith(">", position + 1)
            after_redirect = operator == "&" and word.endswith(">") and not escaped_last
            if operator is None or to_file or after_redirect:
                word += char
                escaped_last = False
            else:
                if word:
                    tokens.append(word)
                word = ""
                tokens.append(operator)
                position += len(operator)
                continue
        position += 1
    return tokens, word, bool(quote)


@given(
    # NUL and \x01 included: the lexer marks where runs end with them (tokens._run_end)
    st.text(alphabet=" \t\n'\"\\|&;()><=abc\u00e9\u00a0\r-\x00\x01", max_size=60)
    | st.text(alphabet=" '\"\\&>|a", max_size=12)
)
def test_lexer_agrees_with_a_character_by_character_reading(line: str) -> None:
    tokens, last, open_quote = _reference_lex(line)
    assert split_prefix(line) == (tokens, last)
    assert tokenize(line) == tokens + ([last] if last else [])
    if not open_quote:
        assert command_family(line) == next(
            (t for t in tokens + [last] if not (t.partition("=")[0].isidentifier() and "=" in t)),
            "",
        )

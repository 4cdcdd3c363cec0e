"""The tokenizer splits as the shell does, on real one-liners too."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aprender_shell.history.tokens import command_family, split_prefix, tokenize

NL2BASH = Path(__file__).resolve().parents[3] / "shared" / "data" / "nl2bash"


@pytest.mark.parametrize(
    ("line", "tokens"),
    [
        ("git commit -m 'fix bug'", ["git", "commit", "-m", "'fix bug'"]),
        ('echo "a \\" b" | wc -l', ["echo", '"a \\" b"', "|", "wc", "-l"]),
        ("ls|wc&&echo ok;date", ["ls", "|", "wc", "&&", "echo", "ok", ";", "date"]),
        ("make 2>&1 >/dev/null &", ["make", "2>&1", ">/dev/null", "&"]),
        ("cmd &>log", ["cmd", "&>log"]),
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

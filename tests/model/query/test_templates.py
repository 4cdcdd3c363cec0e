"""The query's template look-up agrees with ``scoring.template`` on real and odd commands."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from aprender_shell.model import scoring

NL2BASH = Path(__file__).resolve().parents[4] / "shared" / "data" / "nl2bash" / "all.cm"
WORDS = ["git", "commit", "-m", "--amend", "-", "--", "add", "-A", "x1", "a-b", "é", "2", "'m'",
         "status", "ls", "-la", "logs", "redis-0", "kubectl", "--all-namespaces", "foo.py"]
BLANKS = [" ", " ", " ", "  ", "\t", "\xa0", "\u2003", "\x1c"]


def _oddly_blanked(rng: random.Random) -> list[str]:
    """3,000 commands of 1 to 6 words, with tabs and Unicode blanks between some of them."""
    return [
        "".join(rng.choice(WORDS) + rng.choice(BLANKS) for _ in range(rng.randint(1, 6))).rstrip()
        for _ in range(3000)
    ]


def _agrees(commands: list[str], successors: list[str]) -> None:
    keys = {scoring.template(text.split(None, scoring.TEMPLATE_WORDS + 1)) for text in successors}
    find = scoring.template_among(keys)
    for text in commands:
        exact = scoring.template(text.split(None, scoring.TEMPLATE_WORDS + 1))
        found = find(text)
        if found is not None:
            assert found == exact, text
        elif exact in keys:
            # Missed only where the leading words are not single-spaced.
            assert not text.startswith(" ".join(exact)), text


def test_generated_commands_with_odd_blanks() -> None:
    rng = random.Random(5)
    commands = _oddly_blanked(rng)
    for _ in range(30):
        _agrees(commands, rng.sample(commands, 12))


def test_single_spaced_commands_always_find_their_template() -> None:
    rng = random.Random(6)
    commands = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6))) for _ in range(2000)]
    keys = {scoring.template(text.split()) for text in commands}
    find = scoring.template_among(keys)
    assert all(find(text) == scoring.template(text.split()) for text in commands)


@pytest.mark.skipif(not NL2BASH.exists(), reason="needs ../shared/data/nl2bash next to the repo")
def test_real_one_liners() -> None:
    commands = [line.strip() for line in NL2BASH.read_text(errors="replace").splitlines()]
    commands = [text for text in commands if text]
    rng = random.Random(7)
    for _ in range(20):
        _agrees(commands, rng.sample(commands, 12) + ["find", "grep -r", "ls -l"])


def test_the_typed_prefix_narrows_the_keys_without_changing_answers() -> None:
    rng = random.Random(8)
    commands = _oddly_blanked(rng)
    for _ in range(40):
        keys = {scoring.template(text.split()) for text in rng.sample(commands, 12)}
        everything = scoring.template_among(keys)
        typed = rng.choice(commands)
        for prefix in {typed[:n] for n in range(len(typed) + 1)}:
            narrowed = scoring.template_among(keys, prefix)
            for text in commands:
                if text.startswith(prefix):
                    assert narrowed(text) == everything(text), (prefix, text)

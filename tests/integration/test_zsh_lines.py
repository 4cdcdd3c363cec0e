"""The protocol's line form as the zsh script writes and reads it, checked against line_form.py.

The script builds requests and reads answers with zsh builtins alone (no process per
keystroke), so every string must survive: tabs, newlines, backslashes, control characters,
characters beyond the BMP.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aprender_shell.integration import integration_for
from aprender_shell.service.protocol import line_form as lines
from tests.integration.shells import require

TRICKY = [
    'git commit -m "fix"',
    "echo \\n is not a newline",
    "back\\\\slashes\\",
    "\\x41 \\t \\c \\u0041 \\0 stay as typed",
    "line one\nline two",
    "tab\there\r",
    "\x01\x1b[31mred\x7f",
    "caf\u00e9 \u00fcber",
    "emoji \U0001F600 and \U00010348",
    "$(rm -rf /) `x` ${HOME} %s %d",
    "*?[a-z] (#i) ^x ~y",
    " leading and trailing ",
    "",
    "\u0085\u2028\u2029",
]

# Strings a shell variable can hold: no NUL, no lone surrogates.
SHELL_TEXT = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    max_size=25,
)

# For each input (NUL-separated in a file): call the function, print REPLY (or FAIL), NUL.
PROGRAM = (
    'source "$1"; while IFS= read -r -d "" s; do '
    '{call} && print -rn -- "$REPLY" || print -rn FAIL; print -n "\\0"; done < "$2"'
)


def run_zsh(call: str, inputs: list[str], folder: Path) -> list[str]:
    executable = require("zsh")
    script = folder / "init.zsh"
    script.write_text(integration_for("zsh").script())
    data = folder / "inputs"
    data.write_bytes(b"".join(item.encode("utf-8") + b"\0" for item in inputs))
    done = subprocess.run(
        [executable, "-f", "-i", "-c", PROGRAM.replace("{call}", call), "zsh", str(script),
         str(data)],
        capture_output=True, stdin=subprocess.DEVNULL, timeout=60, check=False,
        env={**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"},
    )
    out = done.stdout.decode("utf-8")
    assert out.endswith("\0") or not inputs, done.stderr
    return out.split("\0")[:-1]


def check(texts: list[str], folder: Path) -> None:
    fields = run_zsh('_aprender_field "$s"', texts, folder)
    assert all("\t" not in field and "\n" not in field for field in fields)
    assert [lines.unescape(field) for field in fields] == texts
    # Answers as the server writes them, for request id 7; one for another id is refused.
    answers = [lines.encode({"suggestions": [{"text": t}, {"text": "x"}]}, "7") for t in texts]
    assert run_zsh('_aprender_answer_text "$s" 7', answers, folder) == texts
    assert set(run_zsh('_aprender_answer_text "$s" 8', answers, folder)) == {"FAIL"}


def test_requests_and_answers_keep_every_text(tmp_path: Path) -> None:
    check(TRICKY, tmp_path)


def test_a_whole_request_line_parses_to_what_was_typed(tmp_path: Path) -> None:
    call = '_aprender_prev=("a\tb" "c\\\\d"); _aprender_suggest_line 12 "$s"'
    sent = run_zsh(call, TRICKY, tmp_path)
    for text, line in zip(TRICKY, sent):
        request = lines.parse(line)
        assert request["prefix"] == text
        assert request["id"] == "12" and request["k"] == 1 and request["shell"] == "zsh"
        assert request["prev"] == ["a\tb", "c\\d"]


def test_errors_and_records_answers_are_not_suggestions(tmp_path: Path) -> None:
    answers = [lines.encode({"error": "bad"}, "7"), "ok", "suggestions\t7", "garbage"]
    read = run_zsh('_aprender_answer_text "$s" 7', answers, tmp_path)
    assert read == ["FAIL", "FAIL", "", "FAIL"]


@pytest.mark.slow
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.lists(SHELL_TEXT, min_size=1, max_size=20))
def test_any_text_survives_the_round_trip(texts: list[str], tmp_path: Path) -> None:
    check(texts, tmp_path)

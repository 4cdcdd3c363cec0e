"""The protocol's line form as the bash and fish scripts write and read it, in real shells.

The scripts build requests and take answers apart with shell builtins alone (no process per
key), so every text must survive the trip: tabs, newlines, backslashes, control characters,
characters beyond the BMP. The Python side is the server's own ``lines`` module.
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
    "\\x41 is not an A",
    "line one\nline two",
    "ends with a newline\n",
    "tab\there\r",
    "\x01\x1b[31mred\x7f",
    "caf\u00e9 \u00fcber",
    "emoji \U0001F600 and \U00010348",
    "$(rm -rf /) `x` ${HOME} %s %d $argv (echo)",
    "*?[a-z] (#i) ^x ~y",
    " leading and trailing ",
    "-n",
    "",
    "\u0085\u2028\u2029",
]

# Strings a shell variable can hold: no NUL, no lone surrogates.
SHELL_TEXT = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=25
)

# Each program sources the script, then for each NUL-separated input in $2 writes one result
# followed by NUL: the request line built from it (WRITE), or how many suggestions it read
# back and each of them (READ).
WRITE = {
    "bash": (["--norc", "-i", "-c"],
             'source "$1"; while IFS= read -r -d "" s; do '
             '_aprender_fields record bash /d 0 "$s" prev; printf "%s\\0" "$REPLY"; done < "$2"'),
    "fish": (["--no-config", "-i", "-c"],
             'source $argv[1]; while read -z s; '
             'printf "%s\\0" (_aprender_line record fish /d 0 "$s" prev | string collect -N); '
             "end < $argv[2]"),
}
READ = {
    "bash": (["--norc", "-i", "-c"],
             'source "$1"; while IFS= read -r -d "" s; do _aprender_parse "$s"; '
             'printf "%s\\0" ${#_aprender_suggestions[@]} "${_aprender_suggestions[@]}"; '
             'done < "$2"'),
    "fish": (["--no-config", "-i", "-c"],
             "source $argv[1]; while read -z s; _aprender_parse $s; "
             'printf "%s\\0" (count $_aprender_suggestions) $_aprender_suggestions; '
             "end < $argv[2]"),
}


def run_shell(
    shell: str, program: tuple[list[str], str], inputs: list[str], folder: Path
) -> list[str]:
    executable = require(shell)
    script = folder / f"init.{shell}"
    script.write_text(integration_for(shell).script())
    data = folder / "inputs"
    data.write_bytes(b"".join(item.encode("utf-8") + b"\0" for item in inputs))
    flags, code = program
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "HOME": str(folder)}
    done = subprocess.run(
        [executable, *flags, code, *(["bash"] if shell == "bash" else []), str(script), str(data)],
        capture_output=True, stdin=subprocess.DEVNULL, env=env, timeout=60, check=False,
    )
    out = done.stdout.decode("utf-8")
    assert out.endswith("\0") or not inputs, done.stderr
    return out.split("\0")[:-1]


def check_round_trip(shell: str, texts: list[str], folder: Path) -> None:
    written = run_shell(shell, WRITE[shell], texts, folder)
    for text, line in zip(texts, written):
        # bash leaves the newline to the sending printf; fish's string join ends the line.
        line = line[:-1] if shell == "fish" and line.endswith("\n") else line
        assert "\n" not in line
        assert lines.parse(line) == {
            "record": text, "shell": shell, "cwd": "/d", "exit": 0, "prev": ["prev"],
        }
    assert len(written) == len(texts)
    answers = [
        lines.encode({"suggestions": [{"text": text}, {"text": "other"}]}, "7") for text in texts
    ]
    read = run_shell(shell, READ[shell], answers, folder)
    assert read == [item for text in texts for item in ("2", text, "other")]


@pytest.mark.parametrize("shell", ["bash", "fish"])
def test_tricky_texts_survive_the_trip(shell: str, tmp_path: Path) -> None:
    check_round_trip(shell, TRICKY, tmp_path)


@pytest.mark.parametrize("shell", ["bash", "fish"])
def test_an_answer_without_suggestions_or_an_error_gives_none(shell: str, tmp_path: Path) -> None:
    for answer in ["suggestions\t7", "error\t7\tno model", "garbage", ""]:
        got = run_shell(shell, READ[shell], [answer, "suggestions\t7\tsentinel"], tmp_path)
        assert got == ["0", "1", "sentinel"]


@pytest.mark.slow
@pytest.mark.parametrize("shell", ["bash", "fish"])
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.lists(SHELL_TEXT, min_size=1, max_size=20))
def test_any_text_survives_the_trip(shell: str, texts: list[str], tmp_path: Path) -> None:
    check_round_trip(shell, texts, tmp_path)

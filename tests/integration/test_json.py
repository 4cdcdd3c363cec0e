"""The JSON the bash script writes and reads, checked against Python's json in a real bash.

(The zsh script speaks the protocol's line form instead: see ``test_zsh_lines.py``.)

The scripts build requests and take answers apart with shell code alone (no process per
keystroke), so every string must survive: quotes, backslashes, control characters, characters
beyond the BMP (which arrive as surrogate pairs).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aprender_shell.integration import integration_for
from tests.integration.shells import require

TRICKY = [
    "git commit -m \"fix\"",
    "echo \\n is not a newline",
    "back\\\\slashes\\",
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

PROGRAMS = {
    "bash": (
        ["--norc", "-i", "-c"],
        'source "$1"; while IFS= read -r -d "" s; do {fn} "$s"; printf "%s\\0" "$REPLY"; '
        'done < "$2"',
    ),
}


def run_shell(shell: str, function: str, inputs: list[str], folder: Path) -> list[str]:
    """Call the script's ``function`` on each input in one shell; the REPLY of each."""
    executable = require(shell)
    script = folder / f"init.{shell}"
    script.write_text(integration_for(shell).script())
    data = folder / "inputs"
    data.write_bytes(b"".join(item.encode("utf-8") + b"\0" for item in inputs))
    flags, program = PROGRAMS[shell]
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    done = subprocess.run(
        [executable, *flags, program.replace("{fn}", function), shell, str(script), str(data)],
        capture_output=True, stdin=subprocess.DEVNULL, env=env, timeout=60, check=False,
    )
    out = done.stdout.decode("utf-8")
    assert out.endswith("\0") or not inputs, done.stderr
    return out.split("\0")[:-1]


def answers(texts: list[str]) -> list[str]:
    """Answer lines as a server could send them, in every encoding json offers."""
    lines = []
    for text in texts:
        body = {"suggestions": [{"text": text, "score": 0.5}, {"text": "other", "score": 0.1}]}
        lines.append(json.dumps(body))
        lines.append(json.dumps(body, ensure_ascii=False, separators=(",", ":")))
    return lines


@pytest.mark.parametrize("shell", ["bash"])
def test_requests_are_valid_json_of_the_same_text(shell: str, tmp_path: Path) -> None:
    encoded = run_shell(shell, "_aprender_json", TRICKY, tmp_path)
    assert [json.loads(item) for item in encoded] == TRICKY
    assert all("\n" not in item for item in encoded)


def test_bash_reads_every_text_of_an_answer(tmp_path: Path) -> None:
    script = (
        'source "$1"; _aprender_parse "$(cat "$2")"; '
        'printf "%s\\0" "${_aprender_suggestions[@]}"'
    )
    executable = require("bash")
    (tmp_path / "init.bash").write_text(integration_for("bash").script())
    for line in answers(TRICKY):
        (tmp_path / "answer").write_text(line)
        done = subprocess.run(
            [executable, "--norc", "-i", "-c", script, "bash", str(tmp_path / "init.bash"),
             str(tmp_path / "answer")],
            capture_output=True, stdin=subprocess.DEVNULL, timeout=60, check=False,
            env={**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"},
        )
        expected = json.loads(line)["suggestions"]
        assert done.stdout.decode("utf-8").split("\0")[:-1] == [s["text"] for s in expected]


@pytest.mark.slow
@pytest.mark.parametrize("shell", ["bash"])
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.lists(SHELL_TEXT, min_size=1, max_size=20))
def test_any_text_survives_the_round_trip(shell: str, texts: list[str], tmp_path: Path) -> None:
    encoded = run_shell(shell, "_aprender_json", texts, tmp_path)
    assert [json.loads(item) for item in encoded] == texts

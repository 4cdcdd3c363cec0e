"""Commands a coding agent ran are kept, as the agent's, and suggested only when asked for."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aprender_shell.model.query.predictor import Predictor
from aprender_shell.service.session import Session
from tests.service.conftest import train


def test_an_agents_commands_are_not_suggested_unless_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("APRENDER_SHELL_AGENTS", raising=False)
    model = train(tmp_path / "model.apbundle")
    with Session(lambda: Predictor.open(model), model_path=model) as session:
        for _ in range(3):
            line = "record-agent\tclaude-code\tzsh\t/src\t0\tpytest -x tests/agentic"
            assert session.handle_line(line) == "ok"
        assert session.handle_line("record\tzsh\t/src\t0\tpytest -q mine") == "ok"
        answer = session.handle({"prefix": "pytest", "k": 5})
        assert [item["text"] for item in answer["suggestions"]] == ["pytest -q mine"]
        assert session.handle({"search": True})["commands"].count("pytest -x tests/agentic") == 0
    # Kept in the journal as the agent's; reopened, still not suggested.
    assert '"agent":"claude-code"' in model.with_name("model.apbundle.journal").read_text()
    env = {**os.environ, "APRENDER_SHELL_AGENTS": ""}
    cli = [sys.executable, "-m", "aprender_shell", "suggest", "--model", str(model), "pytest"]
    plain = subprocess.run(cli, capture_output=True, text=True, env=env, check=True)
    assert "agentic" not in plain.stdout
    asked = subprocess.run([*cli, "--agents"], capture_output=True, text=True, env=env, check=True)
    assert "pytest -x tests/agentic" in asked.stdout

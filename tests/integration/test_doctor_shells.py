"""``aprender-shell doctor`` typed in a real shell that loaded the integration: it sees the
integration loaded in that shell, in its mode, and the rc file that loads it."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.integration.shells import (
    BashSession,
    FishSession,
    Home,
    Session,
    ZshAutosuggestFirstSession,
    ZshAutosuggestLaterSession,
    ZshSession,
    session,
)

CASES = [
    (ZshSession, "loaded in this zsh (pid {pid}) on its own"),
    (ZshAutosuggestFirstSession,
     "loaded in this zsh (pid {pid}) as zsh-autosuggestions' 'aprender' strategy"),
    (ZshAutosuggestLaterSession,
     "loaded in this zsh (pid {pid}) as zsh-autosuggestions' 'aprender' strategy"),
    (BashSession, "loaded in this bash (pid {pid}) with its fill key"),
    (FishSession, "loaded in this fish (pid {pid}) with its fill key"),
]


@pytest.fixture
def home(tmp_path: Path) -> Home:
    trained = Home(tmp_path)
    trained.train()
    trained.start_server()  # as the shell would at its first key: doctor then finds it answering
    return trained


def report(shell: Session) -> tuple[list[str], str]:
    """The doctor's lines as the shell ran it, and its exit status as the shell saw it."""
    status = "$status" if shell.shell == "fish" else "$?"
    output = shell.run(f"{sys.executable} -m aprender_shell doctor; echo EXIT=={status}==")
    found = re.search(r"EXIT==(\d+)==", output)
    assert found, output
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output).replace("\r", "")
    return [item for item in text.splitlines() if item[:1] in ("✓", "✗")], found.group(1)


@pytest.mark.parametrize(("kind", "expected"), CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_doctor_sees_the_integration_of_the_shell_it_runs_in(
    home: Home, kind: type[Session], expected: str
) -> None:
    with session(kind, home) as shell:
        lines, status = report(shell)
        pid = shell.proc.pid
        integration = [item for item in lines if item[2:].startswith("integration ")]
        assert integration and integration[0].startswith("✓"), lines
        assert expected.format(pid=pid) in integration[0]
        rc = [item for item in lines if item[2:].startswith("rc file ")]
        assert rc and rc[0].startswith("✓") and "(installed)" in rc[0], lines
        assert status == "0", [item for item in lines if item.startswith("✗")]

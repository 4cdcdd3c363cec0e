"""Small hand-written session histories with sequence structure, for predictor tests."""

from __future__ import annotations

from pathlib import Path

from aprender_shell.history.formats import HistoryEntry

# A developer's morning: the same edit-test-commit loop several times, with variation.
WORKDAY = [
    "cd ~/src/webapp",
    "git pull",
    "git status",
    "vim app/models.py",
    "pytest tests/test_models.py",
    "git add .",
    "git commit -m fix",
    "git push",
    "docker ps",
    "docker logs webapp-db",
    "cd ~/src/webapp",
    "git status",
    "vim app/views.py",
    "pytest tests/test_views.py",
    "git add .",
    "git commit -m fix",
    "git push",
    "make build",
    "make test",
    "git checkout -b feature/login",
    "vim app/auth.py",
    "pytest tests/test_auth.py",
    "git add .",
    "git commit -m 'add login'",
    "git push -u origin feature/login",
    "kubectl get pods",
    "kubectl logs webapp-7d9f",
    "cd ~/src/webapp",
    "git status",
    "vim app/auth.py",
    "pytest tests/test_auth.py",
    "git add .",
    "git commit -m fix",
    "git push",
]


def entries(commands: list[str], start: int = 1_700_000_000) -> list[HistoryEntry]:
    return [HistoryEntry(command, start + 60 * number) for number, command in enumerate(commands)]


def write_zsh_history(path: Path, commands: list[str], start: int = 1_700_000_000) -> Path:
    lines = []
    for number, command in enumerate(commands):
        body = command.replace("\n", "\\\n")
        lines.append(f": {start + 60 * number}:0;{body}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path

"""Devices for the sync tests: each a private HOME (model, journal, key) on this machine,
all sharing one folder, driven through the real command line."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from aprender_shell.cli import cli
from aprender_shell.model.learned.journal import Journal, Record
from aprender_shell.model.training.writer import index_of


class Device:
    """One machine: its own APRENDER_SHELL_HOME, trained on its own history."""

    def __init__(self, root: Path, name: str, commands: Sequence[str]) -> None:
        self.name = name
        self.home = root / name
        self.history = root / f"{name}.bash_history"
        self.history.write_text("".join(f"{command}\n" for command in commands))
        self.model = self.home / "model.apbundle"
        self.ok("train", "--history", str(self.history))

    def env(self) -> dict[str, str]:
        return {"APRENDER_SHELL_HOME": str(self.home)}

    def run(self, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=input, env=self.env())

    def ok(self, *args: str, input: str | None = None) -> str:
        result = self.run(*args, input=input)
        assert result.exit_code == 0, (args, result.output, result.exception)
        return result.output

    def suggest(self, prefix: str) -> list[str]:
        return [line.split("\t")[0] for line in self.ok("suggest", prefix, "-k", "20").splitlines()]

    def record(self, command: str, cwd: str = "/src") -> None:
        """What a shell sends after a command ran (through the protocol, no server)."""
        request = json.dumps({"record": command, "cwd": cwd, "exit": 0, "shell": "bash"})
        answer = self.ok("suggest", "--batch", input=request + "\n")
        assert "error" not in answer, answer

    def journal(self) -> list[Record]:
        return list(Journal(self.model, index_of(self.model).generation).records())

    def status(self) -> str:
        return self.ok("sync", "status")

    def key(self) -> str:
        return self.ok("sync", "key").splitlines()[-1]

    def knows(self, command: str) -> bool:
        return command in self.suggest(command.split()[0])


class Devices:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / "shared"

    def device(self, name: str, commands: Sequence[str]) -> Device:
        return Device(self.root, name, commands)

    def first(self, name: str, commands: Sequence[str]) -> Device:
        device = self.device(name, commands)
        output = device.ok("sync", "init", str(self.folder))
        assert output.splitlines()[-1].startswith("aps1-")
        return device

    def joined(self, name: str, commands: Sequence[str], key: str) -> Device:
        device = self.device(name, commands)
        device.ok("sync", "join", str(self.folder), "--key", key)
        return device

    def files(self) -> list[Path]:
        return sorted(path for path in self.folder.rglob("*") if path.is_file())


@pytest.fixture
def devices(tmp_path: Path) -> Devices:
    return Devices(tmp_path)


def use(device: Device, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point library calls made by the test itself at ``device``'s home."""
    monkeypatch.setenv("APRENDER_SHELL_HOME", str(device.home))


def all_bytes(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file())



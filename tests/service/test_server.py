"""The resident server as a real process: sockets, concurrency, lifecycle, privacy."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable

import pytest

from aprender_shell.model.learned.journal import journal_path
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.paths import lock_path, pid_path, runtime_dir, socket_path
from aprender_shell.service.client import Client, ServerUnavailableError, server_model_stats
from aprender_shell.service.instance import accepts
from aprender_shell.service.protocol.schema import MAX_LINE_BYTES
from aprender_shell.service.server import Server
from aprender_shell.service.session import Session
from tests.service.conftest import WAIT, ServerProcess, alive, aprender, texts, train, wait_for

Start = Callable[..., ServerProcess]


def raw_exchange(lines: list[bytes], shutdown: bool = False) -> list[bytes]:
    """Send raw bytes on a fresh connection and read one answer line per newline sent."""
    expected = sum(line.count(b"\n") for line in lines) + (1 if shutdown else 0)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(WAIT)
        sock.connect(str(socket_path()))
        for line in lines:
            sock.sendall(line)
        if shutdown:
            sock.shutdown(socket.SHUT_WR)
        data = b""
        while data.count(b"\n") < expected:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.splitlines()


def test_suggest_record_and_stats_over_the_socket(model: Path, run_server: Start) -> None:
    server = run_server(model)
    with server.client() as client:
        assert texts(client.request({"prefix": "git c", "k": 3}))[0] == "git commit -m fix"
        recorded = client.request({"record": "kubectl get pods", "cwd": "/k", "exit": 0})
        assert recorded == {"ok": True}
        assert texts(client.request({"prefix": "kub"})) == ["kubectl get pods"]
        stats = client.request({"stats": True})["stats"]
        assert stats["model_path"] == str(model)
        assert stats["learned_commands"] == 1
        assert client.request({"nonsense": 1})["error"].startswith("unknown request")
        assert client.request({"prefix": "git c", "id": 9})["id"] == 9


def test_socket_and_folder_are_private(model: Path, run_server: Start) -> None:
    server = run_server(model)
    assert stat.S_IMODE(os.stat(runtime_dir()).st_mode) == 0o700
    assert stat.S_ISSOCK(os.stat(socket_path()).st_mode)
    assert stat.S_IMODE(os.stat(socket_path()).st_mode) == 0o600
    for path in (pid_path(), lock_path()):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert pid_path().read_text().splitlines()[0] == f"{server.pid}"


def test_the_memory_limit_option_reaches_the_model(model: Path, run_server: Start) -> None:
    server = run_server(model, "--memory-limit", "1.5")
    assert server.request({"stats": True})["stats"]["memory_limit"] == int(1.5 * 2**20)


def test_a_loose_runtime_folder_is_tightened(model: Path, run_server: Start) -> None:
    runtime_dir().mkdir(parents=True, mode=0o755)
    os.chmod(runtime_dir(), 0o755)
    run_server(model)
    assert stat.S_IMODE(os.stat(runtime_dir()).st_mode) == 0o700


def test_concurrent_clients_share_one_model(model: Path, run_server: Start) -> None:
    server = run_server(model)
    first, second = server.client(), server.client()
    with first, second:
        assert texts(first.request({"prefix": "git c"}))[0] == "git commit -m fix"
        assert texts(second.request({"prefix": "make"}))[0] == "make test"
        assert first.request({"record": "terraform plan -out tf.plan"}) == {"ok": True}
        # What one shell ran is suggested in another at once, without retraining.
        assert texts(second.request({"prefix": "terraform p"}))[0] == "terraform plan -out tf.plan"
        assert texts(first.request({"prefix": "terr"}))[0] == "terraform plan -out tf.plan"


def test_many_clients_at_once_each_get_their_own_answers(model: Path, run_server: Start) -> None:
    run_server(model)
    prefixes = ["git c", "make", "docker", "ls", "git p", "git s"] * 3
    results: dict[int, list[str]] = {}
    errors: list[BaseException] = []

    def shell(number: int) -> None:
        try:
            with Client(timeout=WAIT) as client:
                found = []
                for _ in range(20):
                    answer = client.request({"prefix": prefixes[number], "id": number})
                    assert answer["id"] == number
                    found.append(texts(answer)[0])
                results[number] = found
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=shell, args=(n,)) for n in range(len(prefixes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not errors
    for number, found in results.items():
        assert all(text.startswith(prefixes[number]) for text in found)
    assert len(results) == len(prefixes)


def test_pipelined_requests_are_answered_in_order(model: Path, run_server: Start) -> None:
    run_server(model)
    requests = b"".join(json.dumps({"prefix": "git", "id": n}).encode() + b"\n" for n in range(200))
    answers = raw_exchange([requests])
    assert [json.loads(line)["id"] for line in answers] == list(range(200))


def test_malformed_lines_get_errors_and_the_connection_goes_on(
    model: Path, run_server: Start
) -> None:
    run_server(model)
    endless = b'{"prefix": "' + b"a" * (3 * MAX_LINE_BYTES)
    answers = raw_exchange([
        b"garbage\n",
        b'{"prefix": "\xff\xfe"}\n',
        b"[" * 20_000 + b"\n",
        endless, b"aaaa" * 1000 + b'"}\n',
        b'{"prefix": 12}\n',
        b'{"prefix": "git c", "k": 99999999999999999999}\n',
    ])
    decoded = [json.loads(line) for line in answers]
    assert decoded[0]["error"].startswith("request is not valid JSON")
    assert decoded[1] == {"error": "request is not valid UTF-8"}
    assert decoded[2] == {"error": "request is nested too deeply"}
    assert decoded[3]["error"].startswith("request line longer than")
    assert decoded[4] == {"error": "'prefix' must be a string"}
    assert texts(decoded[5])[0] == "git commit -m fix"
    assert len(decoded) == 6


def test_a_last_line_without_newline_is_answered_before_closing(
    model: Path, run_server: Start
) -> None:
    run_server(model)
    answers = raw_exchange([b'{"prefix": "make"}'], shutdown=True)
    assert texts(json.loads(answers[0])) == ["make test"]


def test_the_server_reloads_a_retrained_model(model: Path, run_server: Start) -> None:
    server = run_server(model)
    with server.client() as client:
        assert texts(client.request({"prefix": "git c"}))[0] == "git commit -m fix"
        train(model, ["cargo build --release", "cargo test", "git checkout main"] * 10)
        assert texts(client.request({"prefix": "carg"}))[0].startswith("cargo ")
        assert texts(client.request({"prefix": "git c"}))[0] == "git checkout main"
        assert client.request({"status": True})["status"]["reloads"] == 1


def test_without_a_model_each_request_gets_an_error_until_one_is_trained(
    tmp_path: Path, run_server: Start
) -> None:
    model = tmp_path / "later.apbundle"
    server = run_server(model)
    with server.client() as client:
        assert client.request({"prefix": "git"}) == {
            "error": f"no model at {model}: run 'aprender-shell train' first"
        }
        train(model)
        assert texts(client.request({"prefix": "git c"}))[0] == "git commit -m fix"
    assert server.process.poll() is None


def test_idle_timeout_ends_the_server_and_cleans_up(model: Path, run_server: Start) -> None:
    server = run_server(model, "--idle-timeout", "1")
    assert server.request({"prefix": "git"})["suggestions"]
    assert server.request({"record": "nix build"}) == {"ok": True}
    assert server.process.wait(timeout=WAIT) == 0
    assert "nix build" in journal_path(model).read_text()
    assert not socket_path().exists()
    assert not pid_path().exists()
    assert "exiting: idle for 1 s" in server.log()


def test_idle_timeout_from_the_environment(
    model: Path, run_server: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APRENDER_SHELL_SERVER_IDLE", "1.5")
    server = run_server(model)
    assert server.process.wait(timeout=WAIT) == 0
    assert "idle for 1.5 s" in server.log()


def test_sigterm_saves_learned_commands(model: Path, run_server: Start) -> None:
    server = run_server(model)
    assert server.request({"record": "helm upgrade web ./chart", "cwd": "/ops"}) == {"ok": True}
    # In the journal before it was acknowledged; not later, at some periodic save.
    assert "helm upgrade web ./chart" in journal_path(model).read_text()
    assert server.terminate() == 0
    saved = journal_path(model).read_text()
    assert "helm upgrade web ./chart" in saved
    with Predictor.open(model) as predictor:
        assert predictor.suggest("helm u")[0].text == "helm upgrade web ./chart"
    assert not socket_path().exists()
    assert "exiting: signal SIGTERM" in server.log()


def test_sigint_saves_learned_commands_too(model: Path, run_server: Start) -> None:
    server = run_server(model)
    server.request({"record": "rsync -av build/ host:/srv"})
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=WAIT) == 0
    assert "rsync -av build/ host:/srv" in journal_path(model).read_text()


def test_learned_commands_are_saved_periodically(model: Path, tmp_path: Path) -> None:
    """In-process (a thread), with a short save interval instead of the default 30 s."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    address = tmp_path / "s.sock"
    listener.bind(str(address))
    listener.listen()
    session = Session(lambda: Predictor.open(model), model_path=model, save_interval=0.2)
    server = Server(session, listener, idle_timeout=WAIT)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        with Client(address, timeout=WAIT) as client:
            assert client.request({"record": "ansible-playbook site.yml"}) == {"ok": True}
            wait_for(lambda: journal_path(model).exists() and not session.dirty,
                     what="the periodic save")
            assert "ansible-playbook site.yml" in journal_path(model).read_text()
            assert texts(client.request({"prefix": "ansible"})) == ["ansible-playbook site.yml"]
    finally:
        server.stop("test over")
        thread.join(WAIT)
        session.close()
        listener.close()
    assert not thread.is_alive()


def test_a_stale_socket_and_pid_file_are_replaced(model: Path, run_server: Start) -> None:
    folder = runtime_dir()
    folder.mkdir(parents=True, mode=0o700)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(socket_path()))
    dead.close()  # the file stays; nobody listens: what a killed server leaves behind
    pid_path().write_text("999999\n")
    assert not accepts(socket_path())
    server = run_server(model)
    assert texts(server.request({"prefix": "make"})) == ["make test"]
    assert pid_path().read_text().splitlines()[0] == f"{server.pid}"


def test_a_killed_server_is_replaced_by_the_next_start(model: Path, run_server: Start) -> None:
    first = run_server(model)
    first.process.kill()
    first.process.wait()
    assert socket_path().exists() and pid_path().exists()  # left behind by SIGKILL
    second = run_server(model)
    assert second.request({"prefix": "git"})["suggestions"]
    assert pid_path().read_text().splitlines()[0] == f"{second.pid}"


def test_a_second_server_run_leaves_the_first_alone(model: Path, run_server: Start) -> None:
    first = run_server(model)
    second = run_server(model, wait=False)
    assert second.process.wait(timeout=WAIT) == 0
    assert "already running" in second.log()
    assert first.process.poll() is None
    assert first.request({"status": True})["status"]["pid"] == first.pid


def test_two_simultaneous_starts_give_one_server(model: Path) -> None:
    command = [sys.executable, "-m", "aprender_shell", "server", "start", "--model", str(model)]
    starts = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(3)]
    outputs = [process.communicate(timeout=WAIT) for process in starts]
    assert [process.returncode for process in starts] == [0, 0, 0], outputs
    with Client(timeout=WAIT) as client:
        pid = client.request({"status": True})["status"]["pid"]
    assert all(f"(pid {pid})" in out for out, _ in outputs), outputs
    log = (runtime_dir() / "server.log").read_text()
    assert log.count("serving ") == 1, log
    assert stat.S_IMODE(os.stat(runtime_dir() / "server.log").st_mode) == 0o600
    stopped = aprender("server", "stop")
    assert stopped.returncode == 0 and f"pid {pid}" in stopped.stdout
    assert not alive(pid)
    assert not accepts(socket_path())


def test_server_start_is_a_no_op_when_running(model: Path) -> None:
    first = aprender("server", "start", "--model", str(model))
    assert first.returncode == 0 and "started" in first.stdout
    again = aprender("server", "start", "--model", str(model))
    assert again.returncode == 0 and "already running" in again.stdout
    other = aprender("server", "start", "--model", str(model.with_name("other.apbundle")))
    assert other.returncode == 1
    assert "for another model" in other.stderr and len(other.stderr.splitlines()) == 1


def test_status_and_stop(model: Path, run_server: Start) -> None:
    server = run_server(model)
    server.request({"prefix": "git c"})
    shown = aprender("server", "status")
    assert shown.returncode == 0
    assert f"running (pid {server.pid})" in shown.stdout
    assert "1 request from shells served" in shown.stdout
    assert str(model) in shown.stdout
    assert "Paging:" in shown.stdout and "hit rate" in shown.stdout
    stopped = aprender("server", "stop")
    assert stopped.returncode == 0
    assert server.process.wait(timeout=WAIT) == 0
    after = aprender("server", "status")
    assert after.returncode == 3
    assert after.stdout == "aprender-shell server is not running.\n"
    assert aprender("server", "stop").stdout == "aprender-shell server is not running.\n"


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads /proc")
def test_a_hung_server_is_reported_and_can_be_stopped(model: Path, run_server: Start) -> None:
    server = run_server(model)
    server.process.send_signal(signal.SIGSTOP)
    try:
        shown = aprender("server", "status", timeout=WAIT)
        assert shown.returncode == 1
        assert shown.stderr == (
            f"Error: the server (pid {server.pid}) runs but does not answer: "
            "'aprender-shell server stop' ends it\n"
        )
        stopping = subprocess.Popen(
            [sys.executable, "-m", "aprender_shell", "server", "stop"],
            stdout=subprocess.PIPE, text=True,
        )
        # A stopped process keeps the signal pending: proof that 'stop' sent it.
        wait_for(lambda: _sigterm_pending(server.pid), what="SIGTERM from 'server stop'")
    finally:
        server.process.send_signal(signal.SIGCONT)
    out, _ = stopping.communicate(timeout=WAIT)
    assert stopping.returncode == 0
    assert f"(pid {server.pid}) did not answer; stopped it" in out
    assert server.process.wait(timeout=WAIT) == 0


def _sigterm_pending(pid: int) -> bool:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            pending = line.startswith(("ShdPnd:", "SigPnd:")) and int(line.split()[1], 16)
            if pending and pending & (1 << (signal.SIGTERM - 1)):
                return True
    return False


def test_server_model_stats_only_for_the_served_model(
    model: Path, tmp_path: Path, run_server: Start
) -> None:
    assert server_model_stats(model) is None
    server = run_server(model)
    server.request({"prefix": "git c"})
    stats = server_model_stats(model)
    assert stats is not None
    assert stats.model_path == model and stats.hits + stats.misses > 0
    assert stats.top_commands and isinstance(stats.top_commands[0], tuple)
    assert server_model_stats(train(tmp_path / "other.apbundle")) is None


def test_stats_command_uses_the_running_server(model: Path, run_server: Start) -> None:
    server = run_server(model)
    for _ in range(5):
        server.request({"prefix": "git c"})
    shown = aprender("stats", "--model", str(model))
    assert shown.returncode == 0, shown.stderr
    assert "running server" in shown.stdout


def _connect_as_nobody(path: Path) -> int:
    """Fork; the child becomes nobody and tries to talk to the socket. Its exit code:
    0 refused by the system, 1 answered (a leak), 2 connected but closed unanswered."""
    import pwd

    nobody = pwd.getpwnam("nobody")
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 3
        try:
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(10)
            try:
                sock.connect(str(path))
            except PermissionError:
                code = 0
            else:
                sock.sendall(b'{"prefix": "git"}\n')
                try:
                    code = 1 if sock.recv(100) else 2
                except OSError:
                    code = 2
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status)


root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")


@root_only
def test_another_user_cannot_reach_the_socket(model: Path, run_server: Start) -> None:
    run_server(model)
    assert _connect_as_nobody(socket_path()) == 0


@root_only
def test_another_uid_is_turned_away_by_peer_credentials(tmp_path: Path) -> None:
    """A server running as nobody; root (who passes every permission check) connects and must
    be dropped unanswered, because its uid is not the server's."""
    import pwd
    import shutil
    import tempfile

    from aprender_shell.service.server import run_server as serve

    nobody = pwd.getpwnam("nobody")
    home = Path(tempfile.mkdtemp(prefix="apr-uid-", dir="/tmp"))
    os.chown(home, nobody.pw_uid, nobody.pw_gid)
    log = home / "log"
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            os.environ["APRENDER_SHELL_HOME"] = str(home)
            with open(log, "w") as stream:
                serve(home / "absent.apbundle", idle_timeout=WAIT, log_stream=stream)
            code = 0
        finally:
            os._exit(code)
    path = home / "run" / "server.sock"
    try:
        wait_for(lambda: accepts(path), what="the nobody server")
        assert os.stat(path).st_uid == nobody.pw_uid
        with pytest.raises(ServerUnavailableError, match="belongs to nobody"):
            Client(path).connect()  # their folder: refused before connecting
        # Through a link in a folder of ours, the peer's credentials still turn it away.
        (tmp_path / "server.sock").symlink_to(path)
        with pytest.raises(ServerUnavailableError, match="runs as uid 65534, not as you"):
            Client(tmp_path / "server.sock").connect()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(WAIT)
            sock.connect(str(path))
            try:
                sock.sendall(b'{"status": true}\n')
                answer = sock.recv(100)
            except (BrokenPipeError, ConnectionResetError):
                answer = b""
        assert answer == b""
        wait_for(lambda: "refused a connection from uid 0" in log.read_text(), what="the log")
    finally:
        os.kill(child, signal.SIGTERM)
        _, status = os.waitpid(child, 0)
        shutil.rmtree(home)
    assert os.waitstatus_to_exitcode(status) == 0


@root_only
def test_a_runtime_folder_of_another_user_is_refused(model: Path) -> None:
    import pwd

    nobody = pwd.getpwnam("nobody")
    runtime_dir().mkdir(parents=True)
    os.chmod(runtime_dir(), 0o755)
    os.chown(runtime_dir(), nobody.pw_uid, nobody.pw_gid)
    done = aprender("server", "run", "--model", str(model))
    assert done.returncode == 1
    assert done.stderr == (
        f"Error: {runtime_dir()} belongs to nobody (uid {nobody.pw_uid}), not to you: "
        "refusing to use it; set APRENDER_SHELL_HOME to a folder of your own\n"
    )
    assert not socket_path().exists()
    assert stat.S_IMODE(os.stat(runtime_dir()).st_mode) == 0o755  # not ours to change


def test_a_hostile_model_gets_an_error_answer_and_the_server_lives(
    tmp_path: Path, run_server: Start
) -> None:
    from tests.model.hostile import rewrite

    model = train(tmp_path / "hostile.apbundle")
    rewrite(model, {"index": b"[" * 100_000 + b"]" * 100_000})
    server = run_server(model)
    for request in ({"prefix": "git ", "id": 1}, {"stats": True, "id": 2}):
        answer = server.request(request)
        assert "nested too deeply" in answer["error"] and "\n" not in answer["error"]
    assert server.request({"status": True})["status"]["pid"] == server.pid
    train(model)  # retrained: the same server answers from the good model
    assert server.request({"prefix": "git "})["suggestions"]
    assert server.process.poll() is None

"""The installed aprender-shell a year benchmark drives: a venv with the checkout installed as
users install it, the user's folders, the server process, and the counts the checks compare."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHECKOUT = Path(__file__).resolve().parents[2]
WAIT = 300.0


def build_venv(folder: Path) -> Path:
    """A venv in ``folder`` with this checkout installed as users install it (not editable)."""
    source = folder / "source"
    shutil.copytree(CHECKOUT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"))
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                    "--disable-pip-version-check", str(source)], check=True)
    return venv


class Setup:
    """The install, the user's folders, the model and the history of one run."""

    def __init__(self, venv: Path, folder: Path) -> None:
        self.python = str(venv / "bin" / "python")
        self.program = str(venv / "bin" / "aprender-shell")
        self.folder = folder
        self.home = folder / "home"
        self.data = folder / "data"
        self.home.mkdir()
        self.history = self.home / ".bash_history"
        self.model = self.data / "model.apbundle"
        environment = {k: v for k, v in os.environ.items()
                       if not k.startswith(("XDG_", "APRENDER_SHELL", "HIST", "PYTHON"))}
        environment.update(HOME=str(self.home), APRENDER_SHELL_HOME=str(self.data),
                           SHELL="/bin/bash")
        self.environment = environment
        self.servers: list[subprocess.Popen[bytes]] = []

    def stop_servers(self) -> None:
        """Kill whatever server this run started and did not end (a failed run's)."""
        for process in self.servers:
            if process.poll() is None:
                process.kill()
                process.wait(WAIT)

    def cli(self, *args: str) -> str:
        """Run the installed command line (in the run's folder, never the checkout's)."""
        done = subprocess.run([self.program, *args], env=self.environment, cwd=self.folder,
                              capture_output=True, text=True, timeout=WAIT)
        if done.returncode:
            raise RuntimeError(f"aprender-shell {args[0]} failed: {done.stderr.strip()}")
        return done.stdout

    def append_history(self, commands: Sequence[str], stamp: int) -> None:
        with open(self.history, "a", encoding="utf-8") as handle:
            handle.write("".join(f"#{stamp}\n{command}\n" for command in commands))

    def disk(self, model: Path | None = None) -> int:
        model = model or self.model
        journal = model.with_name(model.name + ".journal")
        return sum(path.stat().st_size for path in (model, journal) if path.exists())


class Server:
    """The installed ``server run``, started, asked, killed and stopped by the benchmark."""

    def __init__(self, setup: Setup, data: Path | None = None) -> None:
        """``data``: a copy of the data folder to serve instead of the run's own."""
        from aprender_shell.errors import AprenderError
        from aprender_shell.service.client import Client

        self.setup = setup
        data = data or setup.data
        self.process = subprocess.Popen(
            [setup.program, "server", "run", "--model", str(data / setup.model.name)],
            env={**setup.environment, "APRENDER_SHELL_HOME": str(data)}, cwd=setup.folder,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        setup.servers.append(self.process)
        self.socket = data / "run" / "server.sock"
        self.started = time.perf_counter()
        deadline = time.monotonic() + WAIT
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the benchmark's server did not start")
            try:
                self.client = Client(self.socket, timeout=WAIT).connect()
                break
            except (AprenderError, OSError):
                time.sleep(0.002)

    def request(self, request: dict[str, Any]) -> Any:
        return self.client.request(request)

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = self.request({"status": True})["status"]
        return status

    def peak_rss(self) -> int:
        """The server's peak resident size so far (VmHWM), in bytes."""
        with open(f"/proc/{self.process.pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        return 0

    def wait_for_folds(self) -> None:
        deadline = time.monotonic() + WAIT
        while self.status()["folding"]:
            if time.monotonic() > deadline:
                raise RuntimeError("the server's fold did not finish")
            time.sleep(0.05)

    def end(self, how: int = signal.SIGTERM) -> int:
        """Stop (SIGTERM) or kill (SIGKILL) the server; returns its folds since it started."""
        if how != signal.SIGKILL:
            self.wait_for_folds()
        folds = int(self.status()["folds"])
        self.client.close()
        self.process.send_signal(how)
        self.process.wait(WAIT)
        return folds


def start_to_first_answer(setup: Setup, rounds: int) -> float:
    """Median seconds from starting a server to its first suggestion."""
    samples = []
    for _ in range(rounds):
        server = Server(setup)
        server.request({"prefix": "git st", "prev": []})
        samples.append(time.perf_counter() - server.started)
        server.end()
    return sorted(samples)[len(samples) // 2]


def scratch_bytes(setup: Setup) -> int:
    """Bytes of a model trained from scratch on the same history (what was learned)."""
    scratch = setup.folder / "scratch.apbundle"
    setup.cli("train", "--history", str(setup.history), "--model", str(scratch))
    size = setup.disk(scratch)
    for path in setup.folder.glob("scratch.apbundle*"):
        path.unlink()
    return size



@contextmanager
def private_environment(setup: Setup) -> Iterator[None]:
    """This process reads the run's folders (for the count check) as the installed one does."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(setup.environment)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def known_commands(setup: Setup) -> int:
    """Every command run the model holds: its corpus, then its journal's unfolded records."""
    from aprender_shell.model.learned.journal import Journal
    from aprender_shell.model.memory import MemoryLimit
    from aprender_shell.model.store.corpus import read_corpus
    from aprender_shell.model.store.tables import open_model_bundle, read_index
    from aprender_shell.model.training.writer import writer

    with private_environment(setup), writer(setup.model):
        with open_model_bundle(setup.model, MemoryLimit.default().paging) as bundle:
            index = read_index(bundle, setup.model)
            corpus = len(read_corpus(bundle, index, setup.model))
        return corpus + len(Journal(setup.model, index.generation).read().records)


def learnable(setup: Setup, commands: Sequence[str]) -> int:
    """How many of ``commands`` the learning gate lets in (the others are acknowledged and
    dropped, by design)."""
    from aprender_shell.history.formats import HistoryEntry
    from aprender_shell.model.training.train import clean_commands

    with private_environment(setup):
        return len(clean_commands([HistoryEntry(command) for command in commands])[0])

"""Real zsh and bash sessions under pexpect, each in a private home with a fixed prompt.

A session is set up the way a user would do it: a small rc file of our own, then
``aprender-shell install`` appends its block, and the shell is started interactively. The fake
``git`` function prints a marker, so a test sees which command Enter really ran.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pexpect  # type: ignore[import-untyped]
import pytest

from aprender_shell.service.protocol import line_form as lines

# Generous bounds on waits on a shared machine; nothing here measures time.
TIMEOUT = 30
PACE = 0.2  # seconds between keys a test types one by one
PROMPT = "PROMPT> "  # after a counter: "<3>PROMPT> " is the third prompt
REPO = Path(__file__).resolve().parents[2]

# Output that must never appear in a session: shells' and our own complaints.
NOISE = re.compile(r"Error|error|Traceback|aprender|zsh:|bash:|command not found|\[\d+\]")

HISTORY = [
    "git status",
    "git checkout main",
    "git commit -m fix",
    "git commit -m fix",
    "git commit -m fix",
    "git push",
    "ls -la",
    "make test",
]


def require(shell: str) -> str:
    """The shell's path; a missing shell skips the test, or fails it when shells are required."""
    found = shutil.which(shell)
    if found is None:
        message = f"{shell} is not installed"
        if os.environ.get("APRENDER_SHELL_REQUIRE_SHELLS") == "1":
            pytest.fail(f"{message} (APRENDER_SHELL_REQUIRE_SHELLS=1)")
        pytest.skip(message)
    return found


def aprender(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the real command line with the session's environment."""
    return subprocess.run(
        [sys.executable, "-m", "aprender_shell", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def tree(root: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``root``: its bytes, or None for a folder (or socket)."""
    found: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        name = str(path.relative_to(root))
        found[name] = path.read_bytes() if path.is_file() else None
    return found


def relays_of(shell: int, argv: bytes) -> list[int]:
    """The relays (and socat clients) the shell ``shell`` (command line ``argv``) started,
    still running after it ended, and its forks not yet turned into one: the processes of its
    session (a server leaves it) running ``relay.py`` or ``socat``, or still the shell's."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text() if entry.isdigit() else ""
            command = Path(f"/proc/{entry}/cmdline").read_bytes() if stat else b""
        except OSError:
            continue  # ended meanwhile
        fields = stat.rsplit(")", 1)[-1].split()
        if (len(fields) > 3 and fields[0] != "Z" and fields[3] == str(shell)
                and int(entry) != shell
                and (b"relay.py" in command or b"socat" in command or command == argv)):
            found.append(int(entry))
    return found


class Home:
    """A private home: environment, history, model and server of one test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.home.mkdir(exist_ok=True)
        self.data = root / "aprender"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "ZDOTDIR": str(self.home),
            "HISTFILE": str(root / "histfile"),
            "INPUTRC": str(root / "inputrc"),
            "TERM": "xterm",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "APRENDER_SHELL_HOME": str(self.data),
            # A server a failed test leaves behind still goes away by itself.
            "APRENDER_SHELL_SERVER_IDLE": "120",
            # bash's first key press starts the server; on a loaded machine that may take more
            # than the 2 s bash waits for an answer, and a key given up on never fills the line.
            "APRENDER_SHELL_BASH_TIMEOUT": str(TIMEOUT),
            # fish's one-shot relay likewise waits 2 s for the server its first key starts.
            "APRENDER_SHELL_FISH_TIMEOUT": str(TIMEOUT),
            "PYTHONPATH": str(REPO),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        (root / "inputrc").write_text("set enable-bracketed-paste off\nset bell-style none\n")

    @property
    def model(self) -> Path:
        return self.data / "model.apbundle"

    def train(self, commands: list[str] = HISTORY) -> None:
        history = self.root / "train_history"
        history.write_text("".join(f": {1700000000 + i}:0;{c}\n" for i, c in enumerate(commands)))
        result = aprender("train", "--history", str(history), env=self.env)
        assert result.returncode == 0, result.stderr

    def start_server(self) -> None:
        result = aprender("server", "start", env=self.env)
        assert result.returncode == 0, result.stderr

    def server_pid(self) -> int | None:
        try:
            return int((self.data / "run" / "server.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def kill_server(self) -> None:
        pid = self.server_pid()
        assert pid is not None, "no server to kill"
        os.kill(pid, signal.SIGKILL)

    def stop_server(self) -> None:
        # A server this leaves behind (stop failing) still exits after its idle timeout.
        aprender("server", "stop", env=self.env)


class FakeServer:
    """A stand-in for the server on the session's socket that logs every request it gets.

    It answers as the real one would (``status`` with the served model, an empty suggestion
    list, ``ok`` for records), so a test can check exactly what a shell sends.
    """

    def __init__(
        self, home: Home, answers: dict[str, tuple[float, str]] | None = None,
        unsure: bool = False,
    ) -> None:
        self.home = home
        # Answers to an empty prefix say "show": false, as the server does when it is unsure.
        self.unsure = unsure
        # prefix -> (seconds to wait before answering, the suggestion to give)
        self.answers = answers or {}
        self.requests: list[dict[str, Any]] = []
        self.answered: list[str] = []  # the prefixes answered, once the answer is written
        self._lock = threading.Lock()
        self._server: socketserver.UnixStreamServer | None = None

    def __enter__(self) -> FakeServer:
        folder = self.home.data / "run"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for raw in self.rfile:
                    text = raw.decode("utf-8")
                    line_form = lines.is_line_form(text)
                    request = lines.parse(text) if line_form else json.loads(text)
                    with fake._lock:
                        fake.requests.append(request)
                    if "status" in request:
                        answer: dict[str, Any] = {"status": {"model_path": str(fake.home.model)}}
                    elif "record" in request:
                        answer = {"ok": True}
                    else:
                        delay, text = fake.answers.get(request.get("prefix"), (0.0, ""))
                        time.sleep(delay)
                        answer = {"suggestions": [{"text": text, "score": 1.0}] if text else []}
                        if fake.unsure and request.get("prefix") == "":
                            answer["show"] = False
                    if line_form:
                        reply = lines.encode(answer, request.get("id", ""))
                    else:
                        reply = json.dumps(answer)
                    self.wfile.write(reply.encode() + b"\n")
                    self.wfile.flush()
                    if "prefix" in request:
                        with fake._lock:
                            fake.answered.append(request["prefix"])

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self._server = Server(str(folder / "server.sock"), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            return [request for request in self.requests if "record" in request]


class Session:
    """One interactive shell; subclasses know how their shell shows and takes suggestions."""

    shell = ""
    rc_lines: list[str] = []

    def __init__(self, home: Home) -> None:
        self.home = home
        self.child: pexpect.spawn | None = None
        self.seen = ""  # everything the shell printed, for the noise check
        self.before_install: dict[str, bytes | None] = {}  # the home as it was
        self.prompts = 0  # prompts seen so far; redraws of one prompt do not count
        self.install_output = ""

    def start(self) -> Session:
        path = require(self.shell)
        rc = self.rc_file()
        rc.write_text("\n".join(self.rc_lines) + "\n")
        self.before_install = tree(self.home.home)
        result = aprender("install", "--shell", self.shell, env=self.home.env)
        assert result.returncode == 0, result.stderr
        self.install_output = result.stdout
        self.after_install(rc)
        self.child = pexpect.spawn(
            path, self.argv(), env=self.home.env, cwd=str(self.home.home),
            encoding="utf-8", codec_errors="replace", timeout=TIMEOUT, dimensions=(24, 200),
        )
        self.expect_prompt()
        return self

    def rc_file(self) -> Path:
        raise NotImplementedError

    def after_install(self, rc: Path) -> None:
        """Change the rc file after ``install`` wrote its block (nothing, unless overridden)."""

    def argv(self) -> list[str]:
        raise NotImplementedError

    def show_suggestion(self, typed: str, rest: str) -> None:
        """Type ``typed`` and wait until the shell shows ``rest`` after it (or in the line)."""
        raise NotImplementedError

    def accept(self) -> None:
        """Take the whole suggestion shown (zsh) or filled in (bash)."""
        raise NotImplementedError

    def poke(self, typed: str) -> None:
        """Type ``typed`` and make the shell ask for a suggestion, then clear the line."""
        raise NotImplementedError

    @property
    def proc(self) -> pexpect.spawn:
        assert self.child is not None
        return self.child

    def send(self, text: str) -> None:
        self.proc.send(text)

    def expect(self, pattern: str) -> str:
        """Wait for the literal ``pattern``; return what came before it."""
        self.proc.expect_exact(pattern)
        before = str(self.proc.before)
        self.seen += before + pattern
        return before

    def expect_prompt(self) -> str:
        """Wait for the next prompt (not a redraw of the current one)."""
        self.prompts += 1
        return self.expect(f"<{self.prompts}>{PROMPT}")

    def enter(self) -> str:
        """Press Enter and return the output up to the next prompt."""
        self.send("\r")
        return self.expect_prompt()

    def run(self, command: str) -> str:
        self.send(command)
        return self.enter()

    def close(self) -> None:
        if self.child is not None and self.child.isalive():
            shell = self.child.pid
            argv = Path(f"/proc/{shell}/cmdline").read_bytes()
            self.child.sendline("exit")
            try:
                self.child.expect(pexpect.EOF, timeout=10)
            except pexpect.TIMEOUT:
                self.child.terminate(force=True)
            # What the shell handed its relays before it exited (its last command, what became
            # of its suggestions) has reached the server once they have ended.
            deadline = time.monotonic() + TIMEOUT
            while relays := relays_of(shell, argv):
                assert time.monotonic() < deadline, f"relays {relays} still running"
                time.sleep(0.02)
        if self.child is not None:
            self.seen += str(self.child.before or "")

    def assert_quiet(self) -> None:
        """Nothing but the test's own commands and output reached the terminal."""
        found = NOISE.search(self.seen)
        assert found is None, f"unexpected output {found.group(0)!r} in:\n{self.seen}"


@dataclass(frozen=True)
class Probe:
    """What zle holds: region_highlight entries, the line, the ghost text, the strategies."""

    highlights: list[str]
    buffer: str
    ghost: str
    strategies: list[str]

    def painted_over_the_line(self) -> list[str]:
        """Highlight entries reaching into the typed line (only the ghost text may be painted)."""
        return [entry for entry in self.highlights if int(entry.split()[0]) < len(self.buffer)]


class ZshSession(Session):
    shell = "zsh"
    rc_lines = [
        "typeset -i N=0",
        "count_prompts() { N=$((N + 1)); }",
        "precmd_functions+=(count_prompts)",
        "setopt prompt_subst",
        f"PS1='<$N>{PROMPT}'",
        "RPS1=''",
        # zle sets zle_bracketed_paste when it loads, after .zshrc unless loaded first.
        "zmodload zsh/zle",
        "unset zle_bracketed_paste",
        "unsetopt prompt_sp",
        "bindkey -e",
        "HISTSIZE=1000 SAVEHIST=1000",
        'git() { print -r -- "MARKER git $*"; }',
        # A key that shows the line editor's state: what is painted how, typed and suggested.
        "_probe() { zle -M \"HL<${(j:;:)${region_highlight//memo=aprender-shell/memo=ours}}>"
        "BUF<$BUFFER>GHOST<$POSTDISPLAY>"
        "STRATEGY<${ZSH_AUTOSUGGEST_STRATEGY//aprender/OURS}>#\" }",
        "zle -N _probe",
        *[f"bindkey -M {keymap} '^Xh' _probe" for keymap in ("emacs", "viins", "vicmd")],
        *[f"bindkey -M {keymap} '^Xe' aprender-shell-execute" for keymap in ("emacs", "viins")],
    ]
    rc_after: list[str] = []  # lines the rc file runs after the block install wrote

    def start(self) -> Session:
        # Grey (fg=8) exists only on terminals of 16 colours or more.
        self.home.env["TERM"] = "xterm-256color"
        return super().start()

    def rc_file(self) -> Path:
        return self.home.home / ".zshrc"

    def after_install(self, rc: Path) -> None:
        if self.rc_after:
            rc.write_text(rc.read_text() + "\n".join(self.rc_after) + "\n")

    def type_slowly(self, text: str, pace: float = 0.15) -> None:
        """Type ``text`` a key at a time, as a person does (the default: a key every 150 ms)."""
        for key in text:
            self.send(key)
            time.sleep(pace)

    def probe(self) -> Probe:
        """The line editor's state now, as the probe key shows it."""
        self.send("\x18h")
        self.proc.expect(r"HL<([^>]*)>BUF<([^>]*)>GHOST<([^>]*)>STRATEGY<([^>]*)>#")
        self.seen += str(self.proc.before) + str(self.proc.after)
        found = self.proc.match
        return Probe(
            [entry for entry in found.group(1).split(";") if entry],
            found.group(2), found.group(3),
            [name.replace("OURS", "aprender") for name in found.group(4).split()],
        )

    def argv(self) -> list[str]:
        # -d: no global rc files, so the machine's /etc/zsh cannot change what we test.
        return ["-d", "-i"]

    def show_suggestion(self, typed: str, rest: str) -> None:
        self.send(typed)
        self.expect(rest)

    def accept(self) -> None:
        self.send("\x1b[C")

    def poke(self, typed: str) -> None:
        # One key at a time: keys already waiting make zsh put off asking (PENDING).
        for key in typed:
            self.send(key)
            time.sleep(PACE)
        self.send("\x15")


ZSH_AUTOSUGGESTIONS = "/usr/share/zsh-autosuggestions/zsh-autosuggestions.zsh"


class ZshAutosuggestFirstSession(ZshSession):
    """zsh-autosuggestions sourced in the rc file before the block install writes."""

    rc_lines = [*ZshSession.rc_lines, f"source {ZSH_AUTOSUGGESTIONS}"]

    def start(self) -> Session:
        if not Path(ZSH_AUTOSUGGESTIONS).exists():
            if os.environ.get("APRENDER_SHELL_REQUIRE_SHELLS") == "1":
                pytest.fail(f"{ZSH_AUTOSUGGESTIONS} is missing (APRENDER_SHELL_REQUIRE_SHELLS=1)")
            pytest.skip("zsh-autosuggestions is not installed")
        return super().start()


class ZshAutosuggestLaterSession(ZshAutosuggestFirstSession):
    """zsh-autosuggestions sourced after our block."""

    rc_lines = ZshSession.rc_lines
    rc_after = [f"source {ZSH_AUTOSUGGESTIONS}"]


class ZshViSession(ZshSession):
    rc_lines = [*ZshSession.rc_lines, "bindkey -v", "KEYTIMEOUT=1"]


class BashSession(Session):
    shell = "bash"
    key = "\x1b;"
    rc_lines = [
        "N=0",
        f"PS1='<$((N += 1))>{PROMPT}'",
        "PS2='> '",
        "HISTCONTROL=ignorespace",
        'git() { echo "MARKER git $*"; }',
    ]

    def rc_file(self) -> Path:
        return self.home.home / ".bashrc"

    def argv(self) -> list[str]:
        return ["--noprofile", "--rcfile", str(self.rc_file()), "-i"]

    def show_suggestion(self, typed: str, rest: str) -> None:
        self.send(typed)
        self.expect(typed)
        self.send(self.key)
        self.expect(rest)

    def accept(self) -> None:
        # The key already put the suggestion in the line.
        return None

    def poke(self, typed: str) -> None:
        self.send(typed + self.key + "\x15")


_ESCAPES = re.compile(r"\x1b(?:\[[0-9;?]*[A-Za-z]|\([A-Z0-9]|\][^\x07]*\x07)")


def _plain(output: str) -> str:
    """``output`` without terminal control sequences, a lone CR read as a line break."""
    return re.sub(r"\r(?!\n)", "\n", _ESCAPES.sub("", output))


class FishSession(Session):
    shell = "fish"
    key = "\x1b;"
    socat = True  # use socat where it is installed
    rc_lines = [
        "set -g fish_greeting",
        "set -g N 0",
        # The fish_prompt event comes once per prompt; the prompt function runs on every redraw.
        "function count_prompts --on-event fish_prompt; set -g N (math $N + 1); end",
        f"function fish_prompt; printf '<%d>{PROMPT}' $N; end",
        "function fish_right_prompt; end",
        "function fish_title; end",
        "function fish_mode_prompt; end",
        'function git; echo "MARKER git $argv"; end',
    ]

    def rc_file(self) -> Path:
        folder = self.home.home / ".config" / "fish"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / "config.fish"

    def argv(self) -> list[str]:
        return ["-i"]

    def start(self) -> Session:
        if not self.socat:
            self.home.env["APRENDER_SHELL_NO_SOCAT"] = "1"
        return super().start()


    def expect(self, pattern: str) -> str:
        # fish repaints with colours and cursor moves around the text it shows; a test reads
        # the text, one line per line the terminal shows.
        return _plain(super().expect(pattern))

    def show_suggestion(self, typed: str, rest: str) -> None:
        # fish redraws each key with cursor moves, so the typed text never shows in one piece;
        # it reads keys in order, so the key after them acts on what was typed.
        self.send(typed + self.key)
        self.expect(rest)

    def accept(self) -> None:
        return None  # the key already put the suggestion in the line

    def poke(self, typed: str) -> None:
        self.send(typed + self.key + "\x15")


class FishRelaySession(FishSession):
    """fish without socat: every use runs the relay."""

    socat = False


@contextlib.contextmanager
def session(kind: type[Session], home: Home) -> Iterator[Session]:
    """A started session of ``kind`` that is closed, and its server stopped, afterwards."""
    started = kind(home)
    try:
        yield started.start()
    finally:
        started.close()
        home.stop_server()


class BashViSession(BashSession):
    """bash with readline in vi mode (insert mode at each prompt)."""

    rc_lines = [*BashSession.rc_lines, "set -o vi"]

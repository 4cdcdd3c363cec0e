"""The fill key in real bash and fish: time from the key press to the filled line, and memory.

bash keeps one relay per shell (a coprocess); fish runs a client per use (socat where it is
installed, else the relay), so nothing stays beside it. Each shell runs under a pseudo-terminal
(pexpect) in a private home with the integration installed by ``aprender-shell install``; the
same trained model and server answer both, side by side in one run. A press is timed from
writing the key to reading the filled line's text from the terminal. Then the resident memory
(RSS, from ``ps``) of every process the shell keeps running beside it.

``python -m benchmarks.fill_key [--presses N]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

KEY = "\x1b;"
HISTORY = ["git status", "git commit -m fix", "git commit -m fix", "git checkout main", "ls"]
RC = {
    "bash": (".bashrc", ["PS1='$ '", "HISTCONTROL=ignorespace"]),
    "fish": (".config/fish/config.fish",
             ["set -g fish_greeting", "function fish_prompt; printf '$ '; end",
              "function fish_title; end"]),
}
# fish's own helper that it runs once after its first start; not ours.
NOT_OURS = ("create_manpage_completions",)


def _aprender(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "aprender_shell", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)


def kept_beside(pid: int) -> list[tuple[int, str]]:
    """(RSS in KB, command) of every descendant of ``pid`` still running."""
    rows = [line.split(None, 3) for line in subprocess.run(
        ["ps", "-e", "-o", "pid=,ppid=,rss=,args="], capture_output=True, text=True, check=True,
    ).stdout.splitlines()]
    found: list[tuple[int, str]] = []
    parents = {str(pid)}
    while parents:
        children = [row for row in rows if len(row) == 4 and row[1] in parents]
        found += [(int(row[2]), row[3]) for row in children]
        parents = {row[0] for row in children}
    return [item for item in found if not any(name in item[1] for name in NOT_OURS)]


def measure(shell: str, env: dict[str, str], home: Path, presses: int) -> tuple[list[float], int]:
    """Milliseconds per press, and the KB the shell keeps running beside it."""
    import pexpect  # type: ignore[import-untyped]

    name, lines = RC[shell]
    rc = home / name
    rc.parent.mkdir(parents=True, exist_ok=True)
    rc.write_text("\n".join(lines) + "\n")
    _aprender(env, "install", "--shell", shell)
    argv = ["--noprofile", "--rcfile", str(rc), "-i"] if shell == "bash" else ["-i"]
    child = pexpect.spawn(shutil.which(shell) or shell, argv, env=env, encoding="utf-8",
                          codec_errors="replace", timeout=30, dimensions=(24, 200))
    child.delaybeforesend = None
    child.expect_exact("$ ")
    times = []
    for _ in range(presses):
        child.send("git c")
        time.sleep(0.2)
        _drain(child)
        start = time.perf_counter()
        child.send(KEY)
        child.expect_exact("ommit -m fix")
        times.append((time.perf_counter() - start) * 1000)
        child.send("\x15")
        time.sleep(0.1)
    kept = sum(rss for rss, _ in kept_beside(child.pid))
    child.sendline("exit")
    child.expect(pexpect.EOF)
    return times, kept


def _drain(child: object) -> None:
    import pexpect

    try:
        while True:
            child.read_nonblocking(65536, timeout=0.05)  # type: ignore[attr-defined]
    except pexpect.TIMEOUT:
        pass


def run(presses: int, out: Callable[[str], None] = print) -> None:
    try:
        import pexpect  # noqa: F401
    except ImportError:
        out("pexpect is not installed (pip install -e '.[test]'): nothing measured")
        return
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        home = root / "home"
        home.mkdir()
        # fish's first start in a new home runs its man-page completion generator in the
        # background, still writing there when the folder is removed; a home that has its
        # folder already is spared it.
        (home / ".local" / "share" / "fish" / "generated_completions").mkdir(parents=True)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
               "TERM": "xterm", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
               "APRENDER_SHELL_HOME": str(root / "data"), "APRENDER_SHELL_SERVER_IDLE": "300",
               "INPUTRC": str(root / "inputrc")}
        (root / "inputrc").write_text("set enable-bracketed-paste off\n")
        history = root / "history"
        history.write_text("".join(f": {1700000000 + i}:0;{c}\n" for i, c in enumerate(HISTORY)))
        _aprender(env, "train", "--history", str(history))
        _aprender(env, "server", "start")
        try:
            variants: list[tuple[str, str, dict[str, str]]] = [("bash", "bash", {})]
            if shutil.which("fish"):
                if shutil.which("socat"):
                    variants.append(("fish, socat", "fish", {}))
                variants.append(("fish, relay", "fish", {"APRENDER_SHELL_NO_SOCAT": "1"}))
            out(f"fill key, {presses} presses each: key to filled line; memory kept per shell")
            for label, shell, extra in variants:
                if not shutil.which(shell):
                    out(f"  {label:12s} not installed")
                    continue
                times, kept = measure(shell, {**env, **extra}, home, presses)
                times.sort()
                p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
                out(f"  {label:12s} p50 {statistics.median(times):6.1f} ms   p90 {p90:6.1f} ms"
                    f"   beside the shell: {kept / 1024:.1f} MB")
        finally:
            _aprender(env, "server", "stop")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="10 presses")
    args = parser.parse_args(argv)
    run(10 if args.quick else args.presses)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Per-keystroke suggestion time inside a real shell: aprender-shell against zsh-autosuggestions.

All work from the same synthetic history (100,000 commands by default), in one run:

- ``aprender-shell (own widgets)``: the zsh integration's own functions build the line-form
  request, send it on the shell's socket to the resident server, read the answer and take out
  the text: what happens between a key and the ``zle -F`` handler painting the ghost text.
- ``zsh-autosuggestions + aprender``: zsh-autosuggestions (the Debian package's
  ``zsh-autosuggestions.zsh``) with our strategy first, ``ZSH_AUTOSUGGEST_STRATEGY=(aprender
  history)``, timed around its ``_zsh_autosuggest_fetch_suggestion``; its ``history`` strategy
  answers when ours has nothing.
- ``zsh-autosuggestions (history)``: zsh-autosuggestions alone, searching the shell's history as
  loaded with ``fc -R``.

Each keystroke is timed inside the shell with ``$EPOCHREALTIME``, from having the typed prefix
to having the text to show. The keystrokes are the prefixes of commands typed after the
history, one character at a time. Each contender is one ``Contender`` (a label, the shell that
runs it and its script), so another shell adds a row by adding one.

Then shell start-up: ``zsh -i -c exit`` and ``bash -i -c exit`` without the integration, with
the block ``aprender-shell install`` writes, with a plain ``eval "$(aprender-shell init ...)"``,
and (zsh) with zsh-autosuggestions; the median of interleaved runs.

``python -m benchmarks.shell [--commands N] [--keystrokes N] [--starts N] [--quick]``

``--against DIR [--rounds N]`` times zsh's keystrokes only, beside another checkout (its own
``.venv``), in alternating rounds: against.py.
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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from aprender_shell.integration import integration_for
from benchmarks import fill_key

if TYPE_CHECKING:
    from benchmarks.sessions import SessionCommand

ZSH_AUTOSUGGESTIONS = Path("/usr/share/zsh-autosuggestions/zsh-autosuggestions.zsh")

# Shared by the zsh measurements: read the keystrokes (prefix NUL previous-command NUL ...).
_READ_KEYS = r"""
zmodload zsh/datetime
typeset -a prefixes prevs times answered
while IFS= read -r -d '' p && IFS= read -r -d '' q; do
  prefixes+=("$p"); prevs+=("$q")
done < "$BENCH_KEYS"
"""

_WRITE_TIMES = r"""
print -rl -- $times > "$BENCH_OUT.tmp"
print -r -- ${#answered} >> "$BENCH_OUT.tmp"
mv "$BENCH_OUT.tmp" "$BENCH_OUT"
"""

OWN_WIDGETS_ZSH = _READ_KEYS + r"""
source "$BENCH_INIT"
_aprender_connect 2>/dev/null || { print "cannot connect" >&2; exit 1 }
# Take the socket out of zle's hands: this loop reads every answer itself.
zle -F $_aprender_fd 2>/dev/null
local i line t0 t1
for (( i = 1; i <= ${#prefixes}; i++ )); do
  _aprender_prev=("${prevs[i]}")
  t0=$EPOCHREALTIME
  BUFFER=${prefixes[i]}
  _aprender_request
  IFS= read -r -u $_aprender_fd line
  REPLY=''
  _aprender_answer_text "$line" $_aprender_id
  t1=$EPOCHREALTIME
  times+=$(( (t1 - t0) * 1e6 ))
  [[ -n $REPLY ]] && answered+=($i)
done
""" + _WRITE_TIMES

_AUTOSUGGEST_LOOP = r"""
local i suggestion t0 t1
for (( i = 1; i <= ${#prefixes}; i++ )); do
  _aprender_prev=("${prevs[i]}")
  t0=$EPOCHREALTIME
  suggestion=''
  _zsh_autosuggest_fetch_suggestion "${prefixes[i]}"
  t1=$EPOCHREALTIME
  times+=$(( (t1 - t0) * 1e6 ))
  [[ -n $suggestion ]] && answered+=($i)
done
""" + _WRITE_TIMES

AUTOSUGGEST_ZSH = _READ_KEYS + r"""
HISTSIZE=1000000
fc -R "$BENCH_HISTORY"
source "$BENCH_AUTOSUGGEST"
ZSH_AUTOSUGGEST_STRATEGY=(history)
""" + _AUTOSUGGEST_LOOP

STRATEGY_ZSH = _READ_KEYS + r"""
HISTSIZE=1000000
fc -R "$BENCH_HISTORY"
source "$BENCH_AUTOSUGGEST"
source "$BENCH_INIT"
[[ $ZSH_AUTOSUGGEST_STRATEGY == "aprender history" ]] || { print "not a strategy" >&2; exit 1 }
_aprender_connect 2>/dev/null || { print "cannot connect" >&2; exit 1 }
""" + _AUTOSUGGEST_LOOP


@dataclass(frozen=True)
class Contender:
    """One row of the keystroke table: a script run by an interactive shell on a terminal."""

    label: str
    shell: str
    script: str
    needs: tuple[Path, ...] = ()  # files it sources; without them the row is left out

    def argv(self, executable: str) -> list[str]:
        # No rc files, so the machine's own set-up cannot change what is measured.
        return [executable, "-f", "-i"] if self.shell == "zsh" else [executable, "-i"]


CONTENDERS = (
    Contender("aprender-shell (own widgets)", "zsh", OWN_WIDGETS_ZSH),
    Contender("zsh-autosuggestions + aprender", "zsh", STRATEGY_ZSH, (ZSH_AUTOSUGGESTIONS,)),
    Contender("zsh-autosuggestions (history)", "zsh", AUTOSUGGEST_ZSH, (ZSH_AUTOSUGGESTIONS,)),
)


def percentile(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    position = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[position]


def keystrokes(commands: Sequence[str], count: int) -> list[tuple[str, str]]:
    """(prefix, previous command) for every character typed of each command, up to ``count``."""
    keys: list[tuple[str, str]] = []
    for previous, command in zip(commands, commands[1:]):
        for end in range(1, len(command) + 1):
            keys.append((command[:end], previous))
            if len(keys) == count:
                return keys
    return keys


def _write_keys(path: Path, keys: Sequence[tuple[str, str]]) -> None:
    path.write_bytes(b"".join(f"{p}\0{q}\0".encode() for p, q in keys))


def workload(
    commands: int, count: int, folder: Path
) -> tuple[list[SessionCommand], list[tuple[str, str]]]:
    """The generated session (``commands`` of history, then what is typed) and up to ``count``
    keystrokes typed after the history, written to ``folder``'s ``history`` and ``keys``."""
    from benchmarks.sessions import generate_sessions, write_zsh_history

    session = generate_sessions(commands + 2_000, seed=0)
    history, later = session[:commands], [item.command for item in session[commands:]]
    typed = [command for command in later if "\n" not in command and "\0" not in command]
    keys = keystrokes([history[-1].command, *typed], count)
    write_zsh_history(folder / "history", history)
    _write_keys(folder / "keys", keys)
    return session, keys


def run_in_terminal(
    argv: list[str], script: Path, env: dict[str, str], out: Path, cwd: Path | None = None
) -> tuple[list[float], int]:
    """Source ``script`` in an interactive shell on a pseudo-terminal (so its history works).

    Returns the microseconds per keystroke and how many keystrokes got a suggestion.
    """
    master, slave = os.openpty()
    process = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
        start_new_session=True,
    )
    os.close(slave)
    try:
        os.write(master, f"source {script}; exit\n".encode())
        while True:
            try:
                if not os.read(master, 65536):
                    break
            except OSError:  # EIO: the shell has exited and closed the terminal
                break
        process.wait(timeout=3600)
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
    if not out.exists():
        raise RuntimeError(f"the benchmark script {script.name} did not finish")
    lines = out.read_text().split()
    return [float(value) for value in lines[:-1]], int(lines[-1])


def _start_server(model: Path, env: dict[str, str], socket: Path) -> subprocess.Popen[bytes]:
    from aprender_shell.service.instance import accepts

    server = subprocess.Popen(
        [sys.executable, "-m", "aprender_shell", "server", "run", "--model", str(model)],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not accepts(socket):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError("the benchmark server did not start")
        time.sleep(0.02)
    return server


def keystroke_latency(
    commands: int, count: int, folder: Path, out: Callable[[str], None]
) -> dict[str, tuple[list[float], int]]:
    """Train on ``commands`` synthetic commands and time ``count`` keystrokes per contender."""
    from aprender_shell.history.formats import HistoryEntry
    from aprender_shell.model.training.train import train_model
    if shutil.which("zsh") is None:
        raise RuntimeError("zsh is not installed")
    session, keys = workload(commands, count, folder)
    history = session[:commands]
    model = folder / "model.apbundle"
    started = time.perf_counter()
    report = train_model([HistoryEntry(item.command, item.timestamp) for item in history], model)
    out(f"{len(history)} commands of history, model {report.model_bytes / 2**20:.1f} MB "
        f"trained in {time.perf_counter() - started:.1f} s; {len(keys)} keystrokes typed "
        f"over {len({q for _, q in keys})} commands")
    home = folder / "home"
    socket = home / "run" / "server.sock"
    (folder / "init.zsh").write_text(integration_for("zsh").script(socket=socket))
    env = {
        **os.environ, "APRENDER_SHELL_HOME": str(home), "TERM": "dumb",
        "BENCH_KEYS": str(folder / "keys"), "BENCH_INIT": str(folder / "init.zsh"),
        "BENCH_HISTORY": str(folder / "history"), "BENCH_AUTOSUGGEST": str(ZSH_AUTOSUGGESTIONS),
    }
    results: dict[str, tuple[list[float], int]] = {}
    server = _start_server(model, env, socket)
    try:
        for number, contender in enumerate(CONTENDERS):
            missing = [str(path) for path in contender.needs if not path.exists()]
            executable = shutil.which(contender.shell)
            if missing or executable is None:
                out(f"({contender.label}: {', '.join(missing) or contender.shell} not found)")
                continue
            script = folder / f"contender-{number}.{contender.shell}"
            script.write_text(contender.script)
            result = folder / f"times-{number}"
            results[contender.label] = run_in_terminal(
                contender.argv(executable), script, {**env, "BENCH_OUT": str(result)}, result,
            )
    finally:
        server.terminate()
        server.wait(timeout=120)
    return results


def startup_times(starts: int, folder: Path) -> dict[str, dict[str, float]]:
    """Median seconds of ``SHELL -i -c exit`` per shell and set-up, runs interleaved."""
    zsh_init = integration_for("zsh")
    bash_init = integration_for("bash")
    command = [sys.executable, "-m", "aprender_shell"]
    setups: dict[str, dict[str, str]] = {
        "without the integration": {"zsh": "", "bash": ""},
        "installed block (cached script)": {
            "zsh": zsh_init.init_line(command, cache=folder / "init.zsh"),
            "bash": bash_init.init_line(command, cache=folder / "init.bash"),
        },
        'eval "$(aprender-shell init ...)"': {
            "zsh": zsh_init.init_line(command),
            "bash": bash_init.init_line(command),
        },
    }
    if ZSH_AUTOSUGGESTIONS.exists():
        setups["zsh-autosuggestions"] = {"zsh": f"source {ZSH_AUTOSUGGESTIONS}"}
    (folder / "init.zsh").write_text(zsh_init.script())
    (folder / "init.bash").write_text(bash_init.script())
    runs: dict[tuple[str, str], list[str]] = {}
    for name, lines in setups.items():
        for shell, line in lines.items():
            if shutil.which(shell) is None:
                continue
            rc = folder / f"rc-{shell}-{len(runs)}"
            rc.mkdir()
            if shell == "zsh":
                (rc / ".zshrc").write_text(f"PS1='> '\n{line}\n")
                runs[(name, shell)] = ["zsh", "-d", "-i", "-c", "exit"]
            else:
                (rc / ".bashrc").write_text(f"PS1='> '\n{line}\n")
                runs[(name, shell)] = ["bash", "--noprofile", "--rcfile", str(rc / ".bashrc"),
                                       "-i", "-c", "exit"]
            runs[(name, shell)].append(str(rc))
    samples: dict[tuple[str, str], list[float]] = {key: [] for key in runs}
    for _ in range(starts):
        for key, argv in runs.items():
            *shell_argv, rc_folder = argv
            env = {**os.environ, "ZDOTDIR": rc_folder, "HOME": rc_folder,
                   "APRENDER_SHELL_HOME": str(folder)}
            started = time.perf_counter()
            subprocess.run(shell_argv, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            samples[key].append(time.perf_counter() - started)
    table: dict[str, dict[str, float]] = {}
    for (name, shell), values in samples.items():
        table.setdefault(name, {})[shell] = statistics.median(values)
    return table


def run(
    commands: int, count: int, starts: int, out: Callable[[str], None] = print, presses: int = 30
) -> None:
    """zsh per keystroke beside zsh-autosuggestions, start-up, then bash's and fish's fill key.

    bash and fish cannot draw text while you type, so their figure is the key that fills the
    line: measured in the same run (``fill_key``), ``presses`` times each.
    """
    zsh_version = subprocess.run(["zsh", "--version"], capture_output=True, text=True).stdout
    out(f"aprender-shell in zsh against zsh-autosuggestions ({zsh_version.strip()})")
    with tempfile.TemporaryDirectory(prefix="aprender-shell-bench-") as name:
        folder = Path(name)
        results = keystroke_latency(commands, count, folder, out)
        out("")
        out(f"  {'per keystroke':<34}{'p50':>10}{'p90':>10}{'p99':>10}{'max':>10}"
            f"  suggested  p50 vs zsh-autosuggestions")
        reference = results.get("zsh-autosuggestions (history)")
        reference_p50 = percentile(reference[0], 0.5) if reference else None
        for label, (times, answered) in results.items():
            figures = [percentile(times, share) for share in (0.5, 0.9, 0.99)] + [max(times)]
            cells = "".join(f"{value / 1e3:>8.3f}ms" for value in figures)
            ratio = f"{figures[0] / reference_p50:>8.2f}x" if reference_p50 else ""
            out(f"  {label:<34}{cells}  {answered / len(times):>8.0%}  {ratio}")
        (folder / "startup").mkdir()
        startup = startup_times(starts, folder / "startup")
    out("")
    out(f"  {'start-up, median of ' + str(starts) + ' runs':<38}"
        f"{'zsh -i':>10}{'added':>10}{'bash -i':>10}{'added':>10}")
    base = startup.get("without the integration", {})
    for name, medians in startup.items():
        cells = ""
        for shell in ("zsh", "bash"):
            if shell not in medians:
                cells += f"{'-':>10}{'':>10}"
                continue
            added = medians[shell] - base.get(shell, medians[shell])
            cells += f"{medians[shell] * 1e3:>8.1f}ms{added * 1e3:>+8.1f}ms"
        out(f"  {name:<38}{cells}")
    out("")
    fill_key.run(presses, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--commands", type=int, default=100_000, help="history size (100000)")
    parser.add_argument("--keystrokes", type=int, default=3_000, help="keystrokes timed (3000)")
    parser.add_argument("--starts", type=int, default=30, help="shell starts per set-up (30)")
    parser.add_argument("--quick", action="store_true", help="5000 commands, 300 keystrokes")
    parser.add_argument("--against", type=Path, metavar="DIR",
                        help="time zsh's keystrokes beside the checkout DIR (its own .venv), "
                             "alternating rounds, instead of the whole benchmark")
    parser.add_argument("--rounds", type=int, default=20,
                        help="alternated rounds with --against (20), each of --keystrokes")
    parser.add_argument("--folder", choices=("project", "empty"), default="project",
                        help="with --against: the shells' folder holds the paths the history "
                             "names (project) or nothing (empty)")
    args = parser.parse_args(argv)
    if args.quick:
        args.commands, args.keystrokes, args.starts = 5_000, 300, 5
    if args.against is not None:
        from benchmarks.shell.against import run as run_against

        if args.rounds < 1:
            parser.error("--rounds must be at least 1")
        with tempfile.TemporaryDirectory(prefix="aprender-shell-against-") as name:
            run_against(args.against.resolve(), args.commands, args.keystrokes,
                        args.rounds, Path(name), working=args.folder)
        return 0
    run(args.commands, args.keystrokes, args.starts, presses=10 if args.quick else 30)
    return 0

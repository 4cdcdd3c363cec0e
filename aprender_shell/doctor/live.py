"""The checks of what runs: the server, the integration in this shell, and the rc file."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

from aprender_shell.doctor import Finding
from aprender_shell.errors import AprenderError

# Set by the shell integration when it loads (shell/aprender.*): "SHELL:MODE:PID".
INTEGRATION_ENV = "APRENDER_SHELL_INTEGRATION"
MODES = {
    "own": "on its own (grey suggestions drawn by aprender-shell)",
    "autosuggest": "as zsh-autosuggestions' 'aprender' strategy",
    "fill-key": "with its fill key",
}
# How long a busy server may take to answer, and one being started to begin answering.
ANSWER_WAIT = 3.0
START_WAIT = 5.0
STOP = "'aprender-shell server stop' (your shells start a new one when they need it)"


def check_server(model_path: Path) -> list[Finding]:
    """The server, when one runs, answers and serves this model in its current generation."""
    from aprender_shell.doctor.local import model_index
    from aprender_shell.service.client import answering_server, same_file
    from aprender_shell.service.control import checked_runtime_dir, held_lock_pid

    try:
        checked_runtime_dir()
        answered = answering_server(timeout=ANSWER_WAIT)
        hung = held_lock_pid() if answered is None else None
        deadline = time.monotonic() + START_WAIT
        while answered is None and hung is not None and time.monotonic() < deadline:
            # A server a shell is starting holds its lock before its socket answers.
            time.sleep(0.1)
            answered = answering_server(timeout=ANSWER_WAIT)
            hung = held_lock_pid() if answered is None else None
    except AprenderError as error:
        return [Finding("server", False, f"not asked: {error}")]
    if answered is None:
        if hung is not None:
            return [Finding("server", False, f"pid {hung} runs but does not answer", STOP)]
        return [Finding("server", True, "not running now: your shells start it when they need "
                        "it ('aprender-shell server start' starts it now)")]
    status, peer = answered
    pid = peer if peer is not None else status.get("pid")
    served = status.get("model_path")
    if not same_file(served, model_path):
        return [Finding("server", False, f"pid {pid} serves {served}, not {model_path}",
                        f"stop it with {STOP}, or pass that model with --model")]
    problem = status.get("model_error")
    if problem:
        return [Finding("server", False, f"pid {pid} cannot use {served}: {problem}",
                        f"retrain the model, then {STOP}")]
    stats = status.get("stats")
    generation = stats.get("generation") if isinstance(stats, dict) else None
    try:
        current = model_index(model_path).generation
    except AprenderError:
        current = None  # the model check says what is wrong with it
    if not isinstance(generation, str) or not generation:
        return [Finding("server", False, f"pid {pid} is an older server that does not say "
                        "which model generation it serves", f"restart it: {STOP}")]
    if current is not None and generation != current:
        return [Finding("server", False, f"pid {pid} serves generation {generation[:12]} of "
                        f"{served}, but the file now holds {current[:12]}", f"restart it: {STOP}")]
    save_error = status.get("save_error")
    if save_error:
        unsaved = status.get("unsaved_records") or 0
        return [Finding("server", False, f"pid {pid} could not save what it learned "
                        f"({unsaved} recorded commands unsaved): {save_error}",
                        "free space on the data folder's disk, or fix its permissions")]
    requests = status.get("requests") or 0
    return [Finding("server", True, f"pid {pid} answers, serving {served} (generation "
                    f"{generation[:12]}), {requests} requests since it started")]


def loaded_integration(environ: Mapping[str, str], parent_pid: int) -> tuple[str, str] | None:
    """The shell and mode of the integration loaded in the shell ``parent_pid``, from the
    variable it exports when it loads; None when that shell has not loaded it (a variable
    inherited from another shell names that shell's pid, not this one's)."""
    parts = environ.get(INTEGRATION_ENV, "").split(":")
    if len(parts) != 3 or parts[2] != str(parent_pid):
        return None
    return parts[0], parts[1]


def _parent_shell(parent_pid: int, environ: Mapping[str, str]) -> str | None:
    from aprender_shell.integration.shells import SHELLS

    try:
        with open(f"/proc/{parent_pid}/comm", encoding="utf-8", errors="replace") as handle:
            name = handle.read().strip().lstrip("-")
    except OSError:
        name = ""
    if name in SHELLS:
        return name
    login = os.path.basename(environ.get("SHELL", ""))
    return login if login in SHELLS else None


def check_integration(environ: Mapping[str, str], parent_pid: int) -> list[Finding]:
    """The integration is loaded in the shell this runs from, and in which mode."""
    loaded = loaded_integration(environ, parent_pid)
    if loaded is None:
        shell = _parent_shell(parent_pid, environ) or "zsh"
        inherited = environ.get(INTEGRATION_ENV, "").rsplit(":", 1)[-1]
        other = f" (it is in shell pid {inherited}, not here)" if inherited else ""
        load = (f'eval "$(aprender-shell init {shell})"' if shell != "fish"
                else "aprender-shell init fish | source")
        return [Finding("integration", False,
                        f"not loaded in this shell (pid {parent_pid}){other}",
                        f"open a new shell after 'aprender-shell install', or run {load}")]
    shell, mode = loaded
    how = MODES.get(mode, mode)
    if "APRENDER_SHELL_DISABLE" in environ:
        return [Finding("integration", False,
                        f"loaded in this {shell} (pid {parent_pid}) {how}, but "
                        "APRENDER_SHELL_DISABLE is set: it neither suggests nor learns",
                        "unset APRENDER_SHELL_DISABLE")]
    return [Finding("integration", True, f"loaded in this {shell} (pid {parent_pid}) {how}")]


def check_installed(environ: Mapping[str, str], parent_pid: int | None = None) -> list[Finding]:
    """The rc file of this shell (fish: its conf.d snippet) loads the integration."""
    from aprender_shell.integration.rcfile import read_rc
    from aprender_shell.integration.shells import integration_for

    pid = os.getppid() if parent_pid is None else parent_pid
    loaded = loaded_integration(environ, pid)
    shell = loaded[0] if loaded else _parent_shell(pid, environ)
    if shell is None:
        return [Finding("rc file", False, "cannot tell which shell this is",
                        "run 'aprender-shell doctor' from zsh, bash or fish")]
    integration = integration_for(shell)
    home = Path(environ.get("HOME") or Path.home())
    rc = integration.rc_file(home)
    try:
        installed = integration.plan_uninstall(home).changes
        text = read_rc(rc) or ""
    except AprenderError as error:
        return [Finding("rc file", False, str(error), "fix or move that file")]
    if installed:
        return [Finding("rc file", True, f"{rc} loads aprender-shell (installed)")]
    if "aprender-shell init" in text:
        return [Finding("rc file", True, f"{rc} loads aprender-shell with a line of your own")]
    return [Finding("rc file", False, f"{rc} does not load aprender-shell: new {shell} shells "
                    "will not suggest", f"run 'aprender-shell install --shell {shell}' (it shows "
                    "the change before making it)")]

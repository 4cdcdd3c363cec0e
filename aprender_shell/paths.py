"""Where aprender-shell keeps its files.

Defaults come from platformdirs; ``APRENDER_SHELL_HOME`` moves everything (model, journal,
server socket, the ``history_filter`` setting) under one folder, which is how tests stay away
from the real home.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HOME_ENV = "APRENDER_SHELL_HOME"
APP_NAME = "aprender-shell"
MODEL_FILENAME = "model.apbundle"
HISTORY_FILTER_FILENAME = "history_filter"


def data_dir() -> Path:
    """The folder holding the model and what it learned since training."""
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser()
    if sys.platform == "linux":
        # platformdirs' XDG rule, spelled out: importing platformdirs costs every cold
        # 'suggest' a few milliseconds. tests/test_paths.py holds the two to the same answer.
        xdg = os.environ.get("XDG_DATA_HOME", "").strip()
        return Path(xdg or os.path.expanduser("~/.local/share")) / APP_NAME
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def default_model_path() -> Path:
    """The model file used when ``--model`` is not given."""
    return data_dir() / MODEL_FILENAME


def config_dir() -> Path:
    """The folder holding what the user sets (the ``history_filter`` file)."""
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser()
    if sys.platform == "linux":
        # platformdirs' XDG rule, spelled out for the same reason as in data_dir.
        xdg = os.environ.get("XDG_CONFIG_HOME", "").strip()
        return Path(xdg or os.path.expanduser("~/.config")) / APP_NAME
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False)


def history_filter_path() -> Path:
    """The file of regular expressions, one a line, matching commands never to learn."""
    return config_dir() / HISTORY_FILTER_FILENAME


def runtime_dir() -> Path:
    """The private folder for the server's socket and pid file (created 0700 by the server)."""
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser() / "run"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return Path(runtime) / APP_NAME
    return data_dir() / "run"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by the user alone; tighten it if it exists."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if (path.stat().st_mode & 0o777) != 0o700:
        os.chmod(path, 0o700)
    return path

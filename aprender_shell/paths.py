"""Where aprender-shell keeps its files.

Defaults come from platformdirs; ``APRENDER_SHELL_HOME`` moves everything (model, journal,
server socket, the ``history_filter`` setting) under one folder, which is how tests stay away
from the real home.
"""

from __future__ import annotations

import errno
import os
import stat
import sys

from aprender_shell.errors import AprenderError

TYPE_CHECKING = False  # typing imports re: see model/tuples.py

if TYPE_CHECKING:
    from pathlib import Path

HOME_ENV = "APRENDER_SHELL_HOME"
APP_NAME = "aprender-shell"
MODEL_FILENAME = "model.apbundle"
HISTORY_FILTER_FILENAME = "history_filter"


def _path(text: str) -> Path:
    # pathlib imports re (together about a fifth of Python's start-up): the cold query path
    # asks data_folder and model_file, which answer plain strings.
    from pathlib import Path

    return Path(text)


def data_dir() -> Path:
    """The folder holding the model and what it learned since training."""
    return _path(data_folder())


def data_folder() -> str:
    """``data_dir`` as a plain string (the cold query path's)."""
    override = os.environ.get(HOME_ENV)
    if override:
        return os.path.expanduser(override)
    if sys.platform == "linux":
        # platformdirs' XDG rule, spelled out: importing platformdirs costs every cold
        # 'suggest' a few milliseconds. tests/test_paths.py holds the two to the same answer.
        xdg = os.environ.get("XDG_DATA_HOME", "").strip()
        return os.path.join(xdg or os.path.expanduser("~/.local/share"), APP_NAME)
    from platformdirs import user_data_path

    return str(user_data_path(APP_NAME, appauthor=False))


def default_model_path() -> Path:
    """The model file used when ``--model`` is not given."""
    return _path(model_file())


def model_file() -> str:
    """``default_model_path`` as a plain string (the cold query path's)."""
    return os.path.join(data_folder(), MODEL_FILENAME)


def config_dir() -> Path:
    """The folder holding what the user sets (the ``history_filter`` file)."""
    from pathlib import Path

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
    from pathlib import Path

    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser() / "run"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return Path(runtime) / APP_NAME
    return data_dir() / "run"


# The files of the runtime folder, by what they are for. Only this module names them: the
# server, its clients, the launcher, 'uninstall' and (through 'init') the shell scripts ask here.
SOCKET_NAME = "server.sock"
PID_NAME = "server.pid"
LOCK_NAME = "server.lock"  # held by a running server for its whole life
LOG_NAME = "server.log"
# When a one-shot relay (fish) last started a server: they keep no memory between runs.
RELAY_STAMP_NAME = "relay-start.stamp"
RUNTIME_NAMES = (SOCKET_NAME, PID_NAME, LOCK_NAME, LOG_NAME, RELAY_STAMP_NAME)


def socket_path() -> Path:
    """The Unix socket the resident server listens on."""
    return runtime_dir() / SOCKET_NAME


def pid_path() -> Path:
    """The file holding the running server's pid."""
    return runtime_dir() / PID_NAME


def lock_path() -> Path:
    """The file a running server holds an ``flock`` on (two starts give one server)."""
    return runtime_dir() / LOCK_NAME


def log_path() -> Path:
    """Where a server started in the background writes what it logs."""
    return runtime_dir() / LOG_NAME


def relay_stamp_path() -> Path:
    """The stamp one-shot relays leave when they start a server, so the next waits."""
    return runtime_dir() / RELAY_STAMP_NAME


def runtime_files() -> list[Path]:
    """Every file the server and the relays may leave in the runtime folder."""
    folder = runtime_dir()
    return [folder / name for name in RUNTIME_NAMES]


class UnsafeFolderError(AprenderError):
    """A folder we would keep private files in can be controlled by another account."""


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) mode 0700, or check and tighten the existing one.

    Refuses, with ``UnsafeFolderError`` saying why and what to do, a folder that is a symbolic
    link, is not a folder, or belongs to another user, and one inside a folder another user
    owns or every user may write to (without the sticky bit, as /tmp has): whoever controls a
    folder controls what we would read, run or serve from it. An unsafe folder is never changed.
    """
    path = _path(os.path.abspath(path))
    check_ancestors(path)
    try:  # noqa: SIM105 (contextlib stays off the cold path)
        path.mkdir(parents=True, mode=0o700)
    except FileExistsError:
        pass
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        # Opened without following a link, then checked and tightened through the descriptor,
        # so a link swapped in after the check still cannot redirect the chmod.
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise _unusable(path, error) from None
    try:
        info = os.fstat(fd)
        if info.st_uid != os.geteuid():
            raise UnsafeFolderError(f"{_belongs(path, info.st_uid)}: {_ADVICE}")
        if stat.S_IMODE(info.st_mode) != 0o700:
            os.fchmod(fd, 0o700)
    finally:
        os.close(fd)
    return path


def check_private_dir(path: str | os.PathLike[str]) -> None:
    """What ``ensure_private_dir`` checks, changing nothing: ``UnsafeFolderError`` when ``path``
    (if it exists) or a folder above it could be controlled by another account."""
    path = os.path.abspath(path)
    check_ancestors(path)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as error:
        raise _unusable(path, error) from None
    if stat.S_ISLNK(info.st_mode):
        raise _unusable(path, OSError(errno.ELOOP, "symbolic link"))
    if not stat.S_ISDIR(info.st_mode):
        raise _unusable(path, OSError(errno.ENOTDIR, "not a folder"))
    if info.st_uid != os.geteuid():
        raise UnsafeFolderError(f"{_belongs(path, info.st_uid)}: {_ADVICE}")


def check_ancestors(path: str | os.PathLike[str]) -> None:
    """Raise ``UnsafeFolderError`` when a folder above ``path`` lets another user replace it:
    one owned by someone but us or root, or writable by every user without the sticky bit."""
    me = os.geteuid()
    for folder in _ancestors(os.fspath(path)):
        try:
            info = os.stat(folder)
        except FileNotFoundError:
            return  # the rest will be created by us
        except OSError as error:
            raise _unusable(folder, error) from None
        if info.st_uid not in (me, 0):
            raise UnsafeFolderError(f"{_belongs(folder, info.st_uid)}: {_ADVICE}")
        if info.st_mode & stat.S_IWOTH and not info.st_mode & stat.S_ISVTX:
            raise UnsafeFolderError(
                f"{folder} is writable by every user, so another account could replace "
                f"{path}: {_ADVICE}"
            )


def _ancestors(path: str) -> list[str]:
    # What reversed(Path(path).parents) lists, outermost first, in strings.
    found: list[str] = []
    folder = os.path.normpath(path)
    while True:
        above = os.path.dirname(folder) or "."
        if above == folder:
            return found[::-1]
        found.append(above)
        folder = above


_ADVICE = f"refusing to use it; set {HOME_ENV} to a folder of your own"


def _belongs(path: str | os.PathLike[str], uid: int) -> str:
    try:
        import pwd

        who = f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        who = f"uid {uid}"
    return f"{path} belongs to {who}, not to you"


def _unusable(path: str | os.PathLike[str], error: OSError) -> UnsafeFolderError:
    # O_NOFOLLOW|O_DIRECTORY on a link answers ELOOP or ENOTDIR depending on the system.
    if error.errno == errno.ELOOP or os.path.islink(path):
        target = os.readlink(path) if os.path.islink(path) else "?"
        return UnsafeFolderError(
            f"{path} is a symbolic link (to {target}), not a folder: remove the link and "
            f"aprender-shell makes its own private folder, or set {HOME_ENV}"
        )
    if error.errno == errno.ENOTDIR:
        return UnsafeFolderError(f"{path} is not a folder: move it away, or set {HOME_ENV}")
    return UnsafeFolderError(f"cannot use folder {path}: {error.strerror or error}")


# In the data folder: the folders 'train' or 'install' made for it, innermost first, so that
# 'uninstall' takes away exactly those (when empty) and no folder the user had before.
MADE_FOLDERS_FILE = ".made-folders"


def make_private_folders(folder: Path, record: bool = False) -> list[Path]:
    """Create ``folder`` and its missing parents, each mode 0700 (existing ones are left as
    they are); with ``record``, note the ones made in the data folder so that 'uninstall'
    can take them away again. Returns them, innermost first."""
    from aprender_shell.fileio import atomic_write_bytes

    folder = _path(os.path.abspath(folder))
    missing = [path for path in [folder, *folder.parents] if not path.exists()]
    for path in reversed(missing):
        path.mkdir(mode=0o700)
        os.chmod(path, 0o700)  # whatever the umask
    if record and missing:
        notes = data_dir() / MADE_FOLDERS_FILE
        text = "".join(f"{path}\n" for path in missing)
        atomic_write_bytes(notes, text.encode("utf-8", "surrogateescape"))
    return missing


def made_folders() -> list[Path]:
    """The folders 'train' or 'install' noted they made for the data folder, innermost first."""
    try:
        text = (data_dir() / MADE_FOLDERS_FILE).read_bytes().decode("utf-8", "surrogateescape")
    except OSError:
        return []
    return [_path(line) for line in text.splitlines() if line.startswith("/")]

"""The checks of files on this machine: folders, model, journal, history_filter, disk space."""

from __future__ import annotations

import os
import shutil
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING

from aprender_shell.doctor import Finding
from aprender_shell.errors import AprenderError, UsageError
from aprender_shell.terminal import human_bytes

if TYPE_CHECKING:
    from aprender_shell.model.store.index import ModelIndex

# Below this much free space on the data folder's disk, training and the journal may fail.
MIN_FREE_BYTES = 64 * 1024 * 1024
# Reading a model entry by entry: a cache this size holds any one entry a model can have.
_CHECK_LIMIT = 1 << 30
TRAIN = "aprender-shell train"


def _train_command(model_path: Path) -> str:
    from aprender_shell.paths import default_model_path

    same = Path(os.path.abspath(model_path)) == Path(os.path.abspath(default_model_path()))
    return f"'{TRAIN}'" if same else f"'{TRAIN} --model {model_path}'"


def model_index(model_path: Path) -> ModelIndex:
    """The index of the model at ``model_path``, read with the checks every query makes."""
    from aprender_shell.model.store.tables import open_model_bundle, read_index

    with open_model_bundle(model_path, _CHECK_LIMIT) as bundle:
        return read_index(bundle, model_path)


def _refused(folder: Path, check: str) -> list[Finding]:
    """A finding saying ``check`` was not made, when ``folder`` could be another account's
    (nothing in such a folder is read, as no other command reads it); else none."""
    from aprender_shell.paths import check_private_dir

    try:
        check_private_dir(folder)
    except AprenderError as error:
        return [Finding(check, False, f"not read: {error}")]
    return []


def check_folders() -> list[Finding]:
    """The data, config and runtime folders: each the user's own, or not made yet."""
    from aprender_shell.paths import check_private_dir, config_dir, data_dir, runtime_dir

    findings = []
    for what, folder in (("data folder", data_dir()), ("config folder", config_dir()),
                         ("runtime folder", runtime_dir())):
        try:
            check_private_dir(folder)
        except AprenderError as error:
            findings.append(Finding(what, False, str(error)))
            continue
        made = "yours" if os.path.isdir(folder) else "not made yet (made private when needed)"
        findings.append(Finding(what, True, f"{folder}: {made}"))
    return findings


def check_model(model_path: Path) -> list[Finding]:
    """The model is there, readable, and every entry of it matches its checksum."""
    from aprender_shell.model.store.tables import open_model_bundle, read_index

    refused = _refused(Path(os.path.abspath(model_path)).parent, "model")
    if refused:
        return refused
    if not os.path.lexists(model_path):
        return [Finding("model", False, f"no model at {model_path}",
                        f"run {_train_command(model_path)}: it learns from your shell history "
                        "(or, with none, from the packaged sample)")]
    try:
        with open_model_bundle(model_path, _CHECK_LIMIT) as bundle:
            index = read_index(bundle, model_path)
            for name in bundle.model_names():
                bundle.get_model(name)  # checks the entry's checksum
                bundle.evict(name)
            size = os.stat(model_path).st_size
    except (AprenderError, OSError) as error:
        why = error.strerror if isinstance(error, OSError) and error.strerror else error
        return [Finding("model", False, f"{model_path} is unreadable or damaged: {why}",
                        f"retrain it with {_train_command(model_path)}")]
    if index.source == "sample":
        source = ("trained on the packaged sample history, not yours: your commands replace "
                  f"it as you run them ({_train_command(model_path)} once you have a history)")
    else:
        source = "trained on your history"
    return [Finding("model", True, f"{model_path} ({human_bytes(size)}, "
                    f"{index.total_commands} commands, every entry intact), {source}")]


def check_journal(model_path: Path) -> list[Finding]:
    """The journal of what the shells recorded since training: readable, private, its size
    and how many records wait to be folded into the model."""
    from aprender_shell.model.learned.journal import Journal, journal_path

    path = journal_path(model_path)
    refused = _refused(Path(os.path.abspath(path)).parent, "journal")
    if refused:
        return refused
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return [Finding("journal", True, f"{path}: none yet (nothing recorded since training)")]
    except OSError as error:
        return [Finding("journal", False, f"cannot read {path}: {error.strerror or error}",
                        "check the data folder's owner and mode")]
    if not stat.S_ISREG(info.st_mode):
        return [Finding("journal", False, f"{path} is not a regular file",
                        "move it away: the server starts a new journal")]
    if info.st_uid != os.geteuid():
        return [Finding("journal", False, f"{path} belongs to uid {info.st_uid}, not to you",
                        "move it away: the server starts a new journal")]
    if info.st_mode & 0o077:
        return [Finding("journal", False,
                        f"{path} has mode {stat.S_IMODE(info.st_mode):04o}: other accounts may "
                        "read the commands you ran", f"chmod 600 {path}")]
    try:
        generation = model_index(model_path).generation
    except AprenderError:
        generation = ""  # the model check says what is wrong with it
    try:
        state = Journal(model_path, generation).read()
    except (AprenderError, OSError) as error:
        return [Finding("journal", False, f"{path}: {error}",
                        "move it away (what your shells recorded since training is then "
                        "learned again by 'aprender-shell update' from your history)")]
    count = len(state.records)
    plural = "" if count == 1 else "s"
    detail = (f"{path}: {human_bytes(info.st_size)}, {count} recorded command{plural} not yet "
              "folded into the model")
    if generation and state.generation not in (None, generation):
        detail += " (it belongs to an older model: the next record starts it afresh)"
    return [Finding("journal", True, detail)]


def check_history_filter() -> list[Finding]:
    """Every line of the ``history_filter`` file compiles in the project's pattern engine; a
    bad one is named with its file, line number and why."""
    from aprender_shell.history import privacy
    from aprender_shell.paths import history_filter_path

    path = history_filter_path()
    refused = _refused(path.parent, "history_filter")
    if refused:
        return refused
    try:
        result = privacy.read_filter(path)
    except UsageError as error:  # unreadable, or too large: nothing is learned until fixed
        problems: tuple[str, ...] = (str(error),)
    else:
        problems = result.problems  # one line each, naming the file and line and why
    if problems:
        return [Finding("history_filter", False, problem) for problem in problems]
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return [Finding("history_filter", True,
                        f"{path}: none (secrets and commands typed with a leading space are "
                        "still kept out)")]
    except OSError as error:
        return [Finding("history_filter", False, f"cannot read {path}: {error.strerror}",
                        "check its owner and mode")]
    count = sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))
    plural = "" if count == 1 else "s"
    return [Finding("history_filter", True, f"{path}: {count} expression{plural}, all valid")]


def check_disk_space(model_path: Path, need: int | None = None) -> list[Finding]:
    """Free space on the disk of the model's folder: at least ``need`` bytes (default: twice
    the model, since retraining writes the new one beside it, and at least 64 MB)."""
    folder = Path(os.path.abspath(model_path)).parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        model_bytes = os.stat(model_path).st_size
    except OSError:
        model_bytes = 0
    if need is None:
        need = max(MIN_FREE_BYTES, 2 * model_bytes)
    try:
        free = shutil.disk_usage(folder).free
    except OSError as error:
        return [Finding("disk space", False, f"cannot measure {folder}: {error.strerror}",
                        "check that the folder is reachable")]
    if free < need:
        return [Finding("disk space", False,
                        f"{folder}: {human_bytes(free)} free, under the {human_bytes(need)} "
                        "retraining and the journal need",
                        f"free at least {human_bytes(need - free)} on that disk, or set "
                        "APRENDER_SHELL_HOME to a folder on another")]
    return [Finding("disk space", True, f"{folder}: {human_bytes(free)} free")]


SYNC_STATUS = "'aprender-shell sync status'"


def check_sync() -> list[Finding]:
    """``doctor``'s sync line: joined or not, the last merge, what it refused."""
    from aprender_shell.sync.state import summary

    found = summary()
    if found is None:
        return [Finding("sync", True, "this device does not sync (optional: 'aprender-shell "
                                      "sync init FOLDER' sets it up)")]
    if found["folder"] is None:
        return [Finding("sync", False, str(found["error"]), "run 'aprender-shell sync leave' "
                                                           "and join again")]
    last = found["last_sync"]
    when = ("never merged yet" if last is None
            else "last merge " + time.strftime("%Y-%m-%d %H:%M", time.localtime(last)))
    detail = f"syncs with {found['folder']} ({found['devices']} other devices seen), {when}"
    if found["error"]:
        return [Finding("sync", False, f"{detail}; the last sync failed: {found['error']}",
                        f"see {SYNC_STATUS}, then 'aprender-shell sync now'")]
    refused = found["refused"]
    if refused:
        more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        return [Finding("sync", False, f"{detail}; refused {refused[0]}{more}",
                        f"see {SYNC_STATUS}")]
    return [Finding("sync", True, detail)]

"""What ``uninstall`` takes back, planned in full before anything changes.

The plan lists the rc-file edits, the files to delete (the saved scripts and, unless the model
is kept, the model, its journal and what interrupted writes left), the server's runtime files,
and the folders to remove when empty. A folder another account could control is neither read
nor changed, and no pid from it is signalled: its files are not ours, whatever they are named.
The command line shows the plan, then applies it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aprender_shell import paths
from aprender_shell.fileio import temporaries_of
from aprender_shell.integration.base import ShellIntegration
from aprender_shell.integration.rcfile import RcEdit

if TYPE_CHECKING:
    from aprender_shell.service.control import Stopped


@dataclass
class UninstallPlan:
    """Everything ``uninstall`` would do, in the order it does it."""

    edits: list[RcEdit]
    # Deleted first: the saved scripts (and the model) mark the integration as installed, so
    # open shells start nothing from the moment they are gone.
    markers: list[Path] = field(default_factory=list)
    # Deleted once the server has stopped (it would save into a fresh journal otherwise).
    files: list[Path] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)  # removed when empty, innermost first
    stop_server: bool = False  # the runtime folder is ours: its server is stopped
    refused: list[tuple[Path, str]] = field(default_factory=list)  # folders left alone, why
    # Our own notes, deleted with the rest but not worth listing.
    quiet_files: list[Path] = field(default_factory=list)

    @property
    def changes_rc_files(self) -> bool:
        return any(edit.changes for edit in self.edits)

    def present(self) -> list[Path]:
        """The files of the plan that exist now (what 'Deleting' lists)."""
        return [path for path in [*self.markers, *self.files] if path.exists()]

    def apply(self) -> Stopped | None:
        """Do it all; what stopping the server found, when it was asked to stop."""
        for edit in self.edits:
            if edit.changes:
                edit.apply()
        for path in self.markers:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        stopped = None
        if self.stop_server:
            from aprender_shell.service.control import stop_server

            stopped = stop_server()
        for path in [*self.files, *self.quiet_files]:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        for folder in self.folders:
            with contextlib.suppress(OSError):  # not empty (someone else's files), or gone
                folder.rmdir()
        return stopped


def plan_uninstall_all(
    shells: Sequence[ShellIntegration], keep_model: bool, home: Path
) -> UninstallPlan:
    """The plan taking back ``shells``' setup, and unless ``keep_model`` the model."""
    from aprender_shell.model.learned.feedback import feedback_path
    from aprender_shell.model.learned.journal import journal_path

    plan = UninstallPlan([shell.plan_uninstall(home) for shell in shells])
    runtime, data = paths.runtime_dir(), paths.data_dir()
    runtime_ours, data_ours = _ours(runtime, plan), _ours(data, plan)
    model, journal = paths.default_model_path(), journal_path(paths.default_model_path())
    forget_model = data_ours and not keep_model
    if data_ours:
        plan.markers += [shell.cache_path() for shell in shells]
    if forget_model:
        from aprender_shell.model.training.writer import lock_path

        plan.markers.append(model)
        plan.files += [journal, feedback_path(model), lock_path(model)]
    if runtime_ours:
        plan.files += paths.runtime_files()
        plan.folders.append(runtime)
        plan.stop_server = True
    if forget_model:
        # What interrupted writes of the model or the journal left beside them.
        plan.files += sorted(
            set(temporaries_of(model)) | set(temporaries_of(journal))
            | set(temporaries_of(feedback_path(model)))
        )
        # This device's sync key and state ('sync'): the shared folder itself is left alone.
        from aprender_shell.sync.state import SYNC_FILES, sync_dir

        plan.files += [sync_dir() / name for name in SYNC_FILES]
        plan.folders += [sync_dir(), data]
        # The folders train or install made for the data folder, innermost first; only those.
        plan.folders += [folder for folder in paths.made_folders() if folder not in plan.folders]
        plan.quiet_files.append(data / paths.MADE_FOLDERS_FILE)
    return plan


def _ours(folder: Path, plan: UninstallPlan) -> bool:
    try:
        paths.check_private_dir(folder)
    except paths.UnsafeFolderError as error:
        plan.refused.append((folder, str(error)))
        return False
    return True

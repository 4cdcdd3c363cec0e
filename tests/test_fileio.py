"""The shared file rules: temporary names every writer uses, and a file's identity."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from aprender_shell.fileio import (
    atomic_write_bytes,
    identity,
    remove_stale_temps,
    temp_path,
    temporaries_of,
    version,
)


def test_a_dead_writer_s_temporary_is_recognised_listed_and_removed(tmp_path: Path) -> None:
    target = tmp_path / "model.apbundle"
    # A writer that staged its file and died (its process is gone when this returns).
    done = subprocess.run(
        [sys.executable, "-c", "import sys\nfrom aprender_shell.fileio import temp_path\n"
         "path = temp_path(sys.argv[1], 'compact')\npath.write_bytes(b'x')\nprint(path)",
         str(target)], capture_output=True, text=True, check=True,
    )
    dead = Path(done.stdout.strip())
    alive = temp_path(target, "train")  # ours: we are alive
    alive.write_bytes(b"y")
    assert dead.parent == tmp_path and dead.name.startswith(".model.apbundle.")
    assert temporaries_of(target) == sorted([dead, alive])
    assert remove_stale_temps(tmp_path) == [dead]
    assert temporaries_of(target) == [alive]


def test_identity_names_the_file_and_version_its_contents(tmp_path: Path) -> None:
    path = tmp_path / "f"
    atomic_write_bytes(path, b"one")
    first, first_version = identity(path), version(path)
    assert identity(path) == first and version(path) == first_version  # nothing changed
    with open(path, "ab") as handle:  # the same file, other contents
        handle.write(b" more")
    assert version(path) != first_version and version(path)[:2] == first_version[:2]
    atomic_write_bytes(path, b"two")  # replaced: a new file under the same name
    assert identity(path) != first
    link = tmp_path / "link"
    link.symlink_to(path)
    assert identity(link) == identity(path) != identity(link, follow=False)
    # A file written in place is the same file; with its change time, it reads as changed.
    before, stamped = identity(path), identity(path, changed=True)
    with open(path, "ab") as handle:
        handle.write(b"!")
    assert identity(path) == before and identity(path, changed=True) != stamped
    assert identity(tmp_path / "none") is None and version(tmp_path / "none") is None

"""Two machines, one model, over real transports: a Syncthing pair on loopback and a bare git
repository. Each machine is a private HOME running the real command line; the transport alone
carries the folder's files between them.

What a user would notice: a command run on one machine is suggested on the other; a command
forgotten on one is forgotten on the other; and nothing in the synced folder (every byte, git's
objects unpacked) spells a command, a folder or a host that was synced.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from tests.integration.shells import Home, aprender
from tests.sync.transports.gitrepo import GitRemote, gitrepo_identity
from tests.sync.transports.syncthing import Pair

# Commands only one machine ran: unlikely anywhere else, long enough to search for.
LAPTOP_ONLY = "terraform apply -target=module.laptop_only_bucket"
DESKTOP_ONLY = "rsync -a /srv/desktop_only_photos/ backup:/photos"
COMMON = ["git status", "ls -la", "make test", "cd /srv/projects", "git pull"]


def history(only: str) -> list[str]:
    commands = []
    for number in range(8):
        commands += [COMMON[number % len(COMMON)], only, COMMON[(number + 2) % len(COMMON)]]
    return commands


def ok(home: Home, *args: str) -> str:
    done = aprender(*args, env=home.env)
    assert done.returncode == 0, f"aprender-shell {' '.join(args)}: {done.stderr}"
    return done.stdout


def suggestions(home: Home, prefix: str) -> list[str]:
    return [line.split("\t")[0] for line in ok(home, "suggest", "-k", "10", prefix).splitlines()]


@dataclass
class Transport:
    """A shared folder as each machine sees it, and how its files travel between them."""

    folders: tuple[Path, Path]
    deliver: Callable[[], None]  # after it, each folder holds what either machine wrote
    every_byte: Callable[[Path], bytes]  # all a reader of that folder could see


def folder_bytes(folder: Path, skip: str = "") -> bytes:
    """Every file's name and bytes under ``folder`` (but under its subfolder ``skip``)."""
    found = b""
    for path in sorted(folder.rglob("*")):
        if skip and path.relative_to(folder).parts[0] == skip:
            continue
        found += str(path.relative_to(folder)).encode() + b"\0"
        if path.is_file():
            found += path.read_bytes() + b"\0"
    return found


def git_bytes(folder: Path) -> bytes:
    """The clone's files plus every git object unpacked: what the clone pushes and pulls.

    The rest of ``.git`` is git's own (sample hooks that mention ``git status``, say)."""
    objects = subprocess.run(
        ["git", "-C", str(folder), "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True, check=True, timeout=60,
    ).stdout
    return folder_bytes(folder, skip=".git") + objects


# Two Syncthing processes start and connect for each test: slow, but in .ci/run like the shells.
@pytest.fixture(params=["git", pytest.param("syncthing", marks=pytest.mark.slow)])
def transport(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Transport]:
    if request.param == "git":
        remote: GitRemote = request.getfixturevalue("git_remote")
        a = remote.clone(tmp_path / "machine-a" / "synced")
        b = remote.clone(tmp_path / "machine-b" / "synced")

        def pushed_and_pulled() -> None:
            remote.publish(a)
            remote.publish(b)
            remote.take_in(a)

        yield Transport((a, b), pushed_and_pulled, git_bytes)
    else:
        pair: Pair = request.getfixturevalue("syncthing")
        yield Transport((pair[0].folder, pair[1].folder), pair.settle, folder_bytes)


def two_machines(tmp_path: Path, transport: Transport) -> tuple[Home, Home]:
    """Laptop and desktop, each trained on its own history, syncing through ``transport``."""
    for name in ("laptop", "desktop"):
        (tmp_path / name).mkdir()
    laptop, desktop = Home(tmp_path / "laptop"), Home(tmp_path / "desktop")
    laptop.train(history(LAPTOP_ONLY))
    desktop.train(history(DESKTOP_ONLY))
    ok(laptop, "sync", "init", str(transport.folders[0]))
    key = ok(laptop, "sync", "key").strip().splitlines()[-1]
    transport.deliver()
    ok(desktop, "sync", "join", str(transport.folders[1]), "--key", key)
    transport.deliver()
    ok(laptop, "sync", "now")
    return laptop, desktop


def test_what_one_machine_ran_is_suggested_on_the_other_and_nothing_is_readable(
    tmp_path: Path, transport: Transport
) -> None:
    laptop, desktop = two_machines(tmp_path, transport)
    assert LAPTOP_ONLY not in suggestions(laptop, "rsync")
    assert LAPTOP_ONLY in suggestions(desktop, "terraform")
    assert DESKTOP_ONLY in suggestions(laptop, "rsync")
    # Every byte either machine's folder holds: no command, folder or host that was synced.
    synced = {LAPTOP_ONLY, DESKTOP_ONLY, *COMMON, "laptop_only", "desktop_only_photos"}
    host = socket.gethostname()
    if len(host) >= 6:  # shorter, and random sealed bytes could spell it by chance
        synced.add(host)
    for folder in transport.folders:
        seen = transport.every_byte(folder)
        assert len(seen) > 1000  # the folder does hold both machines' records
        readable = sorted(text for text in synced if text.encode() in seen)
        assert not readable, f"{folder} holds {readable} in the clear"


def test_a_command_forgotten_on_one_machine_is_forgotten_on_the_other(
    tmp_path: Path, transport: Transport
) -> None:
    laptop, desktop = two_machines(tmp_path, transport)
    ok(desktop, "sync", "now")
    assert LAPTOP_ONLY in suggestions(desktop, "terraform")
    ok(laptop, "forget", LAPTOP_ONLY)
    ok(laptop, "sync", "now")
    transport.deliver()
    ok(desktop, "sync", "now")
    assert LAPTOP_ONLY not in suggestions(desktop, "terraform")
    assert LAPTOP_ONLY not in suggestions(laptop, "terraform")
    # And the desktop's own commands are still there.
    assert DESKTOP_ONLY in suggestions(desktop, "rsync")



def test_a_machine_that_leaves_and_joins_again_syncs_as_before(
    tmp_path: Path, transport: Transport
) -> None:
    laptop, desktop = two_machines(tmp_path, transport)
    ok(laptop, "sync", "leave")
    transport.deliver()
    ok(desktop, "sync", "now")
    devices = ok(desktop, "sync", "status").split("Devices:", 1)[1]
    assert "left" in devices
    key = ok(desktop, "sync", "key").strip().splitlines()[-1]
    ok(laptop, "sync", "join", str(transport.folders[0]), "--key", key)
    # What the laptop runs after joining again reaches the desktop ('update' syncs by itself).
    later = "pg_dump --schema-only rejoined_ledger_db"
    with open(laptop.root / "train_history", "a", encoding="utf-8") as history_file:
        history_file.writelines(f": {1_800_000_000 + n}:0;{later}\n" for n in range(3))
    ok(laptop, "update")
    transport.deliver()
    ok(desktop, "sync", "now")
    assert later in suggestions(desktop, "pg_dump")
    rows = [line for line in ok(desktop, "sync", "status").split("Devices:", 1)[1].splitlines()
            if line.strip() and "commands" in line]
    assert len(rows) == 1 and "left" not in rows[0]  # the same device again, not a second one


def readme_git_recipe() -> tuple[str, str]:
    """The README's two git snippets: the first machine's first push, and every machine's."""
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    block = readme.split("# once, on the first machine, in the clone 'sync init' was given:\n", 1)
    first, rest = block[1].split("\n# then on each machine", 1)
    every = rest.split("\n", 1)[1].split("```", 1)[0]
    return first.strip(), every.strip()


def test_the_readme_git_recipe_carries_a_command_between_two_clones(
    tmp_path: Path, git_remote: GitRemote
) -> None:
    first, every = readme_git_recipe()
    for name in ("laptop", "desktop"):
        (tmp_path / name).mkdir()
    laptop, desktop = Home(tmp_path / "laptop"), Home(tmp_path / "desktop")
    laptop.train(history(LAPTOP_ONLY))
    desktop.train(history(DESKTOP_ONLY))
    a = git_remote.clone(tmp_path / "machine-a" / "synced")

    def shell(home: Home, folder: Path, script: str) -> None:
        env = {**home.env, **gitrepo_identity(),
               "PATH": f"{Path(sys.executable).parent}:{home.env['PATH']}"}
        done = subprocess.run(["bash", "-c", script.replace("FOLDER", str(folder))], cwd=folder,
                              env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{script}\n{done.stderr}"

    ok(laptop, "sync", "init", str(a))
    key = ok(laptop, "sync", "key").strip().splitlines()[-1]
    shell(laptop, a, first)
    b = git_remote.clone(tmp_path / "machine-b" / "synced")
    ok(desktop, "sync", "join", str(b), "--key", key)
    shell(desktop, b, every)
    shell(laptop, a, every)
    shell(desktop, b, every)
    assert LAPTOP_ONLY in suggestions(desktop, "terraform")
    assert DESKTOP_ONLY in suggestions(laptop, "rsync")

"""Every writer of the model and journal (train, update, forget, update's compaction) against
every other, in random interleavings, while real clients record through a real server:
nothing acknowledged is lost and every forget holds."""

from __future__ import annotations

import fcntl
import itertools
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from aprender_shell.model.learned.journal import Journal
from aprender_shell.model.store.corpus import read_corpus
from aprender_shell.model.store.tables import open_model_bundle, read_index
from aprender_shell.model.training.writer import lock_path
from aprender_shell.service.client import Client
from tests.service import test_durability
from tests.service.conftest import WAIT, ServerProcess, aprender, texts, wait_for

Start = Callable[..., ServerProcess]

BASE = [f"git commit -m change{n}\nmake test\nls -la /srv/{n % 7}\n" for n in range(60)]
TARGETS = ("forgetme-alpha", "forgetme-beta")


def known(model: Path) -> set[str]:
    """Every command the model at ``model`` holds: its stored corpus and its journal."""
    with open_model_bundle(model, 64 * 2**20) as bundle:
        index = read_index(bundle, model)
        corpus = {entry.command for entry in read_corpus(bundle, index, model)}
    return corpus | {record["c"] for record in Journal(model, index.generation).records()}


def writer_command(kind: str, folder: Path, model: Path, round_number: int) -> list[str]:
    """The command line of one writer; each update learns lines no earlier round had."""
    if kind == "train":
        return ["train", "--history", str(folder / "train_history"),
                "--history", str(folder / "shell_history"), "--model", str(model)]
    if kind in ("update", "compaction"):
        history = folder / f"{kind}_history_{round_number}"
        count = 5 if kind == "update" else 120  # 120 distinct: past the small limit's overlay
        history.write_text("".join(f"{kind} --round {round_number} --line {n}\n"
                                   for n in range(count)))
        limit = ["--memory-limit", "0.125"] if kind == "compaction" else []
        return ["update", "--history", str(history), "--model", str(model), *limit]
    target = TARGETS[0] if kind == "forget" else TARGETS[1]
    return ["forget", "--contains", target, "--model", str(model)]


@pytest.mark.slow
def test_every_pair_of_writers_interleaved_loses_nothing_and_every_forget_holds(
    tmp_path: Path, run_server: Start
) -> None:
    seed_history = tmp_path / "seed_history"
    seed_history.write_text("".join(BASE) + "".join(
        f"echo {target} {n}\n" for target in TARGETS for n in range(3)))
    (tmp_path / "train_history").write_text("".join(BASE))
    model = tmp_path / "model.apbundle"
    seeded = aprender("train", "--history", str(seed_history), "--model", str(model))
    assert seeded.returncode == 0, seeded.stderr
    server = run_server(model)
    acknowledged: list[str] = []
    broken: list[Any] = []
    stop = threading.Event()
    # The clients' shells write what they ran to a history file too, as shells do: 'train'
    # learns from the history files, and a live record compacted into the model is in one.
    shell_history = tmp_path / "shell_history"
    shell_history.touch()
    written = threading.Lock()

    def client(number: int) -> None:
        try:
            with Client(timeout=WAIT).connect() as connection:
                for request in itertools.count():
                    if stop.is_set():
                        return
                    command = f"deploy --client {number} --run {request}"
                    answer = connection.request({"record": command})
                    if answer == {"ok": True}:
                        acknowledged.append(command)
                        with written, shell_history.open("a") as handle:
                            handle.write(command + "\n")  # as the shell writes its history
                    else:
                        broken.append(answer)
                    time.sleep(0.01)
        except Exception as error:  # noqa: BLE001 - the test reports it
            broken.append(repr(error))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    rng = random.Random(17)
    # "forget" forgets alpha, "forget2" beta: two forgets at once must both hold.
    kinds = ["train", "update", "forget", "forget2", "compaction"]
    pairs = [pair for pair in itertools.combinations_with_replacement(kinds, 2)
             if pair != ("forget2", "forget2")]
    rng.shuffle(pairs)
    try:
        for round_number, pair in enumerate(pairs):
            first, second = rng.sample(pair, 2) if pair[0] != pair[1] else pair
            if round_number:
                reseed = aprender("train", "--history", str(seed_history),
                                  "--history", str(shell_history), "--model", str(model))
                assert reseed.returncode == 0, reseed.stderr
            assert set(TARGETS) <= {word for text in known(model) for word in text.split()}
            commands = [writer_command(kind, tmp_path, model, round_number)
                        for kind in (first, second)]
            running = [subprocess.Popen([sys.executable, "-m", "aprender_shell", *commands[0]],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
            time.sleep(rng.uniform(0.0, 0.6))
            running.append(subprocess.Popen([sys.executable, "-m", "aprender_shell", *commands[1]],
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                            text=True))
            for process, command in zip(running, commands):
                out, err = process.communicate(timeout=300)
                assert process.returncode == 0, (pair, command, out, err)
            held = known(model)
            what = f"round {round_number}: {first} then {second}"
            lost = set(acknowledged[:-10]) - held  # the last few may still be on their way
            assert not lost, f"{what}: {len(lost)} acknowledged records lost: {sorted(lost)[:5]}"
            forgotten = {"forget": TARGETS[0], "forget2": TARGETS[1]}
            for kind in (first, second):
                if kind in forgotten:
                    target = forgotten[kind]
                    assert not [text for text in held if target in text], f"{what}: {target}"
                    suggested = texts(server.request({"prefix": "echo forgetme", "k": 10}))
                    assert not [text for text in suggested if target in text], what
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=WAIT)
    assert broken == []
    assert server.process.poll() is None
    assert set(acknowledged) <= known(model)


# Full disks and killed writers ---------------------------------------------------------------

small_disk = test_durability.small_disk  # the 512 KiB tmpfs fixture


@pytest.mark.parametrize("kind", ["train", "update", "forget"])
def test_a_full_disk_names_the_folder_and_what_to_do(small_disk: Path, kind: str) -> None:
    history = small_disk / "history"
    history.write_text("".join(BASE) + "echo forgetme-alpha 1\n")
    model = small_disk / "model.apbundle"
    trained = aprender("train", "--history", str(history), "--model", str(model))
    assert trained.returncode == 0, trained.stderr
    before = model.read_bytes()
    with history.open("a") as handle:
        handle.write("".join(f"kubectl rollout restart deploy/web{n}\n" for n in range(50)))
    test_durability.fill(small_disk)
    args = {
        "train": ["train", "--history", str(history)],
        "update": ["update"],
        "forget": ["forget", "--contains", "forgetme-alpha"],
    }[kind]
    result = aprender(*args, "--model", str(model))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: no space left on the disk holding {small_disk} to write "
        f"{'model.apbundle.journal' if kind == 'update' else 'model.apbundle'}: free some space "
        "there and run the command again (nothing was changed)"
    ]
    assert model.read_bytes() == before
    assert [path.name for path in small_disk.glob(".*")] == []


def kill_mid_write(target: Path) -> None:
    """A real writer process killed (SIGKILL) while it writes ``target``'s temporary file."""
    code = (
        "import os, signal, sys\n"
        "from aprender_shell.fileio import atomic_writer\n"
        "with atomic_writer(sys.argv[1]) as handle:\n"
        "    handle.write(b'x' * 100_000); handle.flush()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    killed = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True)
    assert killed.returncode == -9, killed.stderr


@pytest.mark.parametrize("kind", ["update", "forget"])
def test_the_next_writer_of_any_kind_removes_what_a_killed_one_left(
    tmp_path: Path, kind: str
) -> None:
    history = tmp_path / "history"
    history.write_text("".join(BASE))
    model = tmp_path / "model.apbundle"
    assert aprender("train", "--history", str(history), "--model", str(model)).returncode == 0
    staging = model.with_name(f".{model.name}.4000000.compact.tmp")  # as a compaction names it
    kill_mid_write(staging)
    assert len(list(tmp_path.glob(".*.tmp"))) == 1
    # Writers that change nothing: an update with nothing new, a forget that matches nothing.
    args = ["update"] if kind == "update" else ["forget", "nothing-like-this"]
    result = aprender(*args, "--model", str(model))
    assert result.returncode == 0, result.stderr
    assert [path.name for path in tmp_path.glob(".*.tmp")] == []


def writer_lock_held(model: Path) -> bool:
    """Whether some process holds the writer lock of ``model`` now."""
    try:
        fd = os.open(lock_path(model), os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_records_and_a_server_forget_while_train_runs_all_hold(
    tmp_path: Path, run_server: Start
) -> None:
    history = tmp_path / "history"
    rng = random.Random(5)
    history.write_text("".join(f"make target{rng.randrange(3000)} -j{rng.randrange(9)}\n"
                               for _ in range(40_000)))
    model = tmp_path / "model.apbundle"
    seed = tmp_path / "seed"
    seed.write_text("".join(BASE))
    seeded = aprender("train", "--history", str(seed), "--model", str(model))
    assert seeded.returncode == 0, seeded.stderr
    server = run_server(model)
    assert server.request({"record": "ssh old-host"}) == {"ok": True}
    training = subprocess.Popen(
        [sys.executable, "-m", "aprender_shell", "train", "--history", str(history),
         "--model", str(model)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: writer_lock_held(model), what="train to hold the writer lock")
    time.sleep(0.3)  # it has read the journal it will carry over
    assert server.request({"record": "ssh before-forget"}) == {"ok": True}
    assert server.request({"forget": "ssh old-host"}) == {"forgotten": 1}  # journal rewritten
    assert server.request({"record": "ssh after-forget"}) == {"ok": True}
    assert training.poll() is None, "train finished too soon to race"
    _, err = training.communicate(timeout=300)
    assert training.returncode == 0, err
    held = known(model)
    assert {"ssh before-forget", "ssh after-forget"} <= held
    assert "ssh old-host" not in held


@pytest.mark.slow
def test_two_forgets_at_once_both_hold(tmp_path: Path, run_server: Start) -> None:
    history = tmp_path / "history"
    model = tmp_path / "model.apbundle"
    server: ServerProcess | None = None
    rng = random.Random(9)
    # Large enough that each forget retrains for a while, so the two overlap.
    lines = "".join(f"make target{rng.randrange(3000)} -j{rng.randrange(9)}\n"
                    for _ in range(15_000))
    for attempt in range(2):
        history.write_text(lines + f"ssh alpha-{attempt}\nssh beta-{attempt}\n")
        trained = aprender("train", "--history", str(history), "--model", str(model))
        assert trained.returncode == 0, trained.stderr
        server = server or run_server(model)
        forgets = [subprocess.Popen(
            [sys.executable, "-m", "aprender_shell", "forget", f"ssh {name}-{attempt}",
             "--model", str(model)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for name in ("alpha", "beta")]
        for forget in forgets:
            out, err = forget.communicate(timeout=300)
            assert forget.returncode == 0 and out.startswith("Forgot 1 command"), (out, err)
        assert not [text for text in known(model) if text.startswith("ssh ")], attempt
        suggested = texts(server.request({"prefix": "ssh ", "k": 10}))
        assert not [text for text in suggested if "alpha" in text or "beta" in text], suggested


def test_an_update_with_nothing_new_in_a_read_only_folder_still_succeeds(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    history = tmp_path / "history"
    history.write_text("".join(BASE))
    model = folder / "model.apbundle"
    assert aprender("train", "--history", str(history), "--model", str(model)).returncode == 0
    lock_path(model).unlink()  # as a model trained by an older version has none
    mounted = subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot bind-mount read-only here ({mounted.stderr.strip()})")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], capture_output=True)
        result = aprender("update", "--history", str(history), "--model", str(model))
        assert result.returncode == 0, result.stderr
        assert "No new commands" in result.stdout
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)

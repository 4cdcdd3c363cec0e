"""Sync: what merging other devices' records costs, and whether a synced model answers slower.

Two tables, each subject beside its reference in the same run:

- **Merge** (goal: under 10x): a device takes in 10 devices x 50,000 records with one
  ``aprender-shell sync now``, beside ``aprender-shell train`` on the same 500,000 commands.
  Each of the 10 devices trains on its own generated history and joins a copy of one folder,
  so it publishes only its own segments; the merging device's folder then gets every device's
  files, as a sync engine would deliver them, and ``sync now`` merges them. Each round starts
  the merging device from the same saved state; the ways alternate round by round, each a
  separate process (wall and CPU time, peak memory).
- **Per key** (goal: no difference beyond noise): keystrokes typed in a real zsh through the
  integration's own widgets (``benchmarks/shell``'s harness), answered by a server whose
  model syncs (two devices, merged) beside one trained on the same commands that does not;
  the two alternate in rounds.

``python -m benchmarks.sync [--devices N] [--records N] [--rounds N] [--commands N]
[--keystrokes N] [--quick]``
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Callable

from benchmarks.predictor import ProcessCost, compare

Out = Callable[[str], None]
KEY_PREFIX = "aps1-"


def cli(home: Path, *args: str) -> list[str]:
    """argv of the real command line under the data folder ``home`` (an absolute program first,
    as the process measurer needs)."""
    return ["/usr/bin/env", f"APRENDER_SHELL_HOME={home}", sys.executable, "-m",
            "aprender_shell", *args]


def run(home: Path, *args: str) -> str:
    """Run the command line under ``home``; its output, or RuntimeError with its last line."""
    done = subprocess.run(cli(home, *args), capture_output=True, text=True, check=False)
    if done.returncode:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise RuntimeError(f"aprender-shell {' '.join(args)} exited with {done.returncode}: "
                           f"{lines[-1] if lines else 'no message'}")
    return done.stdout


def sync_key(home: Path) -> str:
    """The key ``sync key`` prints, alone on its last line."""
    return run(home, "sync", "key").strip().splitlines()[-1].strip()


def write_history(path: Path, commands: int, seed: int) -> list[str]:
    from benchmarks.sessions import generate_sessions, write_zsh_history

    session = generate_sessions(commands, seed=seed)
    write_zsh_history(path, session)
    return [item.command for item in session]


def copy_entries(source: Path, target: Path) -> None:
    """What a sync engine does: every file of ``source`` appears in ``target``."""
    for entry in source.iterdir():
        if entry.is_dir():
            shutil.copytree(entry, target / entry.name, dirs_exist_ok=True)
        else:
            shutil.copy2(entry, target / entry.name)


def start_folder(folder: Path) -> tuple[Path, str]:
    """A sync folder set up by a small first device; its key."""
    first = folder / "first"
    write_history(folder / "first.history", 200, seed=99)
    run(first, "train", "--history", str(folder / "first.history"))
    (folder / "seed-folder").mkdir()
    run(first, "sync", "init", str(folder / "seed-folder"))
    return folder / "seed-folder", sync_key(first)


def join(home: Path, seed_folder: Path, folder: Path, key: str) -> None:
    """``home`` joins its own copy of the seed folder (so it takes in nothing but the seed)."""
    shutil.copytree(seed_folder, folder)
    run(home, "sync", "join", str(folder), "--key", key)


def merge_cost(devices: int, records: int, rounds: int, root: Path, out: Out) -> float:
    """``sync now`` taking in ``devices`` x ``records`` beside ``train`` on them; wall ratio."""
    seed_folder, key = start_folder(root)
    everything: list[str] = []
    delivered = root / "delivered"
    delivered.mkdir()
    for number in range(devices):
        home, history = root / f"device-{number}", root / f"device-{number}.history"
        everything += write_history(history, records, seed=10 + number)
        run(home, "train", "--history", str(history))
        join(home, seed_folder, root / f"folder-{number}", key)
        copy_entries(root / f"folder-{number}", delivered)
    all_history = root / "all.history"
    from benchmarks.sessions import write_zsh_history

    write_zsh_history(all_history, everything)
    merger, merger_folder = root / "merger", root / "merger-folder"
    write_history(root / "merger.history", 200, seed=98)
    run(merger, "train", "--history", str(root / "merger.history"))
    join(merger, seed_folder, merger_folder, key)
    saved = root / "merger-saved"
    shutil.copytree(merger, saved / "home")
    shutil.copytree(merger_folder, saved / "folder")

    def reset() -> None:
        for place, name in ((merger, "home"), (merger_folder, "folder")):
            shutil.rmtree(place)
            shutil.copytree(saved / name, place)
        copy_entries(delivered, merger_folder)

    samples: dict[str, list[ProcessCost]] = {"sync now": [], "train": []}
    train_home = root / "trainer"
    for _ in range(rounds):
        reset()
        samples["sync now"] += compare({"sync now": cli(merger, "sync", "now")}, 1).values()
        samples["train"] += compare(
            {"train": cli(train_home, "train", "--history", str(all_history))}, 1).values()
    merged = run(merger, "sync", "status")
    out(f"Merge: {devices} devices x {records:,} records taken in by one 'sync now', beside "
        f"'train' on the same {devices * records:,} commands; median of {rounds} alternated "
        "rounds, each a separate process")
    out(f"  {'process (aprender-shell ...)':<34}{'wall s':>9}{'CPU s':>9}{'peak MB':>10}")
    medians = {}
    for name, costs in samples.items():
        ordered = sorted(costs, key=lambda cost: cost.wall)
        median = ordered[len(ordered) // 2]
        medians[name] = median
        out(f"  {name:<34}{median.wall:>9.2f}{median.cpu:>9.2f}{median.peak / 2**20:>10.1f}")
    merge, train = medians["sync now"], medians["train"]
    ratio = merge.wall / train.wall
    out(f"  {'sync now / train':<34}{ratio:>8.2f}x{merge.cpu / train.cpu:>8.2f}x"
        f"{merge.peak / train.peak:>9.2f}x   (goal: time under 10x)")
    out(f"  merge: {devices * records / merge.wall:,.0f} records/s wall")
    learned = [int(found.group(1)) for line in merged.splitlines()
               if (found := re.search(r"\s(\d+) commands,", line))]
    out(f"  'sync status' after the last round: {sum(learned):,} records learned from "
        f"{len(learned)} devices")
    return ratio


def keystroke_times(
    commands: int, count: int, rounds: int, root: Path, out: Out
) -> dict[str, list[list[float]]]:
    """Per-keystroke microseconds in zsh, round by round, a synced model's server beside an
    unsynced one's."""
    from aprender_shell.integration import integration_for
    from benchmarks.sessions import generate_sessions, write_zsh_history
    from benchmarks.shell import OWN_WIDGETS_ZSH, _start_server, _write_keys, keystrokes
    from benchmarks.shell import run_in_terminal as in_terminal

    if shutil.which("zsh") is None:
        raise RuntimeError("zsh is not installed")
    session = generate_sessions(commands + 2_000, seed=0)
    half = commands // 2
    mine, theirs, later = session[:half], session[half:commands], session[commands:]
    for name, part in (("mine", mine), ("theirs", theirs), ("both", session[:commands])):
        write_zsh_history(root / f"{name}.history", part)
    typed = [item.command for item in later if "\n" not in item.command]
    keys = keystrokes([session[commands - 1].command, *typed], count)
    _write_keys(root / "keys", keys)
    synced, other, unsynced = root / "synced", root / "other", root / "unsynced"
    run(synced, "train", "--history", str(root / "mine.history"))
    run(other, "train", "--history", str(root / "theirs.history"))
    run(unsynced, "train", "--history", str(root / "both.history"))
    folder = root / "folder"
    run(synced, "sync", "init", str(folder))
    run(other, "sync", "join", str(folder), "--key", sync_key(synced))
    run(synced, "sync", "now")
    out(f"Per keystroke in zsh (own widgets): a model synced with a second device (each trained "
        f"on {half:,} commands, merged) beside one trained on the same {commands:,} that does "
        f"not sync; {len(keys)} keystrokes, {rounds} alternated rounds")
    times: dict[str, list[list[float]]] = {"unsynced model": [], "synced model": []}
    homes = {"unsynced model": unsynced, "synced model": synced}
    for number in range(rounds):
        # Which goes first swaps every round, so neither side always finds the machine warm.
        for label, home in sorted(homes.items(), reverse=bool(number % 2)):
            socket = home / "run" / "server.sock"
            init = root / f"init-{label.split()[0]}.zsh"
            init.write_text(integration_for("zsh").script(socket=socket))
            script = root / "widgets.zsh"
            script.write_text(OWN_WIDGETS_ZSH)
            result = root / f"times-{label.split()[0]}-{number}"
            env = {**os.environ, "APRENDER_SHELL_HOME": str(home), "TERM": "dumb",
                   "BENCH_KEYS": str(root / "keys"), "BENCH_INIT": str(init),
                   "BENCH_OUT": str(result)}
            server = _start_server(home / "model.apbundle", env, socket)
            try:
                executable = shutil.which("zsh")
                assert executable is not None
                found, _ = in_terminal([executable, "-f", "-i"], script, env, result)
            finally:
                server.terminate()
                server.wait(timeout=120)
            times[label].append(found)
    return times


def keystroke_table(times: dict[str, list[list[float]]], out: Out) -> float:
    """Print p50/p90/p99 per model, and each round's p50 (how far noise alone moves it);
    returns the synced model's p50 over the unsynced one's."""
    from benchmarks.shell import percentile

    out(f"  {'per keystroke':<20}{'p50':>10}{'p90':>10}{'p99':>10}  p50 vs unsynced"
        "   p50 of each round")
    reference = percentile([value for one in times["unsynced model"] for value in one], 0.5)
    ratio = 1.0
    for label, rounds in times.items():
        samples = [value for one in rounds for value in one]
        figures = [percentile(samples, share) for share in (0.5, 0.9, 0.99)]
        ratio = figures[0] / reference
        cells = "".join(f"{value / 1e3:>8.3f}ms" for value in figures)
        each = " ".join(f"{percentile(one, 0.5) / 1e3:.3f}" for one in rounds)
        out(f"  {label:<20}{cells}  {ratio:>8.2f}x        {each} ms")
    return ratio


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--devices", type=int, default=10, help="devices merged (10)")
    parser.add_argument("--records", type=int, default=50_000, help="records per device (50000)")
    parser.add_argument("--rounds", type=int, default=3, help="alternated rounds (3)")
    parser.add_argument("--commands", type=int, default=100_000,
                        help="commands behind the per-key models (100000)")
    parser.add_argument("--keystrokes", type=int, default=3_000, help="keystrokes timed (3000)")
    parser.add_argument("--quick", action="store_true",
                        help="3 devices x 2000 records, 4000 commands, 200 keystrokes, 1 round")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.quick:
        args.devices, args.records, args.rounds = 3, 2_000, 1
        args.commands, args.keystrokes = 4_000, 200
    with tempfile.TemporaryDirectory(prefix="aprender-shell-bench-sync-") as name:
        root = Path(name)
        (root / "merge").mkdir()
        merge_cost(args.devices, args.records, args.rounds, root / "merge", print)
        print()
        (root / "keys").mkdir()
        times = keystroke_times(args.commands, args.keystrokes, max(args.rounds, 2),
                                root / "keys", print)
        keystroke_table(times, print)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``train``'s memory: the history it read is not held as one object per line while it trains
(it becomes columns, cleaned in place). Each figure is a child's peak resident memory above a
baseline the same child took once its code was loaded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.sessions import generate_sessions

# Loads the code, takes the baseline, runs one of the three jobs, prints the growth in KiB.
_CHILD = """
import sys
from pathlib import Path
from aprender_shell.cli import cli
from aprender_shell.history.files import read_histories
from aprender_shell.model.training.entries import Entries
from aprender_shell.model.training.train import train_model
import aprender_shell.model.training.update.retraining, aprender_shell.cli.model

def kib(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))

job, history, folder = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
if job == "train alone":
    held = Entries(read_histories([history]).entries)  # before the baseline
    held.consumable = True
start = kib("VmRSS")
if job == "read":
    read = read_histories([history])
elif job == "train alone":
    train_model(held, folder / "alone.apbundle")
else:
    cli.main(["train", "--history", str(history)], standalone_mode=False)
print(kib("VmHWM") - start)
"""


def _growth(job: str, history: Path, folder: Path) -> int:
    done = subprocess.run([sys.executable, "-c", _CHILD, job, str(history), str(folder)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.splitlines()[-1])


def test_train_does_not_hold_the_historys_lines_while_it_trains(tmp_path: Path) -> None:
    history = tmp_path / "bash_history"
    with open(history, "w", encoding="utf-8") as handle:
        for item in generate_sessions(100_000, seed=2):
            handle.write(f"#{item.timestamp}\n{item.command}\n")
    lines = _growth("read", history, tmp_path)  # the lines as objects
    alone = _growth("train alone", history, tmp_path)  # training on them as columns
    train = _growth("train", history, tmp_path)
    # Holding the lines through training put training's whole peak on top of theirs (37.4 MB
    # against 26.5 for the lines and 9.1 for training alone); now training comes after them.
    assert train < lines + alone // 2, f"train {train} KiB, alone {alone}, the lines {lines}"

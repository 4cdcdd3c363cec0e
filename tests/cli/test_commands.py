"""The predictor's command line, run as a user runs it: real processes, real files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import aprender_shell
from tests.model.sessions import WORKDAY, write_zsh_history


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aprender_shell", *args],
        input=stdin, capture_output=True, text=True, timeout=120,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed command; no traceback, nothing on stdout."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("Error:"), result.stderr
    assert result.stdout == ""
    return lines[-1]


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = tmp_path / "zsh_history"
    write_zsh_history(path, WORKDAY)
    return path


@pytest.fixture
def model(tmp_path: Path, history: Path) -> Path:
    path = tmp_path / "model.apbundle"
    result = run("train", "--history", str(history), "--model", str(path))
    assert result.returncode == 0, result.stderr
    return path


def suggestions(result: subprocess.CompletedProcess[str]) -> list[tuple[str, float]]:
    assert result.returncode == 0, result.stderr
    pairs = []
    for line in result.stdout.splitlines():
        text, score = line.rsplit("\t", 1)
        pairs.append((text, float(score)))
    return pairs


def test_train_reports_what_it_learned(tmp_path: Path, history: Path) -> None:
    path = tmp_path / "m.apbundle"
    result = run("train", "--history", str(history), "--model", str(path), "--ngram", "4")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert str(history) in out
    assert f"Commands loaded: {len(WORKDAY)}" in out
    assert "N-gram size:     4" in out
    assert "Segments:" in out and str(path) in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_without_any_history_it_trains_on_the_sample_and_says_so() -> None:
    result = run("train")
    assert result.returncode == 0, result.stderr
    notices = [line for line in result.stdout.splitlines() if "sample history" in line]
    assert len(notices) == 1 and notices[0].startswith("No shell history found")
    assert suggestions(run("suggest", "git "))  # the default model answers


def test_history_is_found_through_histfile(tmp_path: Path, history: Path) -> None:
    env_history = tmp_path / "elsewhere"
    write_zsh_history(env_history, ["terraform plan", "terraform apply"])
    os.environ["HISTFILE"] = str(env_history)
    try:
        result = run("train")
    finally:
        del os.environ["HISTFILE"]
    assert result.returncode == 0 and str(env_history) in result.stdout
    assert suggestions(run("suggest", "terr"))[0][0].startswith("terraform ")


def test_suggest_prints_text_tab_score_lines_starting_with_the_prefix(model: Path) -> None:
    found = suggestions(run("suggest", "git c", "-k", "3", "--model", str(model)))
    assert found[0][0] == "git commit -m fix"
    assert 1 <= len(found) <= 3
    assert all(text.startswith("git c") for text, _ in found)
    scores = [score for _, score in found]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)


def test_previous_command_steers_the_empty_prefix(model: Path) -> None:
    found = suggestions(run("suggest", "", "--prev", "git add .", "--model", str(model)))
    assert found[0][0] == "git commit -m fix"


def test_fast_path_and_click_path_answer_alike(model: Path) -> None:
    from click.testing import CliRunner

    from aprender_shell.cli import cli

    fast = run("suggest", "git ", "-k", "4", "--prev", "git pull", "--model", str(model))
    slow = CliRunner().invoke(
        cli, ["suggest", "git ", "-k", "4", "--prev", "git pull", "--model", str(model)]
    )
    assert slow.exit_code == 0 and fast.stdout == slow.output


@pytest.mark.parametrize("kind", ["missing", "fifo", "garbage"])
def test_fast_path_and_click_path_fail_alike(tmp_path: Path, kind: str) -> None:
    bad = tmp_path / "model.apbundle"
    if kind == "fifo":
        os.mkfifo(bad)
    elif kind == "garbage":
        bad.write_bytes(b"not a bundle")
    fast = run("suggest", "git ", "--model", str(bad))
    slow = subprocess.run(
        [sys.executable, "-c", "from aprender_shell.cli import main; main()",
         "suggest", "git ", "--model", str(bad)],
        capture_output=True, text=True, timeout=60,
    )
    assert fast.returncode == slow.returncode == 1
    assert fast.stderr == slow.stderr and fast.stderr.startswith("Error: ")
    assert fast.stdout == slow.stdout == ""


def _imported(importtime: str) -> set[str]:
    return {line.rsplit("|", 1)[-1].strip() for line in importtime.splitlines()
            if line.startswith("import time:")}


def test_a_cold_suggest_imports_none_of_the_heavy_modules(model: Path) -> None:
    # Each of these costs a cold suggest milliseconds (click about 20, dataclasses with
    # inspect about 7): the one-shot query path must not pull them in.
    # Without site (-S), this checkout on the path: an environment's site hooks (a .pth file
    # loading certifi imports typing and tempfile here) would hide what our code imports.
    root = str(Path(aprender_shell.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root}
    result = subprocess.run(
        [sys.executable, "-S", "-X", "importtime", "-m", "aprender_shell", "suggest", "git ",
         "--prev", "git pull", "--model", str(model)],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert result.returncode == 0 and result.stdout, result.stderr
    # What the interpreter itself imports before our code runs is no choice of ours.
    bare = subprocess.run([sys.executable, "-S", "-X", "importtime", "-c", "pass"],
                          capture_output=True, text=True, timeout=120, env=env)
    imported = _imported(result.stderr) - _imported(bare.stderr)
    assert "aprender_shell.model.query.predictor" in imported
    # typing imports re (about 3 ms); its names are the annotations' only (model/tuples.py).
    heavy = {"click", "dataclasses", "inspect", "argparse", "typing"}
    assert imported.isdisjoint(heavy), sorted(imported & heavy)
    # Nor what only writing, learning or serving needs (each 1 to 10 ms cold, measured with
    # -X importtime): the year benchmark's cold suggest is held to python -c pass.
    # Reading JSON takes the C scanner alone (bundle/jsontext.py): the json package compiles
    # regular expressions when imported, which only its writers need.
    writers = {"json", "json.decoder", "json.encoder", "tempfile", "subprocess", "socket",
               "selectors", "platformdirs", "re2",
               "hashlib", "random", "datetime", "shlex", "aprender_shell.history.privacy",
               "aprender_shell.model.training.train", "aprender_shell.service.client",
               "aprender_shell.model.query.stats"}  # the figures of 'stats' and 'status'
    assert imported.isdisjoint(writers), sorted(imported & writers)


@pytest.mark.parametrize(
    "prefix", ["$(rm -rf ~)", "\x1b[31mred", "a" * 100_000, "'unclosed \"quote", "-k"]
)
def test_hostile_prefixes_are_answered_safely(model: Path, prefix: str) -> None:
    result = run("suggest", "--model", str(model), "--", prefix)
    assert result.returncode == 0, result.stderr
    assert all(line.startswith(prefix) for line in result.stdout.splitlines())


def test_batch_protocol_answers_learns_and_survives_bad_lines(model: Path) -> None:
    requests = [
        {"prefix": "git c", "k": 2, "prev": ["git add ."], "cwd": "/src"},
        "this is not json",
        {"prefix": 42},
        {"record": "terraform plan -out=tf.plan", "cwd": "/infra", "exit": 0},
        {"prefix": "terr"},
    ]
    stdin = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in requests)
    result = run("suggest", "--batch", "--model", str(model), stdin=stdin)
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == 5
    assert answers[0]["suggestions"][0]["text"] == "git commit -m fix"
    assert len(answers[0]["suggestions"]) <= 2
    assert "error" in answers[1] and "error" in answers[2]
    assert answers[3] == {"ok": True}
    assert answers[4]["suggestions"][0]["text"] == "terraform plan -out=tf.plan"
    # saved on exit: a new process knows it without retraining
    assert suggestions(run("suggest", "terr", "--model", str(model)))[0][0] == (
        "terraform plan -out=tf.plan"
    )


def test_stats_shows_real_paging_figures(model: Path) -> None:
    result = run("stats", "--model", str(model), "--memory-limit", "0.5")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "📊 Paged Model Statistics:" in out and "📈 Paging Statistics:" in out
    assert f"Total commands:  {len(WORKDAY)}" in out
    assert "Memory limit:    0.5 MB" in out
    figures = {}
    for line in out.splitlines():
        name, _, value = line.strip().partition(":")
        figures[name] = value.strip()
    hits, misses = int(figures["Page hits"]), int(figures["Page misses"])
    assert misses >= 1 and hits > 0
    assert figures["Hit rate"] == f"{100 * hits / (hits + misses):.1f}%"
    assert "replaying" in figures["Source"]
    assert "git commit -m fix" in out  # among the most used commands


def test_without_a_limit_a_model_is_opened_within_the_one_it_was_trained_for(
    tmp_path: Path, history: Path
) -> None:
    # One policy: the limit given, else the model's own, else the default (it was 16 MB here
    # however the model was trained, while update and forget used the model's own).
    path = tmp_path / "small.apbundle"
    trained = run("train", "--history", str(history), "--model", str(path),
                  "--memory-limit", "0.5")
    assert trained.returncode == 0, trained.stderr
    assert "for a 0.5 MB memory limit" in trained.stdout
    shown = run("stats", "--model", str(path)).stdout
    assert "Memory limit:    0.5 MB" in shown
    given = run("stats", "--model", str(path), "--memory-limit", "2").stdout
    assert "Memory limit:    2.0 MB" in given


def test_update_says_how_many_it_learned_recognised_and_left_out(
    model: Path, history: Path
) -> None:
    # Two commands the shells recorded live, written to the history later, as shells do.
    records = "".join(json.dumps({"record": c}) + "\n" for c in ("helm lint", "helm test web"))
    assert run("suggest", "--batch", "--model", str(model), stdin=records).returncode == 0
    now = int(time.time())
    with history.open("a") as handle:
        handle.write(f": {now}:0;helm lint\n: {now}:0;helm test web\n")
    result = run("update", "--model", str(model))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("No new commands to learn; the model has ")
    assert "2 commands your history gained were already learned as your shells recorded them" \
        in result.stdout
    assert "Learned" not in result.stdout
    # One new command and one holding a token: one learned, one left out.
    with history.open("a") as handle:
        handle.write(f": {now}:0;helm rollback web\n"
                     f": {now}:0;export GITHUB_TOKEN=ghp_R8kW2mZq7XvT4nB9pL3sY6dH1fJ5gC0aRe2U\n")
    result = run("update", "--model", str(model))
    assert result.returncode == 0, result.stderr
    assert "Learned 1 new command from your history;" in result.stdout
    assert "1 line was left out (a secret" in result.stdout


def test_update_learns_appended_commands_and_survives_a_rewrite(
    model: Path, history: Path
) -> None:
    with history.open("a") as handle:
        handle.write(": 1800000000:0;helm upgrade web ./chart\n")
    result = run("update", "--model", str(model))
    assert result.returncode == 0, result.stderr
    assert "Learned 1 new command" in result.stdout
    assert suggestions(run("suggest", "hel", "--model", str(model)))[0][0] == (
        "helm upgrade web ./chart"
    )
    # the shell rewrites its history (new file, older lines trimmed) and adds one more
    write_zsh_history(history, [*WORKDAY[-5:], "helm upgrade web ./chart", "helm rollback web"])
    result = run("update", "--model", str(model))
    assert result.returncode == 0, result.stderr
    assert "Learned 1 new command" in result.stdout
    assert suggestions(run("suggest", "helm r", "--model", str(model)))[0][0] == "helm rollback web"


def test_missing_model_is_one_line(tmp_path: Path) -> None:
    line = one_error_line(run("suggest", "git", "--model", str(tmp_path / "none.apbundle")))
    assert "aprender-shell train" in line
    assert "aprender-shell train" in one_error_line(run("stats"))


@pytest.mark.parametrize("size", [5, 40, 400, -100])
def test_truncated_bundle_is_one_line(model: Path, size: int) -> None:
    data = model.read_bytes()
    model.write_bytes(data[:size])
    assert "train" in one_error_line(run("suggest", "git", "--model", str(model)))
    assert "train" in one_error_line(run("update", "--model", str(model)))


def test_corrupt_bundle_is_one_line(model: Path) -> None:
    data = bytearray(model.read_bytes())
    data[-50] ^= 0xFF
    model.write_bytes(bytes(data))
    for args in (["suggest", ""], ["suggest", "git c"], ["stats"]):
        line = one_error_line(run(*args, "--model", str(model)))
        assert "corrupt" in line or "checksum" in line


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["train", "--ngram", "7"], "--ngram"),
        (["train", "--ngram", "1"], "--ngram"),
        (["train", "--memory-limit", "-1"], "--memory-limit"),
        (["train", "--memory-limit", "0.01"], "memory limit"),
        (["suggest", "x", "--memory-limit", "inf"], "--memory-limit"),
        (["suggest", "x", "--memory-limit", "nan"], "--memory-limit"),
        (["suggest", "x", "--memory-limit", "0.01"], "memory limit"),
        (["suggest", "x", "-k", "0"], "-k"),
    ],
)
def test_bad_options_are_one_line(args: list[str], expect: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert expect in result.stderr.splitlines()[-1]


@pytest.mark.parametrize("command", [["train"], ["suggest", "git"], ["server", "start"]])
@pytest.mark.parametrize("size", ["1e9", "2G1", "4096G"])
def test_a_memory_limit_out_of_range_is_refused_as_parsed_with_the_range(
    tmp_path: Path, history: Path, command: list[str], size: str
) -> None:
    # 1e9 MB used to be taken, trained with, and then reported as "a damaged index".
    model = tmp_path / "model.apbundle"
    result = run(*command, "--history", str(history), "--model", str(model),
                 "--memory-limit", size) if command == ["train"] else run(
        *command, "--model", str(model), "--memory-limit", size)
    assert result.returncode == 2, result.stderr
    last = result.stderr.splitlines()[-1]
    if size == "2G1":
        assert "is not a size" in last
    else:
        assert "too large: use at least 0.125 MB and at most 1048576 MB" in last, last
    assert "damaged" not in result.stderr and not model.exists()


def test_unreadable_histories_are_one_line_and_leave_the_model(
    tmp_path: Path, model: Path
) -> None:
    before = model.read_bytes()
    binary = tmp_path / "binary"
    binary.write_bytes(bytes(range(256)) * 64)
    for bad in (tmp_path / "missing", tmp_path, binary):
        line = one_error_line(run("train", "--history", str(bad), "--model", str(model)))
        assert str(bad) in line
    assert model.read_bytes() == before


def test_every_command_has_help() -> None:
    for command in ("train", "suggest", "stats", "update", "evaluate"):
        result = run(command, "--help")
        assert result.returncode == 0 and "Usage:" in result.stdout


def test_multi_line_commands_are_one_escaped_line_each(tmp_path: Path) -> None:
    history = tmp_path / "history"
    history.write_bytes(
        b": 1700000000:0;for f in *.py; do\\\n  black $f\\\ndone\n: 1700000001:0;ls\n"
    )
    model = tmp_path / "m.apbundle"
    assert run("train", "--history", str(history), "--model", str(model)).returncode == 0
    from click.testing import CliRunner

    from aprender_shell.cli import cli

    fast = run("suggest", "for", "--model", str(model)).stdout  # the click-free path
    slow = CliRunner().invoke(cli, ["suggest", "for", "--model", str(model)]).output
    for output in (fast, slow):
        assert output.splitlines()[0].split("\t")[0] == "for f in *.py; do\\n  black $f\\ndone"


def test_a_terminal_sees_a_progress_bar_and_a_pipe_does_not(tmp_path: Path) -> None:
    import pexpect

    from benchmarks.sessions import generate_sessions
    from benchmarks.sessions import write_zsh_history as write_sessions

    history = tmp_path / "big_history"
    write_sessions(history, generate_sessions(30_000, seed=4))
    args = ["-m", "aprender_shell", "train", "--history", str(history),
            "--model", str(tmp_path / "m.apbundle")]
    child = pexpect.spawn(sys.executable, args, encoding="utf-8", timeout=120,
                          dimensions=(24, 120))
    child.expect("Training: ")  # click's bar, drawn on the terminal's stderr
    child.expect("Commands loaded: 30000")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    piped = run(*args[2:])
    assert piped.returncode == 0 and "Training:" not in piped.stderr + piped.stdout


def test_stats_reports_the_running_servers_own_figures(model: Path) -> None:
    from aprender_shell.service.client import Client

    assert run("server", "start", "--model", str(model)).returncode == 0
    try:
        with Client() as client:
            for prefix in ("g", "git ", "git c", "d", "zz"):
                assert "suggestions" in client.request({"prefix": prefix, "k": 3})
        result = run("stats", "--model", str(model))
    finally:
        run("server", "stop")
    assert result.returncode == 0, result.stderr
    figures = dict(
        (name.strip(), value.strip())
        for name, _, value in (line.partition(":") for line in result.stdout.splitlines())
    )
    assert figures["Source"].startswith("the running server")
    assert int(figures["Page hits"]) + int(figures["Page misses"]) >= 5  # those five queries


@pytest.mark.parametrize("args", [["suggest", "g", "-k", "100"], ["stats"], ["train"]])
def test_a_reader_that_goes_away_gets_no_traceback(model: Path, args: list[str]) -> None:
    # `| true`: the reader is gone before we write a byte
    command = [sys.executable, "-m", "aprender_shell", *args, "--model", str(model)]
    shell = subprocess.run(
        " ".join(f"'{part}'" for part in command) + " | true",
        shell=True, capture_output=True, text=True, timeout=120,
    )
    assert "Traceback" not in shell.stderr and "Error" not in shell.stderr, shell.stderr


def test_update_with_nothing_new_leaves_model_and_journal_alone(model: Path) -> None:
    learned = run("suggest", "--batch", "--model", str(model), stdin='{"record": "helm list"}\n')
    assert learned.returncode == 0
    before = model.read_bytes()
    result = run("update", "--model", str(model))
    assert result.returncode == 0 and "unchanged" in result.stdout
    assert model.read_bytes() == before
    assert suggestions(run("suggest", "hel", "--model", str(model)))[0][0] == "helm list"


def test_update_after_training_on_the_sample_points_to_train(private_home: Path) -> None:
    assert run("train").returncode == 0
    quiet = run("update")
    assert quiet.returncode == 0 and "no shell history exists yet" in quiet.stdout
    write_zsh_history(private_home / ".zsh_history", ["helm list"])
    line = one_error_line(run("update"))
    assert "aprender-shell train" in line and ".zsh_history" in line


def test_the_default_model_folder_and_file_are_private(
    tmp_path: Path, history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("APRENDER_SHELL_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert run("train", "--history", str(history)).returncode == 0
    folder = tmp_path / "xdg" / "aprender-shell"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "model.apbundle").stat().st_mode) == 0o600


def test_batch_suggests_a_commit_on_an_empty_line_after_git_add(tmp_path: Path) -> None:
    from tests.model.query.test_predictor import _commit_habit

    history = tmp_path / "history"
    write_zsh_history(history, _commit_habit())
    model = tmp_path / "model.apbundle"
    trained = run("train", "--history", str(history), "--model", str(model))
    assert trained.returncode == 0, trained.stderr
    stdin = json.dumps({"prefix": "", "prev": ["git diff", "git add -A"], "shell": "zsh"})
    result = run("suggest", "--batch", "--model", str(model), stdin=stdin + "\n")
    assert result.returncode == 0, result.stderr
    top = json.loads(result.stdout.splitlines()[0])["suggestions"][0]["text"]
    assert top.startswith("git commit -m ")


def test_a_server_run_imports_no_click_and_serves(model: Path) -> None:
    # The shells' first keystroke after a start waits for it: click and the command line cost
    # the start more than the server's own modules (benchmarks/year.py measures the start).
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "aprender_shell", "server", "run",
         "--model", str(model), "--idle-timeout", "0.5"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    bare = subprocess.run([sys.executable, "-X", "importtime", "-c", "pass"],
                          capture_output=True, text=True, timeout=120)
    imported = _imported(result.stderr) - _imported(bare.stderr)
    assert "aprender_shell.service.server" in imported
    heavy = {"click", "aprender_shell.cli", "aprender_shell.integration"}
    assert imported.isdisjoint(heavy), sorted(imported & heavy)
    # Nor what only a fold, a sync or a training needs (each 2 to 10 ms of the start, measured
    # with -X importtime in a regular install): this server folded nothing, and its device
    # does not sync.
    later = {"dataclasses", "inspect", "tempfile", "random", "hashlib", "subprocess", "shutil",
             "aprender_shell.sync.state", "aprender_shell.sync.layout",
             "aprender_shell.sync.keys", "aprender_shell.model.training.train"}
    assert imported.isdisjoint(later), sorted(imported & later)


def test_a_server_start_as_the_shells_run_it_imports_no_click_and_says_what_click_says(
    history: Path,
) -> None:
    # The shells ask for the line being typed once 'server start' ends: click and the
    # command line (with launcher's dataclass, inspect) cost that start 30 ms and more.
    train = run("train", "--history", str(history))  # the default model, as the shells use
    assert train.returncode == 0, train.stderr
    by_click = [sys.executable, "-c", "from aprender_shell.cli import main; main()"]

    def pid_of(line: str) -> str:
        return line.split("(pid ", 1)[1].split(")", 1)[0]

    try:
        slow = subprocess.run([*by_click, "server", "start"], capture_output=True, text=True,
                              timeout=120)
        assert slow.returncode == 0 and "started (pid" in slow.stdout, slow.stderr
        assert run("server", "stop").returncode == 0
        fast = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "aprender_shell", "server", "start"],
            capture_output=True, text=True, timeout=120,
        )
        assert fast.returncode == 0 and "started (pid" in fast.stdout, fast.stderr
        assert fast.stdout.replace(pid_of(fast.stdout), "N") == slow.stdout.replace(
            pid_of(slow.stdout), "N")
        imported = _imported(fast.stderr)
        assert "aprender_shell.service.launcher" in imported
        heavy = {"click", "aprender_shell.cli", "dataclasses", "inspect"}
        assert imported.isdisjoint(heavy), sorted(imported & heavy)
        again_fast = run("server", "start")
        again_slow = subprocess.run([*by_click, "server", "start"], capture_output=True,
                                    text=True, timeout=120)
        assert again_fast.returncode == again_slow.returncode == 0
        assert again_fast.stdout == again_slow.stdout
        pid = pid_of(fast.stdout)
        assert again_fast.stdout == f"aprender-shell server already running (pid {pid}).\n"
    finally:
        run("server", "stop")


def test_a_refused_server_start_says_what_click_says(tmp_path: Path) -> None:
    from aprender_shell import paths

    paths.data_dir().mkdir(parents=True, mode=0o700)
    (tmp_path / "elsewhere").mkdir()
    paths.runtime_dir().symlink_to(tmp_path / "elsewhere")  # refused: never followed
    fast = run("server", "start")
    slow = subprocess.run(
        [sys.executable, "-c", "from aprender_shell.cli import main; main()", "server", "start"],
        capture_output=True, text=True, timeout=120,
    )
    assert fast.returncode == slow.returncode == 1
    assert fast.stderr == slow.stderr and "is a symbolic link" in fast.stderr
    assert fast.stdout == slow.stdout == ""
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.parametrize("args, environment, says", [
    (["--idle-timeout", "soon"], {}, "--idle-timeout"),
    ([], {"APRENDER_SHELL_SERVER_IDLE": "-3"}, "APRENDER_SHELL_SERVER_IDLE"),
    (["--memory-limit", "lots"], {}, "--memory-limit"),
    (["--model"], {}, "--model"),
    (["--verbose"], {}, "--verbose"),
])
def test_a_bad_server_run_line_is_refused_by_the_command_line(
    model: Path, args: list[str], environment: dict[str, str], says: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aprender_shell", "server", "run", *args],
        capture_output=True, text=True, timeout=60, env={**os.environ, **environment},
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("Error: ") and says in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr

"""The predictor answers like a user expects, from a real bundle on disk."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from aprender_shell.bundle import ModelBundle
from aprender_shell.errors import BundleError, ModelNotFoundError, UsageError
from aprender_shell.model.memory import MemoryLimit
from aprender_shell.model.query.predictor import Predictor
from aprender_shell.model.training.train import train_model
from tests.model.sessions import WORKDAY, entries


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "model.apbundle"
    train_model(entries(WORKDAY * 3), path)
    return path


def texts(predictor: Predictor, prefix: str, **kwargs: object) -> list[str]:
    return [s.text for s in predictor.suggest(prefix, **kwargs)]  # type: ignore[arg-type]


def test_completes_a_word_typed_halfway(model: Path) -> None:
    with Predictor.open(model) as predictor:
        assert texts(predictor, "git c")[0] == "git commit -m fix"
        assert texts(predictor, "kub")[0].startswith("kubectl ")


def test_predicts_the_next_words_after_a_space(model: Path) -> None:
    with Predictor.open(model) as predictor:
        found = texts(predictor, "docker ")
        assert set(found) >= {"docker ps", "docker logs webapp-db"}


def test_every_suggestion_starts_with_exactly_what_was_typed(model: Path) -> None:
    with Predictor.open(model) as predictor:
        for prefix in [
            "",
            "g",
            "git",
            "git ",
            "git  c",
            "vim app/",
            "pytest tests/test_a",
            "zzz",
            "GIT",
        ]:
            for suggestion in predictor.suggest(prefix, k=10):
                assert suggestion.text.startswith(prefix)
                assert 0.0 < suggestion.score <= 1.0


def test_ranks_by_score_best_first(model: Path) -> None:
    with Predictor.open(model) as predictor:
        scores = [s.score for s in predictor.suggest("git ", k=10)]
        assert scores == sorted(scores, reverse=True)
        assert len(scores) >= 5


def test_previous_command_is_strong_context(model: Path) -> None:
    with Predictor.open(model) as predictor:
        assert texts(predictor, "", prev=["git add ."])[0] == "git commit -m fix"
        assert texts(predictor, "", prev=["git commit -m fix"])[0] == "git push"
        assert texts(predictor, "git ", prev=["cd ~/src/webapp"])[0] == "git status"
        # Without context the most used git command wins instead.
        assert texts(predictor, "git ")[0] != "git pull"


def test_unseen_command_is_completed_from_ngrams(tmp_path: Path) -> None:
    path = tmp_path / "m.apbundle"
    train_model(entries(["git commit -m fix", "git commit -m wip", "git log --oneline"] * 5), path)
    with Predictor.open(path) as predictor:
        # "git log -m" was never run; n-grams still know what follows "-m".
        found = texts(predictor, "git log -m ")
        assert found and found[0].startswith("git log -m ")
        assert found[0] in {"git log -m fix", "git log -m wip"}


def test_recorded_command_is_suggested_at_once_and_after_save(model: Path) -> None:
    with Predictor.open(model) as predictor:
        assert "terraform plan -out=tf.plan" not in texts(predictor, "ter")
        predictor.record(
            "terraform plan -out=tf.plan", cwd="/infra", exit_status=0, prev=["cd /infra"]
        )
        assert texts(predictor, "ter")[0] == "terraform plan -out=tf.plan"
        assert texts(predictor, "", prev=["cd /infra"])[0] == "terraform plan -out=tf.plan"
        predictor.save()
    with Predictor.open(model) as reopened:
        assert texts(reopened, "ter")[0] == "terraform plan -out=tf.plan"


def test_retraining_makes_the_old_journal_irrelevant(model: Path) -> None:
    with Predictor.open(model) as predictor:
        predictor.record("terraform apply")
        predictor.save()
        train_model(entries(WORKDAY), model)
        assert predictor.is_stale()
    with Predictor.open(model) as fresh:
        assert not fresh.is_stale()
        assert "terraform apply" not in texts(fresh, "t")


def test_secrets_recorded_are_never_learned_or_saved(model: Path) -> None:
    secret = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    with Predictor.open(model) as predictor:
        predictor.record(f"export GITHUB_TOKEN={secret}")
        predictor.record("git push")
        predictor.save()
        assert not any(secret in s.text for s in predictor.suggest("export", k=20))
    journal = model.with_name(model.name + ".journal")
    assert secret not in journal.read_text()
    assert oct(journal.stat().st_mode & 0o777) == "0o600"


def test_model_file_is_private(model: Path) -> None:
    assert oct(model.stat().st_mode & 0o777) == "0o600"


def test_missing_model_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="run 'aprender-shell train' first"):
        Predictor.open(tmp_path / "nope.apbundle")


def test_corrupt_segment_is_reported_not_crashed(model: Path) -> None:
    data = bytearray(model.read_bytes())
    bundle = ModelBundle.load(model)
    target = next(n for n in bundle.model_names() if n.startswith("cmd/"))
    # Flip a byte in the middle of the file region holding that segment's bytes.
    offset = bytes(data).find(bundle.get_model(target)[8:40])
    assert offset > 0
    data[offset + 4] ^= 0xFF
    model.write_bytes(bytes(data))
    with Predictor.open(model) as predictor, pytest.raises(BundleError, match="checksum|corrupt"):
        predictor.suggest("git ")


@pytest.mark.parametrize("junk", [b"", b"APBUNDLE", b"not a bundle at all" * 10])
def test_garbage_file_is_a_clear_bundle_error(tmp_path: Path, junk: bytes) -> None:
    path = tmp_path / "model.apbundle"
    path.write_bytes(junk)
    with pytest.raises(BundleError):
        Predictor.open(path)


def test_hostile_prefixes_never_crash(model: Path) -> None:
    with Predictor.open(model) as predictor:
        for prefix in [
            "\x00",
            "\x1b[31m",
            "\ud800",
            "a" * 100_000,
            "$(rm -rf /)",
            "\n\n",
            "\U0010ffff",
        ]:
            for suggestion in predictor.suggest(prefix):
                assert suggestion.text.startswith(prefix)


def test_ngram_size_is_validated(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="between 2 and 5"):
        train_model(entries(WORKDAY), tmp_path / "m.apbundle", ngram=7)


def _synthetic(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    verbs = ["git", "docker", "kubectl", "make", "ls", "cd", "vim", "grep", "cargo", "npm"]
    commands = []
    for _ in range(count):
        verb = rng.choice(verbs)
        args = " ".join(f"arg{rng.randint(0, 400)}" for _ in range(rng.randint(0, 3)))
        commands.append(f"{verb} {args}".strip())
    return commands


def test_answers_do_not_depend_on_how_finely_the_model_is_segmented(tmp_path: Path) -> None:
    history = entries(_synthetic(6000, seed=3))
    whole, split = tmp_path / "whole.apbundle", tmp_path / "split.apbundle"
    train_model(history, whole, memory_limit=MemoryLimit(64 * 2**20))
    train_model(history, split, memory_limit=MemoryLimit(128 * 1024))
    split_bundle = ModelBundle.load(split)
    budget = MemoryLimit(128 * 1024).segment_bytes
    segments = [n for n in split_bundle.model_names() if n.startswith("cmd/")]
    assert len(segments) > 3, "the small limit must split the commands into several segments"
    assert all(
        split_bundle.model_size(n) <= budget for n in split_bundle.model_names() if n != "index"
    )
    commands = [entry.command for entry in history]
    # every one- and two-character prefix and every first word: many fall on segment bounds
    prefixes = sorted({c[:n] for c in commands for n in (0, 1, 2)} | {
        c.split(" ")[0] + " " for c in commands
    } | {"git arg1", "docker arg2", "vim arg39", "zz"})
    with Predictor.open(whole) as a, Predictor.open(split, MemoryLimit(128 * 1024)) as b:
        for prefix in prefixes:
            assert texts(a, prefix, k=3) == texts(b, prefix, k=3), prefix
            assert b.stats().loaded_bytes <= 128 * 1024


def test_a_limit_below_the_largest_segment_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "m.apbundle"
    train_model(entries(_synthetic(20_000, seed=5)), path)  # segments sized for 16 MB
    with pytest.raises(UsageError, match="retrain with 'aprender-shell train --memory-limit"):
        Predictor.open(path, MemoryLimit(128 * 1024))
    train_model(entries(_synthetic(20_000, seed=5)), path, memory_limit=MemoryLimit(128 * 1024))
    with Predictor.open(path, MemoryLimit(128 * 1024)) as predictor:
        assert predictor.suggest("git")


def test_a_new_command_reuses_an_argument_of_the_last_ones(model: Path) -> None:
    with Predictor.open(model) as predictor:
        predictor.record("vim app/notifier/form.py")
        predictor.record("pytest tests/test_form.py")
        # Never run whole: the file just edited is the likely one to add.
        assert texts(predictor, "git add a")[0] == "git add app/notifier/form.py"
        assert "git add app/notifier/form.py" in texts(predictor, "git add ")
        # A mistyped command comes back corrected, arguments and all.
        predictor.record("igt checkout -b fix/form-errors")
        assert texts(predictor, "git checkout -b fi")[0] == "git checkout -b fix/form-errors"
        # Subcommands and other words are left to the history and the n-grams.
        assert "docker pytest" not in " ".join(texts(predictor, "docker "))
        for prefix in ("git add a", "git add ", "kubectl ", "vim 'app", "git add app/x"):
            for suggestion in predictor.suggest(prefix):
                assert suggestion.text.startswith(prefix)
                assert 0.0 < suggestion.score <= 1.0


def test_the_last_trained_commands_are_remembered_without_any_recorded(tmp_path: Path) -> None:
    path = tmp_path / "m.apbundle"
    train_model(entries(WORKDAY * 3 + ["vim app/notifier/form.py"]), path)
    with Predictor.open(path) as predictor:
        assert texts(predictor, "git add a")[0] == "git add app/notifier/form.py"


def test_a_word_the_longest_context_never_saw_is_completed_from_a_shorter_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.apbundle"
    history = ["git log --oneline", "tig log --graph"] * 5 + [f"ls dir{n}" for n in range(20)]
    train_model(entries(history), path)
    with Predictor.open(path) as predictor:
        # After "tig log" only --graph was seen; after "log", --oneline too.
        assert texts(predictor, "tig log --one")[0] == "tig log --oneline"


def test_quoted_strings_numbers_and_pipelines_are_not_reused(model: Path) -> None:
    with Predictor.open(model) as predictor:
        predictor.record("python3 -c 'print(7 * 23)'")
        predictor.record("ping -c 3 staging.example.com | tee ping.log")
        suggested = " ".join(texts(predictor, "vim ", k=10))
        assert "print(" not in suggested and "vim 3" not in suggested
        assert "vim ping.log" in suggested
        assert "staging.example.com" not in suggested  # a host is no file to edit
        hosts = texts(predictor, "ping ", k=10)
        assert "ping staging.example.com" in hosts  # where hosts go, it is offered
        assert "ping staging.example.com |" not in " ".join(hosts)


def test_arguments_are_reused_only_where_the_command_takes_them(model: Path) -> None:
    with Predictor.open(model) as predictor:
        predictor.record("vim app/notifier/form.py")
        # after "git " come subcommands, never a file: the history answers
        assert all("form.py" not in text for text in texts(predictor, "git ", k=3))
        assert "git add app/notifier/form.py" in texts(predictor, "git add ", k=3)


def _commit_habit(rounds: int = 30) -> list[str]:
    """Every ``git add -A`` is followed by a commit whose message is new each time."""
    commands: list[str] = []
    for number in range(rounds):
        commands += ["git status", f"vim src/mod{number % 7}.py", "git status", "git diff",
                     "git add -A", f'git commit -m "change number {number}"', "git status",
                     "make test"]
    return commands


def test_after_git_add_an_empty_line_suggests_a_commit(tmp_path: Path) -> None:
    path = tmp_path / "model.apbundle"
    train_model(entries(_commit_habit()), path)
    with Predictor.open(path) as predictor:
        # 'git status' is far more frequent, but it never follows 'git add -A'
        assert texts(predictor, "", prev=["git diff", "git add -A"])[0].startswith(
            "git commit -m "
        )
        assert texts(predictor, "g", prev=["git diff", "git add -A"])[0].startswith(
            "git commit -m "
        )
        assert texts(predictor, "", prev=["git commit -m x"])[0] == "git status"


def test_what_followed_a_command_last_time_comes_first(tmp_path: Path) -> None:
    path = tmp_path / "model.apbundle"
    train_model(entries(WORKDAY), path)
    with Predictor.open(path) as predictor:
        for step in ("vim app/cli.py", "cargo run -- --fast", "vim app/cli.py"):
            predictor.record(step, prev=["x"])
        predictor.record("cargo run -- --fast", prev=["vim app/cli.py"])
        assert texts(predictor, "", prev=["vim app/cli.py"])[0] == "cargo run -- --fast"


def test_paths_are_offered_only_where_they_exist(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "app.py").write_text("print()\n")
    path = tmp_path / "model.apbundle"
    train_model(entries(WORKDAY), path)
    cwd = str(project)
    with Predictor.open(path) as predictor:
        for command in ("vim app.py", "kubectl config use-context staging",
                        "kubectl logs redis-0"):
            predictor.record(command, cwd=cwd)
        for prefix in ("cd ", "vim ", "git add ", "cd r", "vim u"):
            for text in texts(predictor, prefix, cwd=cwd, k=10):
                assert "redis-0" not in text and "use-context" not in text, (prefix, text)
                assert "app/" not in text  # WORKDAY's files do not exist here
        assert "vim app.py" in texts(predictor, "vim ", cwd=cwd)
        assert "git add app.py" in texts(predictor, "git add ", cwd=cwd)
        # without a directory to check against, nothing is filtered
        assert "vim app/auth.py" in texts(predictor, "vim app/", k=10)

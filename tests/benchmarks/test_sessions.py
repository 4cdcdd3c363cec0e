"""The session generator: deterministic, shaped like real use, and readable by our parser."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Callable

import pytest

from aprender_shell.history.files import read_history
from aprender_shell.history.formats import HistoryEntry, parse_history
from aprender_shell.history.secrets import contains_secret
from benchmarks import sessions
from benchmarks.sessions import (
    PERSONAS,
    SessionCommand,
    generate_sessions,
    write_bash_history,
    write_fish_history,
    write_sample_history,
    write_zsh_history,
)


def novelty(commands: list[SessionCommand]) -> float:
    """The share of commands never run before them."""
    seen: set[str] = set()
    new = 0
    for item in commands:
        if item.command not in seen:
            new += 1
            seen.add(item.command)
    return new / len(commands)


@pytest.fixture(scope="module")
def developer() -> list[SessionCommand]:
    return generate_sessions(10_000, seed=11)


def test_same_seed_same_sessions_and_another_seed_differs() -> None:
    assert generate_sessions(2000, seed=3) == generate_sessions(2000, seed=3)
    assert generate_sessions(2000, seed=3) != generate_sessions(2000, seed=4)


@pytest.mark.parametrize("persona", PERSONAS)
def test_exact_length_and_increasing_time(persona: str) -> None:
    commands = generate_sessions(3000, seed=1, persona=persona)
    assert len(commands) == 3000
    assert all(a.timestamp < b.timestamp for a, b in zip(commands, commands[1:]))
    gaps = [b.timestamp - a.timestamp for a, b in zip(commands, commands[1:])]
    assert sum(gap < 60 for gap in gaps) > len(gaps) / 2  # bursts within a session
    assert any(gap > 8 * 3600 for gap in gaps)  # nights between days
    assert all(item.command and item.cwd.startswith("/") for item in commands)


def test_no_commands_for_zero_and_unknown_persona_is_refused() -> None:
    assert generate_sessions(0) == []
    with pytest.raises(ValueError, match="persona"):
        generate_sessions(10, persona="pilot")


@pytest.mark.parametrize("persona", PERSONAS)
def test_repeats_and_a_long_tail(persona: str) -> None:
    commands = generate_sessions(10_000, seed=2, persona=persona)
    assert 0.12 <= novelty(commands) <= 0.33
    counts = Counter(item.command for item in commands)
    assert counts.most_common(1)[0][1] > 100
    assert sum(1 for count in counts.values() if count == 1) > 1000


def test_personas_use_different_tools() -> None:
    def top(persona: str) -> set[str]:
        counts = Counter(c.command for c in generate_sessions(5000, seed=5, persona=persona))
        return {command for command, _ in counts.most_common(30)}

    developer, ops, data = top("developer"), top("ops"), top("data")
    assert any(command.startswith("kubectl get pods -n") for command in ops)
    assert "jupyter lab" in data
    assert not any(command.startswith(("jupyter", "terraform")) for command in developer)
    assert len(developer & ops) < 10 and len(developer & data) < 15


def test_vocabulary_drifts_so_recency_matters(developer: list[SessionCommand]) -> None:
    quarter = len(developer) // 4
    early = {item.command for item in developer[:quarter]}
    late = [item.command for item in developer[-quarter:]]
    unseen = sum(command not in early for command in late) / len(late)
    assert unseen > 0.3
    branches = [item.command for item in developer if item.command.startswith("git checkout -b")]
    assert len(set(branches)) > 20


def test_typos_are_followed_by_the_corrected_command(developer: list[SessionCommand]) -> None:
    typos = [i for i, item in enumerate(developer[:-1]) if item.exit_status == 127]
    assert len(typos) > 20
    for i in typos:
        typo, fixed = developer[i].command.split(" ", 1), developer[i + 1].command.split(" ", 1)
        assert typo[0] != fixed[0] and typo[1:] == fixed[1:]


def test_cd_moves_the_following_commands(developer: list[SessionCommand]) -> None:
    moves = [
        (item, after) for item, after in zip(developer, developer[1:])
        if item.command.startswith("cd ~/src/") and after.timestamp - item.timestamp < 3600
    ]
    assert len(moves) > 50
    for item, after in moves:
        assert after.cwd == "/home/dev/src/" + item.command.split("~/src/", 1)[1]


@pytest.mark.slow  # a whole benchmark run, end to end
def test_a_million_commands_is_practical() -> None:
    # Benchmarks generate this many; the list must come out whole and distinct in time.
    commands = generate_sessions(1_000_000, seed=9)
    assert len(commands) == 1_000_000
    assert commands[-1].timestamp > commands[0].timestamp


TRICKY: list[SessionCommand | str] = [
    SessionCommand("git status", 1_709_542_800, "/src"),
    "echo plain string",
    SessionCommand('printf "%s\\n" caf\u00e9 \u2014 \u20ac', 1_709_542_900, "/src"),
    SessionCommand("for f in *.py\ndo wc -l $f\ndone", 1_709_543_000, "/src"),
    SessionCommand("echo 'a\\b'", 1_709_543_100, "/src"),
]


def entries(commands: list[SessionCommand | str]) -> list[tuple[str, int | None]]:
    return [
        (item, None) if isinstance(item, str) else (item.command, item.timestamp)
        for item in commands
    ]


def parsed(path: Path, fmt: str) -> list[tuple[str, int | None]]:
    return [(entry.command, entry.timestamp) for entry in parse_history(path.read_bytes(), fmt)]


def test_zsh_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "zsh_history"
    write_zsh_history(path, TRICKY)
    expected = entries(TRICKY)
    expected[1] = (expected[1][0], expected[0][1])  # zsh needs a time: the one before
    assert parsed(path, "zsh") == expected
    assert parse_history(path.read_bytes()) == parse_history(path.read_bytes(), "zsh")


def test_fish_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "fish_history"
    write_fish_history(path, TRICKY)
    assert parsed(path, "fish") == entries(TRICKY)
    assert parse_history(path.read_bytes()) == parse_history(path.read_bytes(), "fish")


def test_bash_round_trip(tmp_path: Path) -> None:
    # bash stores a multi-line command as separate lines, so only single lines round-trip.
    single = [item for item, (command, _) in zip(TRICKY, entries(TRICKY)) if "\n" not in command]
    path = tmp_path / "bash_history"
    write_bash_history(path, single)
    assert parsed(path, "bash") == entries(single)
    assert parse_history(path.read_bytes()) == parse_history(path.read_bytes(), "bash")


@pytest.mark.parametrize(
    ("writer", "fmt"),
    [(write_zsh_history, "zsh"), (write_bash_history, "bash"), (write_fish_history, "fish")],
)
def test_generated_sessions_round_trip(
    tmp_path: Path, writer: Callable[[Path, list[SessionCommand]], None], fmt: str
) -> None:
    commands = generate_sessions(2000, seed=4, persona="ops")
    path = tmp_path / "history"
    writer(path, commands)
    assert parse_history(path.read_bytes(), fmt) == parse_history(path.read_bytes()) == [
        HistoryEntry(item.command, item.timestamp) for item in commands
    ]


def test_shipped_sample_history_is_the_generator_output(tmp_path: Path) -> None:
    shipped = sessions.sample_history_file()
    assert write_sample_history(tmp_path / "sample").read_bytes() == shipped.read_bytes()
    history = read_history(shipped)
    assert len(history) >= 2500
    assert not [entry.command for entry in history if contains_secret(entry.command)]


def test_a_messy_user_slips_reruns_and_wanders_more() -> None:
    tidy = generate_sessions(5000, seed=4, persona="developer")
    messy = generate_sessions(5000, seed=4, persona="developer", messy=True)

    def reruns(items: list[SessionCommand]) -> int:
        return sum(a.command == b.command for a, b in zip(items, items[1:]))

    def typos(items: list[SessionCommand]) -> int:
        return sum(item.exit_status == 127 for item in items)

    def looks(items: list[SessionCommand]) -> int:
        return sum(item.command in ("ls", "ll", "ls -la", "clear", "pwd") for item in items)

    # Everyone runs about one command in twenty again at once; the messy one a little more.
    assert reruns(messy) > reruns(tidy)
    assert typos(messy) > 1.5 * typos(tidy)
    assert looks(messy) > looks(tidy) + 100
    assert novelty(messy) > novelty(tidy)


def test_the_held_out_half_has_the_facts_of_real_histories() -> None:
    from benchmarks import quality
    from benchmarks.sessions.facts import history_facts, mean_facts

    every = [
        history_facts(generate_sessions(3000, seed=seed, persona=persona,
                                        messy=seed in quality.MESSY_SEEDS))
        for persona in quality.PERSONAS for seed in quality.HELD_OUT_SEEDS
    ]
    mean = mean_facts(every)
    # Real people (13 users, 46,665 commands): about three quarters typed before, 5% again.
    assert 0.72 <= mean.typed_before <= 0.78 and 0.04 <= mean.repeats <= 0.06
    assert 0.05 <= mean.failures <= 0.10 and mean.usage_errors > 0.002
    # There, the most frequent line was the next command 14.9% of the time: a few habits
    # (ls, git status, clear) are much of what people type.
    assert mean.top_line >= 0.08
    for facts in every:
        assert 0.68 <= facts.typed_before <= 0.82, facts
        assert 0.03 <= facts.repeats <= 0.07, facts
        assert 0.02 <= facts.failures <= 0.13 and facts.not_found > 0.01, facts
        assert facts.folder_changes > 0.01, facts


def test_failures_carry_the_status_their_tool_exits_with() -> None:
    commands = generate_sessions(20_000, seed=5, persona="developer")
    by_status: dict[int, list[str]] = {}
    for item in commands:
        by_status.setdefault(item.exit_status, []).append(item.command)
    assert any(line.startswith("git ") for line in by_status[129])  # git's usage error
    assert "docker compose up -d --build" in by_status[125]  # docker's own error
    assert any(line.startswith(("pytest", "npm", "go test")) for line in by_status[1])
    for typo, fixed in zip(commands, commands[1:]):
        if typo.exit_status in (2, 129) and typo.command.startswith("git "):
            # a usage error is followed by the command meant, one word changed
            assert len(typo.command.split()) == len(fixed.command.split())


def test_arguments_change_new_hosts_come_and_folders_are_entered_and_left() -> None:
    from benchmarks.sessions.simulator import HOSTS

    commands = generate_sessions(10_000, seed=6, persona="developer", messy=True)
    hosts = {item.command.split()[1] for item in commands if item.command.startswith("ssh ")}
    assert len(hosts - set(HOSTS)) >= 2  # machines not known at the start
    for item, after in zip(commands, commands[1:]):
        if item.command == "cd tests" and after.timestamp - item.timestamp < 600:
            assert after.cwd == item.cwd + "/tests"


def test_one_generated_user_is_written_for_evaluate(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    target = tmp_path / "history"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.sessions", "--write", str(target), "--persona", "ops",
         "--seed", "3", "--commands", "500"],
        cwd=root, capture_output=True, text=True, check=True,
    )
    assert done.stdout.startswith(f"{target}: typed before ")
    assert [entry.command for entry in read_history(target)] == [
        item.command for item in generate_sessions(500, seed=3, persona="ops")
    ]

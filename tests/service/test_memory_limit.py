"""The memory limit has one home (``MemoryLimit``): one parser, bytes inside, one default, one
rule for which limit applies, shown in ``--help``."""

from __future__ import annotations

from pathlib import Path

import pytest

from aprender_shell.errors import UsageError
from aprender_shell.model.memory import MemoryLimit
from aprender_shell.paths import socket_path
from aprender_shell.service.client import Client, server_status
from aprender_shell.service.launcher import start_in_background
from tests.service.conftest import WAIT, aprender, texts

PARSED = {
    "16": 16 * 2**20,
    "0.25": 2**18,
    "0.125": MemoryLimit.MIN,
    "512K": 512 * 2**10,
    "512kib": 512 * 2**10,
    "16MB": 16 * 2**20,
    " 2 mb ": 2 * 2**20,
    "1G": 2**30,
    "300000B": 300_000,
}


@pytest.mark.parametrize(("text", "size"), PARSED.items())
def test_sizes_people_write_become_bytes(text: str, size: int) -> None:
    assert MemoryLimit.parse(text).size == size


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0.01", "too small: use at least 0.125 MB"),
        ("-4", "too small"),
        ("100B", "too small"),
        ("nan", "not a size"),
        ("inf", "not a size"),
        ("16 apples", "not a size"),
        ("", "not a size"),
        ("1e30", "too large"),
    ],
)
def test_bad_sizes_are_one_line_saying_why(text: str, says: str) -> None:
    with pytest.raises(UsageError, match=says) as caught:
        MemoryLimit.parse(text)
    assert "\n" not in str(caught.value)


def test_the_tool_default_is_16_mb_and_help_says_which_applies() -> None:
    assert MemoryLimit.default().size == 16 * 2**20
    for command in (["train"], ["evaluate"]):
        shown = " ".join(aprender(*command, "--help").stdout.split())
        assert "[default: 16 MB]" in shown, (command, shown)
    for command in (["suggest"], ["update"], ["stats"], ["server", "start"], ["server", "run"]):
        shown = " ".join(aprender(*command, "--help").stdout.split())
        assert "[default: the model's own]" in shown, (command, shown)


def test_server_start_refuses_a_tiny_limit_at_once_without_starting() -> None:
    done = aprender("server", "start", "--memory-limit", "0.01")
    assert done.returncode == 2
    assert "memory limit 0.01 MB is too small: use at least 0.125 MB" in done.stderr
    assert "Traceback" not in done.stderr
    assert server_status() is None and not socket_path().exists()


def test_the_fast_path_and_click_read_the_limit_alike(model: Path) -> None:
    # A unit the fast path understands answers there; a bad value is explained by click.
    fast = aprender("suggest", "git c", "--model", str(model), "--memory-limit", "512K")
    assert fast.returncode == 0 and fast.stdout.startswith("git commit -m fix\t")
    bad = aprender("suggest", "git c", "--model", str(model), "--memory-limit", "0.01")
    assert bad.returncode == 2 and "too small: use at least 0.125 MB" in bad.stderr


def test_a_limit_reaches_the_background_server_exactly_in_bytes(model: Path) -> None:
    limit = 300_000  # not a whole number of MB: a round trip through MB text would change it
    started = start_in_background(model, MemoryLimit(limit), wait=WAIT)
    assert started.pid is not None
    with Client(timeout=WAIT).connect() as client:
        assert texts(client.request({"prefix": "git c"}))[0] == "git commit -m fix"
        status = client.request({"status": True})["status"]
    assert status["stats"]["memory_limit"] == limit

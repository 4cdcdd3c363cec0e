"""``suggest`` and ``search`` read their options with one scanner, as click reads them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aprender_shell import ctrl_r, fastpath
from aprender_shell.argv import scan
from aprender_shell.model.training.train import train_model
from tests.model.sessions import WORKDAY, entries


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "model.apbundle"
    train_model(entries(WORKDAY * 2 + ["-k is a file", "--help me"]), path)
    return path


def test_a_prefix_after_double_dash_is_answered_alike_and_without_click(model: Path) -> None:
    from click.testing import CliRunner

    from aprender_shell.cli import cli

    # A prefix starting with a dash can only be given after "--": scripts pass every prefix so.
    for prefix in ("-", "--h", "git c"):
        args = ["suggest", "--model", str(model), "-k", "3", "--", prefix]
        fast = subprocess.run([sys.executable, "-X", "importtime", "-m", "aprender_shell", *args],
                              capture_output=True, text=True, timeout=120)
        slow = CliRunner().invoke(cli, args)
        assert slow.exit_code == fast.returncode == 0, fast.stderr
        assert fast.stdout == slow.output and fast.stdout, prefix
        imported = {line.rsplit("|", 1)[-1].strip() for line in fast.stderr.splitlines()}
        assert "click" not in imported, prefix


def test_both_commands_take_the_same_grammar() -> None:
    for args in (["--cwd=/w", "--prev", "a", "--prev=b", "q"], ["--cwd", "/w", "--prev", "a",
                                                                  "--prev", "b", "--", "q"]):
        search, suggest = ctrl_r.parse(args), fastpath._parse(args)
        assert search is not None and suggest is not None
        assert (search.query, search.prev, search.cwd) == ("q", ["a", "b"], "/w")
        assert (suggest.prefix, suggest.prev, suggest.cwd) == ("q", ["a", "b"], "/w")
    # What only click answers: help, an unknown option, a value missing, two queries.
    for args in (["--help"], ["--nope"], ["--cwd"], ["a", "b"], ["a", "--", "b"]):
        assert ctrl_r.parse(args) is None and fastpath._parse(args) is None, args
    assert ctrl_r.parse(["--here=1"]) is None  # a flag takes no value
    found = ctrl_r.parse(["--here", "--list", "--shell", "fish", "-"])
    assert found is not None and found.filters["folder"] and found.list_only
    assert (found.query, found.shell) == ("-", "fish")
    assert scan(["-x", "--", "-y"], {"-x"}) is None
    assert scan(["--", "-y", "z"], {"-x"}) == ([], ["-y", "z"])

"""The bounded read every open does: the newest ``FOLD_RECORDS`` of a journal, from its end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aprender_shell.model.learned.journal import Journal, journal_path
from aprender_shell.model.learned.newest import newest_records


def write(model: Path, body: str, generation: str = "g1") -> Journal:
    header = json.dumps({"journal": 1, "generation": generation}) + "\n"
    journal_path(model).write_text(header + body)
    return Journal(model, "g1")


def records(count: int, start: int = 0) -> str:
    return "".join(json.dumps({"c": f"echo {n}", "t": 1}) + "\n" for n in range(start, count))


@pytest.mark.parametrize("count", [0, 1, 9, 10, 11, 5000])
def test_the_newest_records_and_whether_there_are_more(tmp_path: Path, count: int) -> None:
    journal = write(tmp_path / "m", records(count))
    found, more = newest_records(journal, 10)
    assert [r["c"] for r in found] == [f"echo {n}" for n in range(max(0, count - 10), count)]
    assert more == (count > 10)
    assert [r["c"] for r in journal.records()][-10:] == [r["c"] for r in found]


def test_a_torn_last_line_and_foreign_lines_are_skipped(tmp_path: Path) -> None:
    journal = write(tmp_path / "m", records(3) + "not json\n" + records(6, 3) + '{"c": "torn')
    found, more = newest_records(journal, 4)
    assert [r["c"] for r in found] == ["echo 2", "echo 3", "echo 4", "echo 5"] and more


def test_another_generations_journal_gives_nothing(tmp_path: Path) -> None:
    assert newest_records(write(tmp_path / "m", records(30), "g0"), 10) == ([], False)


def test_a_version_0_journal_is_read_whole(tmp_path: Path) -> None:
    journal_path(tmp_path / "m").write_text(
        "".join(json.dumps({"c": f"echo {n}", "g": "g1"}) + "\n" for n in range(30))
    )
    found, more = newest_records(Journal(tmp_path / "m", "g1"), 10)
    assert [r["c"] for r in found] == [f"echo {n}" for n in range(20, 30)] and more

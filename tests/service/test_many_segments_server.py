"""A server asked to serve a model declaring 100,000 segments stays within its memory limit."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from tests.model.hostile import trained
from tests.model.store.test_many_segments import crafted
from tests.service.conftest import ServerProcess

Start = Callable[..., ServerProcess]
LIMIT_MB = 16


def test_a_server_refuses_the_model_and_stays_within_the_limit(
    tmp_path: Path, run_server: Start
) -> None:
    plain = trained(tmp_path / "plain.apbundle")
    stretched = crafted(trained(tmp_path / "crafted.apbundle"))
    baseline = run_server(plain, "--memory-limit", str(LIMIT_MB))
    base_rss = baseline.request({"status": True})["status"]["rss_bytes"]
    assert baseline.terminate() == 0
    server = run_server(stretched, "--memory-limit", str(LIMIT_MB))
    status = server.request({"status": True})["status"]
    # Before, the server held about 88 MB for this model's manifest and index under 16 MB.
    assert status["rss_bytes"] - base_rss < LIMIT_MB << 20, (status["rss_bytes"], base_rss)
    assert "manifest" in status["model_error"]
    answer = server.request({"prefix": "git "})
    assert "manifest" in answer["error"] and "memory limit" in answer["error"]

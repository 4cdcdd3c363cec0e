"""The service tests' fixtures (real models, real server processes), shared with the faults."""

from __future__ import annotations

from tests.service.conftest import model, no_daemon_left_behind, run_server

__all__ = ["model", "no_daemon_left_behind", "run_server"]

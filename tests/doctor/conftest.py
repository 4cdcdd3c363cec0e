"""The doctor's tests use the service tests' real models and real server processes."""

from __future__ import annotations

from tests.service.conftest import no_daemon_left_behind, run_server

__all__ = ["no_daemon_left_behind", "run_server"]

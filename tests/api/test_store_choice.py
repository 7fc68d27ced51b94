"""The suite runs on the store it was asked for (make proof runs it on both)."""

from __future__ import annotations

from sandbox.services import services_of
from tests.conftest import STORE


def test_the_in_process_app_runs_on_the_sessions_store(app):
    assert services_of(app).db.kind == STORE


def test_the_live_sandbox_runs_on_the_sessions_store(live):
    store = live.control("GET", "/health")
    assert store.ok
    assert any(("PostgreSQL" if STORE == "postgresql" else "SQLite") in line
               for line in live.output if "store" in line)  # fmt: skip

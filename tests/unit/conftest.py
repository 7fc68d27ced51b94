"""Services as ``create_app`` wires them, driven through the Python API (no HTTP requests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sandbox.app import create_app
from sandbox.core.clock import ClockState
from sandbox.services import Services, services_of
from sandbox.store.clock import save_clock
from tests.helpers import store_settings

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def services(tmp_path) -> Services:
    svc = services_of(create_app(store_settings(data_dir=tmp_path / "data", seed=7)))
    set_clock(svc, START)
    return svc


def set_clock(svc: Services, moment: datetime) -> None:
    """Stand the sandbox clock at ``moment`` (frozen), without delivering anything."""
    with svc.db.write() as conn:
        save_clock(conn, ClockState(frozen_at=moment))


def advance(svc: Services, seconds: float) -> None:
    set_clock(svc, svc.clock.now() + timedelta(seconds=seconds))

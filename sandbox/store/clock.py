"""The clock's shared state, kept in the store so every worker reads the same time."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from sandbox.core.clock import ClockState
from sandbox.core.timefmt import from_storage, to_storage
from sandbox.store.db import Database


def load_clock(db: Database) -> ClockState:
    return db.memo("clock", lambda: _read_clock(db))


def _read_clock(db: Database) -> ClockState:
    row = db.read().execute("SELECT frozen_at, offset_seconds FROM clock WHERE id = 1").fetchone()
    if row is None:
        return ClockState()
    frozen = from_storage(row["frozen_at"]) if row["frozen_at"] else None
    return ClockState(frozen_at=frozen, offset=timedelta(seconds=row["offset_seconds"]))


def save_clock(conn: sqlite3.Connection, state: ClockState) -> None:
    conn.execute(
        "INSERT INTO clock (id, frozen_at, offset_seconds) VALUES (1, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET frozen_at = excluded.frozen_at, "
        "offset_seconds = excluded.offset_seconds",
        (
            to_storage(state.frozen_at) if state.frozen_at else None,
            state.offset.total_seconds(),
        ),
    )

"""The clocks' shared state, kept in the store so every worker reads the same time: the global
clock (shop 0) and the clocks of shops that have their own."""

from __future__ import annotations

from datetime import timedelta

from sandbox.core.clock import ClockState
from sandbox.core.timefmt import from_storage, to_storage
from sandbox.store.db import Database
from sandbox.store.tables import Connection, Row, delete, insert, select_all

GLOBAL = 0


def load_clock(db: Database, shop_id: int | None = None) -> ClockState:
    """A shop's clock: its own when it has one, else the global clock."""
    clocks = db.memo("clocks", lambda: _read_clocks(db))
    if shop_id is not None and shop_id in clocks:
        return clocks[shop_id]
    return clocks.get(GLOBAL, ClockState())


def shop_clocks(db: Database) -> dict[int, ClockState]:
    """The shops that keep a clock of their own."""
    clocks = db.memo("clocks", lambda: _read_clocks(db))
    return {shop_id: state for shop_id, state in clocks.items() if shop_id != GLOBAL}


def _read_clocks(db: Database) -> dict[int, ClockState]:
    clocks = {}
    for row in select_all(db.read(), "clock", {}):
        try:
            clocks[row["shop_id"]] = _state(row)
        except ValueError:  # a time an older version stored unreadably: real time instead
            continue
    return clocks


def _state(row: Row) -> ClockState:
    frozen = from_storage(row["frozen_at"]) if row["frozen_at"] else None
    return ClockState(frozen_at=frozen, offset=timedelta(seconds=row["offset_seconds"]))


def save_clock(conn: Connection, state: ClockState, shop_id: int | None = None) -> None:
    insert(
        conn,
        "clock",
        {
            "shop_id": GLOBAL if shop_id is None else shop_id,
            "frozen_at": to_storage(state.frozen_at) if state.frozen_at else None,
            "offset_seconds": state.offset.total_seconds(),
        },
        conflict="ON CONFLICT (shop_id) DO UPDATE SET frozen_at = excluded.frozen_at, "
        "offset_seconds = excluded.offset_seconds",
    )


def drop_clock(conn: Connection, shop_id: int) -> None:
    """The shop follows the global clock again."""
    delete(conn, "clock", {"shop_id": shop_id})

"""The faults table: armed faults, how often each was seen and fired."""

from __future__ import annotations

from typing import Any

from sandbox.store.tables import Connection, delete, insert_returning_id, select_all, select_one


def insert_fault(conn: Connection, values: dict[str, Any]) -> int:
    return insert_returning_id(conn, "faults", {**values, "seen": 0, "fired": 0})


def list_faults(conn: Connection, armed_only: bool = False) -> list[dict[str, Any]]:
    if armed_only:
        rows = conn.execute(
            "SELECT * FROM faults WHERE remaining IS NULL OR remaining > 0 ORDER BY id"
        ).fetchall()
    else:
        rows = select_all(conn, "faults", {}, order="id")
    return [dict(row) for row in rows]


def load_fault(conn: Connection, fault_id: int) -> dict[str, Any] | None:
    row = select_one(conn, "faults", {"id": fault_id})
    return dict(row) if row else None


def delete_faults(conn: Connection, fault_id: int | None = None) -> int:
    return delete(conn, "faults", {} if fault_id is None else {"id": fault_id})


def delete_shop_faults(conn: Connection, shop_id: int) -> int:
    return delete(conn, "faults", {"shop_id": shop_id})


def count_seen(conn: Connection, fault_id: int, fired: bool) -> None:
    conn.execute(
        "UPDATE faults SET seen = seen + 1, fired = fired + ?, remaining = CASE WHEN "
        "remaining IS NULL THEN NULL ELSE remaining - ? END WHERE id = ?",
        (int(fired), int(fired), fault_id),
    )

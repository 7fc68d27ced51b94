"""The results apps reported: the first one for an object is final."""

from __future__ import annotations

import sqlite3


def insert_result(
    conn: sqlite3.Connection,
    shop_id: int,
    kind: str,
    object_id: str,
    result: bool,
    reason: str | None,
    channel_id: str | None,
    received_at: str,
) -> None:
    conn.execute(
        "INSERT INTO results (shop_id, kind, object_id, result, reason, channel_id, received_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (shop_id, kind, object_id, int(result), reason, channel_id, received_at),
    )

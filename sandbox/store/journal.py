"""The journal's tables: exchanges, and the workers that buffer them (flush epochs)."""

from __future__ import annotations

from typing import Any

from sandbox.store.tables import Connection, Scope, insert_many

COLUMNS = (
    "seq", "at", "direction", "shop_id", "payment_id", "kind", "method", "url", "path",
    "status", "duration_ms", "request_headers", "request_body", "response_headers",
    "response_body", "error", "message_id", "attempt", "fault", "violation",
)  # fmt: skip
FILTERS = ("shop_id", "payment_id", "direction", "kind", "method", "status")
LIVE_SECONDS = 3.0  # a worker silent this long is gone, and its buffer with it
FORGET_SECONDS = 3600.0  # and its row is deleted when an instance starts this long after


def insert_entries(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Rows with the values of :data:`COLUMNS`, in that order."""
    insert_many(conn, "journal", COLUMNS, rows)


def trim(conn: Connection, keep: int) -> None:
    """Oldest first: keep at most ``keep`` entries."""
    conn.execute("DELETE FROM journal WHERE id <= (SELECT MAX(id) FROM journal) - ?", (keep,))


def read_epoch(conn: Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = 'journal_epoch'").fetchone()
    return int(row[0]) if row else 0


def bump_epoch(conn: Connection, worker: str) -> int:
    """Ask every worker to flush past a new epoch; this worker has already."""
    epoch = read_epoch(conn) + 1
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('journal_epoch', ?) ON CONFLICT (key) "
        "DO UPDATE SET value = excluded.value",
        (str(epoch),),
    )
    conn.execute("UPDATE journal_workers SET acked_epoch = ? WHERE worker = ?", (epoch, worker))
    return epoch


def heartbeat(conn: Connection, worker: str, epoch: int, at: float) -> None:
    conn.execute(
        "INSERT INTO journal_workers (worker, acked_epoch, heartbeat) VALUES (?, ?, ?) "
        "ON CONFLICT (worker) DO UPDATE SET acked_epoch = excluded.acked_epoch, "
        "heartbeat = excluded.heartbeat",
        (worker, epoch, at),
    )


def forget_workers(conn: Connection, silent_since: float) -> None:
    """Workers that stopped beating before ``silent_since`` are gone for good."""
    conn.execute("DELETE FROM journal_workers WHERE heartbeat < ?", (silent_since,))


def workers_behind(conn: Connection, epoch: int, alive_since: float) -> int:
    row = conn.execute(
        "SELECT COUNT(*) FROM journal_workers WHERE acked_epoch < ? AND heartbeat > ?",
        (epoch, alive_since),
    ).fetchone()
    return int(row[0])


def _where(filters: dict[str, Any], path: str | None) -> tuple[list[str], list[Any]]:
    where, params = [], []
    for column in FILTERS:
        if filters.get(column) is not None:
            where.append(f"{column} = ?")
            params.append(filters[column])
    if path:
        where.append("path LIKE ?")
        params.append(path.replace("*", "%") if "*" in path else f"{path}%")
    return where, params


def query(
    conn: Connection, filters: dict[str, Any], path: str | None, before: int | None, limit: int
) -> list[dict[str, Any]]:
    """Newest first; ``path`` is a prefix, or a pattern with ``*``."""
    where, params = _where(filters, path)
    if before is not None:
        where.append("seq < ?")
        params.append(before)
    sql = "SELECT * FROM journal" + (" WHERE " + " AND ".join(where) if where else "")
    rows = conn.execute(sql + " ORDER BY seq DESC, id DESC LIMIT ?", (*params, limit))
    return [dict(row) for row in rows]


def count(conn: Connection, filters: dict[str, Any], path: str | None) -> int:
    where, params = _where(filters, path)
    sql = "SELECT COUNT(*) FROM journal" + (" WHERE " + " AND ".join(where) if where else "")
    return int(conn.execute(sql, params).fetchone()[0])


def shop_exchanges(conn: Connection, shop_id: int) -> list[dict[str, Any]]:
    """What contract coverage reads of a shop's exchanges, oldest first."""
    rows = Scope(conn, shop_id).query(
        "SELECT direction, kind, path, status, error, payment_id, request_body, response_body, "
        "fault, violation FROM journal WHERE shop_id = ? ORDER BY seq, id"
    )
    return [dict(row) for row in rows]


def attempts_for_payment(conn: Connection, shop_id: int, payment_id: str) -> list[dict[str, Any]]:
    """Every outbound attempt about a payment, with the side its message came from (the
    fake app's messages are ``psp.*``; a pruned message leaves its attempts in the journal)."""
    rows = Scope(conn, shop_id).query(
        "SELECT j.*, COALESCE(o.side, CASE WHEN j.kind LIKE 'psp.%' THEN 'psp' "
        "ELSE 'platform' END) AS side FROM journal j LEFT JOIN outbox o ON o.id = j.message_id "
        "WHERE j.shop_id = ? AND j.payment_id = ? AND j.direction = 'outbound' ORDER BY j.id",
        (payment_id,),
    )
    return [dict(row) for row in rows]

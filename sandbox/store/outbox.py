"""The outbox table: messages due at an instant on the sandbox clock, claimed by one sender."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.core import jsontext
from sandbox.store.tables import Connection, Row, Scope, columns_of, insert_returning_id, select_one

# Stored URLs may say this for the sandbox's own base URL, filled in when sent, so a store
# survives a change of port.
SANDBOX_URL = "{sandbox}"
_DUE = (
    "SELECT * FROM outbox WHERE (state = 'pending' AND due_at <= {now}) "
    "OR (state = 'sending' AND claimed_until < ?) ORDER BY due_at, id LIMIT ?"
)


@dataclass(frozen=True)
class Now:
    """What time it is for each message: its shop's own clock, else the global one (texts as
    stored, so they compare with ``due_at``)."""

    default: str
    by_shop: tuple[tuple[int, str], ...] = ()

    def sql(self) -> tuple[str, list[Any]]:
        if not self.by_shop:
            return "?", [self.default]
        cases = " ".join("WHEN ? THEN ?" for _ in self.by_shop)
        params = [value for pair in self.by_shop for value in pair]
        return f"(CASE shop_id {cases} ELSE ? END)", [*params, self.default]


@dataclass(frozen=True)
class Message:
    """One stored outbound request (``attempts`` counts the one being made, once claimed;
    ``max_attempts`` 0 retries until the receiver answers for good)."""

    id: int
    shop_id: int
    payment_id: str | None
    side: str
    kind: str
    method: str
    url: str
    headers: dict[str, str]
    body: str | None
    attempts: int
    max_attempts: int
    fail_attempts: int
    state: str = "pending"
    due_at: str = ""
    created_at: str = ""
    last_status: int | None = None
    last_error: str | None = None

    @property
    def out_of_attempts(self) -> bool:
        """No retry after this attempt (``max_attempts`` 0: no limit)."""
        return 0 < self.max_attempts <= self.attempts

    @classmethod
    def from_row(cls, row: Row, attempts: int | None = None) -> Message:
        return cls(
            row["id"],
            row["shop_id"],
            row["payment_id"],
            row["side"],
            row["kind"],
            row["method"],
            row["url"],
            json.loads(row["headers"]),
            row["body"],
            row["attempts"] if attempts is None else attempts,
            row["max_attempts"],
            row["fail_attempts"],
            row["state"],
            row["due_at"],
            row["created_at"],
            row["last_status"],
            row["last_error"],
        )


@dataclass(frozen=True)
class NewMessage:
    shop_id: int
    payment_id: str | None
    side: str
    kind: str
    method: str
    url: str
    body: str | None
    due_at: str
    max_attempts: int
    created_at: str
    fail_attempts: int = 0
    headers: dict[str, str] = field(default_factory=dict)


def insert_message(conn: Connection, message: NewMessage) -> int:
    return insert_returning_id(
        conn,
        "outbox",
        {
            "shop_id": message.shop_id,
            "payment_id": message.payment_id,
            "side": message.side,
            "kind": message.kind,
            "method": message.method,
            "url": message.url,
            "headers": json.dumps(message.headers),
            "body": message.body,
            "state": "pending",
            "due_at": message.due_at,
            "max_attempts": message.max_attempts,
            "fail_attempts": message.fail_attempts,
            "created_at": message.created_at,
        },
    )


def _due(now: Now, real: float, limit: int) -> tuple[str, list[Any]]:
    clause, params = now.sql()
    return _DUE.format(now=clause), [*params, real, limit]


def any_due(conn: Connection, now: Now, real: float) -> bool:
    """A plain read: the idle poll takes no write lock."""
    sql, params = _due(now, real, 1)
    return conn.execute(sql, params).fetchone() is not None


@dataclass(frozen=True)
class Claim:
    """Who claims (a process, store/db.py process_key) and until when (real time)."""

    by: str
    until: float


def claim_due(conn: Connection, now: Now, real: float, limit: int, claim: Claim) -> list[Message]:
    """Mark up to ``limit`` due messages as being sent (inside the caller's write
    transaction, so exactly one sender claims each) and return them."""
    claimed = []
    sql, params = _due(now, real, limit)
    for row in conn.execute(sql, params).fetchall():
        conn.execute(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, claimed_until = ?, "
            "claimed_by = ? WHERE id = ?",
            (claim.until, claim.by, row["id"]),
        )
        claimed.append(Message.from_row(row, attempts=row["attempts"] + 1))
    return claimed


def finish_attempt(
    conn: Connection,
    message_id: int,
    state: str,
    due_at: str | None,
    finished_at: str | None,
    status: int | None,
    error: str | None,
) -> None:
    conn.execute(
        "UPDATE outbox SET state = ?, due_at = COALESCE(?, due_at), claimed_until = NULL, "
        "finished_at = ?, last_status = ?, last_error = ? WHERE id = ? AND state = 'sending'",
        (state, due_at, finished_at, status, error, message_id),
    )


def hold_back(conn: Connection, message_id: int, due_at: str) -> None:
    """Due again later, as if this attempt had not been made."""
    conn.execute(
        "UPDATE outbox SET state = 'pending', due_at = ?, attempts = attempts - 1, "
        "claimed_until = NULL WHERE id = ?",
        (due_at, message_id),
    )


def release_claims(conn: Connection, message_ids: list[int]) -> None:
    """Claimed messages handed back unsent (a stopping process): due as they were, the
    attempt not counted."""
    marks = ", ".join("?" for _ in message_ids)
    conn.execute(
        "UPDATE outbox SET state = 'pending', attempts = attempts - 1, claimed_until = NULL "
        f"WHERE state = 'sending' AND id IN ({marks})",
        message_ids,
    )


def claimers(conn: Connection) -> list[str]:
    """The processes holding claims now."""
    rows = conn.execute(
        "SELECT DISTINCT claimed_by FROM outbox WHERE state = 'sending' AND claimed_by IS NOT NULL"
    ).fetchall()
    return [str(row[0]) for row in rows]


def release_stale_claims(
    conn: Connection, alive_since: float | None, gone: Sequence[str] = ()
) -> int:
    """Claims of processes that are gone: due again now, not when the claims would lapse.
    ``alive_since`` None: every claim (one sandbox holds the store, and it is starting);
    else those of the processes in ``gone`` and of those whose last heartbeat is older
    (instances share the store)."""
    sql = "UPDATE outbox SET state = 'pending', claimed_until = NULL WHERE state = 'sending'"
    if alive_since is None:
        return int(conn.execute(sql).rowcount)
    marks = ", ".join("?" * len(gone)) or "NULL"
    sql += (
        f" AND (claimed_by IS NULL OR claimed_by IN ({marks}) OR claimed_by NOT IN "
        "(SELECT worker FROM journal_workers WHERE heartbeat >= ?))"
    )
    return int(conn.execute(sql, (*gone, alive_since)).rowcount)


def copy_message(conn: Connection, message_id: int, now: str) -> None:
    """The same message once more, due now."""
    conn.execute(
        "INSERT INTO outbox (shop_id, payment_id, side, kind, method, url, headers, body, "
        "state, due_at, max_attempts, fail_attempts, created_at) SELECT shop_id, "
        "payment_id, side, kind, method, url, headers, body, 'pending', ?, max_attempts, 0, "
        "? FROM outbox WHERE id = ?",
        (now, now, message_id),
    )


FINISHED = ("delivered", "failed", "rejected", "cancelled")
STATES = ("pending", "sending", *FINISHED)


def prune(conn: Connection, finished_before: Now, keep: int) -> int:
    """Delete finished messages that finished before ``finished_before`` (on their shop's
    clock; a cancelled one counts from when it was due), and all but the newest ``keep``
    finished ones; pending and in-flight messages always stay. Returns how many went."""
    states = ", ".join(f"'{state}'" for state in FINISHED)
    clause, params = finished_before.sql()
    gone = conn.execute(
        f"DELETE FROM outbox WHERE state IN ({states}) "
        f"AND COALESCE(finished_at, due_at) < {clause}",
        params,
    ).rowcount
    newest_dropped = conn.execute(
        f"SELECT id FROM outbox WHERE state IN ({states}) ORDER BY id DESC LIMIT 1 OFFSET ?",
        (keep,),
    ).fetchone()
    if newest_dropped is not None:
        gone += conn.execute(
            f"DELETE FROM outbox WHERE state IN ({states}) AND id <= ?", (newest_dropped[0],)
        ).rowcount
    return int(gone)


def count_in_flight(conn: Connection, real: float) -> int:
    return _count(conn, "state = 'sending' AND claimed_until >= ?", (real,))


def count_due(conn: Connection, now: Now) -> int:
    clause, params = now.sql()
    return _count(conn, f"state = 'pending' AND due_at <= {clause}", tuple(params))


def count_pending(conn: Connection) -> int:
    return _count(conn, "state IN ('pending', 'sending')", ())


def _count(conn: Connection, where: str, params: tuple[Any, ...]) -> int:
    return int(conn.execute(f"SELECT COUNT(*) FROM outbox WHERE {where}", params).fetchone()[0])


@dataclass(frozen=True)
class MessageFilter:
    """Which messages to list; None matches any."""

    shop_id: int | None = None
    payment_id: str | None = None
    kind: str | None = None
    state: str | None = None


def list_messages(conn: Connection, match: MessageFilter, limit: int = 200) -> list[Message]:
    """Newest first."""
    where, params = [], []
    for column, value in columns_of(match).items():
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    sql = "SELECT * FROM outbox" + (" WHERE " + " AND ".join(where) if where else "")
    rows = conn.execute(sql + " ORDER BY id DESC LIMIT ?", (*params, limit)).fetchall()
    return [Message.from_row(row) for row in rows]


def waiting_for_payment(conn: Connection, shop_id: int, payment_id: str) -> list[Message]:
    """Messages about a payment not yet delivered, oldest first."""
    rows = Scope(conn, shop_id).query(
        "SELECT * FROM outbox WHERE shop_id = ? AND payment_id = ? AND state IN "
        "('pending', 'sending') ORDER BY id",
        (payment_id,),
    )
    return [Message.from_row(row) for row in rows]


def load_message(conn: Connection, message_id: int, kind: str | None = None) -> Message | None:
    where: dict[str, Any] = {"id": message_id}
    if kind is not None:
        where["kind"] = kind
    row = select_one(conn, "outbox", where)
    return Message.from_row(row) if row else None


def cancel_queries(
    conn: Connection, shop_id: int, payment_id: str, kind: str, asked: tuple[str, str] | None
) -> None:
    """Cancel the pending status queries of ``kind`` about a payment (those a result made
    needless); ``asked``: only those about this (id field, id), in the URL's query or in the
    JSON body of seed 001's example."""
    sql = (
        "UPDATE outbox SET state = 'cancelled' WHERE shop_id = ? AND payment_id = ? AND kind = ? "
        "AND state = 'pending'"
    )
    if asked is None:
        Scope(conn, shop_id).run(sql, (payment_id, kind))
        return
    name, value = asked
    Scope(conn, shop_id).run(
        sql + " AND (url LIKE ? OR body = ?)",
        (payment_id, kind, f"%{name}={value}%", jsontext.dumps({name: value})),
    )


def cancel_pending(conn: Connection, kind: str, header: str, value: str) -> None:
    """Cancel the pending messages of ``kind`` whose ``header`` has ``value``."""
    conn.execute(
        "UPDATE outbox SET state = 'cancelled' WHERE kind = ? AND state = 'pending' "
        "AND headers LIKE ?",
        (kind, f'%"{header}": "{value}"%'),
    )

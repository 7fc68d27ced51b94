"""The platform's tables: shops, apps, tokens, orders, payments, operations, history, results,
rate buckets and webhook subscriptions. Seeding and the live path call the same inserts."""

from __future__ import annotations

import json

from sandbox.core.timefmt import to_storage
from sandbox.store import psp  # the fake app's tables live beside, keyed by domain
from sandbox.store.records import (
    App,
    NewApp,
    NewOperation,
    NewPayment,
    NewShop,
    Operation,
    Order,
    Payment,
    Result,
    Shop,
    Step,
    Subscriber,
    Token,
    Violation,
    Webhook,
)
from sandbox.store.tables import (
    Connection,
    Row,
    Scope,
    columns_of,
    delete,
    insert_numbered,
    select_all,
    select_one,
)

# Tables holding one shop's data, in the order a reset deletes them.
SHOP_TABLES = (
    "history",
    "results",
    "operations",
    "payments",
    "orders",
    "tokens",
    "apps",
    "journal",
    "outbox",
    "rate_buckets",
    "webhooks",
    "violations",
    "psp_installations",
)

# ---- shops ------------------------------------------------------------------------------------


def list_shops(conn: Connection) -> list[Shop]:
    return [Shop.from_row(row) for row in select_all(conn, "shops", {}, order="id")]


def shop_handles(conn: Connection) -> list[str]:
    return [row["handle"] for row in select_all(conn, "shops", {}, order="id", columns="handle")]


def count_shops(conn: Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM shops").fetchone()[0])


def find_shop(conn: Connection, handle: str) -> Shop | None:
    row = select_one(conn, "shops", {"handle": handle})
    return Shop.from_row(row) if row else None


def load_shop(conn: Connection, shop_id: int) -> Shop | None:
    row = select_one(conn, "shops", {"id": shop_id})
    return Shop.from_row(row) if row else None


def shop_id_by_domain(conn: Connection, domain: str) -> int | None:
    row = select_one(conn, "shops", {"domain": domain}, columns="id")
    return int(row[0]) if row else None


def insert_shop(conn: Connection, shop: NewShop) -> int:
    values = columns_of(shop)
    values["credentials"] = json.dumps(shop.credentials)
    values["shop_header"], values["strict"] = int(shop.shop_header), int(shop.strict)
    return insert_numbered(conn, "shops", values)


# What happened, as opposed to what is: a snapshot import may keep these for the shop it replaces.
LOG_TABLES = ("journal", "history", "outbox")


def delete_shop(conn: Connection, shop_id: int, keep_logs: bool = False) -> None:
    clear_shop(conn, shop_id, keep_logs)
    delete(conn, "shops", {"id": shop_id})


def clear_shop(conn: Connection, shop_id: int, keep_logs: bool = False) -> None:
    """Every row of one shop, on both sides (the fake app's rows by the shop's domain); with
    ``keep_logs``, its journal, history and outbox stay (for :func:`adopt_logs`)."""
    shop = load_shop(conn, shop_id)
    if shop is not None:
        psp.clear_domain(conn, shop.domain)
    for table in SHOP_TABLES:
        if not (keep_logs and table in LOG_TABLES):
            Scope(conn, shop_id).delete(table)
    Scope(conn, shop_id).delete("clock")  # it follows the global clock again


def last_history_seq(conn: Connection) -> int:
    """Where the history stands: steps written later have a larger ``seq``."""
    row = conn.execute("SELECT MAX(seq) FROM history").fetchone()
    return int(row[0] or 0)


def adopt_logs(conn: Connection, old_shop_id: int, new_shop_id: int, seeded_after: int) -> int:
    """A replaced shop's journal, history and outbox become its replacement's (the old history
    stands for the objects it knows). What was still to be sent is cancelled: it belongs to
    the state that was replaced. Returns how many messages were cancelled."""
    # The import seeded a "fixture" step (after ``seeded_after``) for every object; one the
    # old history already tells the story of keeps that story alone. (The new shop may have
    # the old one's id: the steps are told apart by when they were written.)
    conn.execute(
        "DELETE FROM history WHERE shop_id = ? AND seq > ? AND event = 'fixture' AND EXISTS "
        "(SELECT 1 FROM history h WHERE h.shop_id = ? AND h.seq <= ? AND h.kind = history.kind "
        "AND h.object_id = history.object_id)",
        (new_shop_id, seeded_after, old_shop_id, seeded_after),
    )
    cancelled = conn.execute(
        "UPDATE outbox SET state = 'cancelled', claimed_until = NULL "
        "WHERE shop_id = ? AND state IN ('pending', 'sending')",
        (old_shop_id,),
    ).rowcount
    for table in LOG_TABLES:
        conn.execute(
            f"UPDATE {table} SET shop_id = ? WHERE shop_id = ?", (new_shop_id, old_shop_id)
        )
    return int(cancelled)


def wipe_shops(conn: Connection) -> None:
    """Every shop and everything in them (both sides)."""
    for table in SHOP_TABLES:
        delete(conn, table, {})
    psp.clear_all(conn)
    conn.execute("DELETE FROM clock WHERE shop_id <> 0")  # shops' own clocks; not the global
    delete(conn, "shops", {})


# ---- apps and tokens --------------------------------------------------------------------------


def list_apps(conn: Connection, shop_id: int) -> list[App]:
    return [App.from_row(row) for row in Scope(conn, shop_id).all("apps", order="id")]


def find_app(conn: Connection, shop_id: int, name: str) -> App | None:
    row = Scope(conn, shop_id).one("apps", name=name)
    return App.from_row(row) if row else None


def load_app(conn: Connection, app_id: int) -> App | None:
    row = select_one(conn, "apps", {"id": app_id})
    return App.from_row(row) if row else None


def app_by_client_id(conn: Connection, client_id: str) -> App | None:
    row = select_one(conn, "apps", {"client_id": client_id})
    return App.from_row(row) if row else None


def insert_app(conn: Connection, app: NewApp) -> int:
    values = columns_of(app)
    values["urls"] = json.dumps(app.urls)
    values["activated"] = int(app.activated)
    return Scope(conn, app.shop_id).insert_numbered("apps", values)


def set_app_activated(conn: Connection, app_id: int, ready: bool, at: str | None) -> None:
    conn.execute(
        "UPDATE apps SET activated = ?, activated_at = ? WHERE id = ?", (int(ready), at, app_id)
    )


def load_token(conn: Connection, token: str) -> Token | None:
    row = select_one(conn, "tokens", {"token": token})
    return Token.from_row(row) if row else None


def insert_token(conn: Connection, token: Token) -> None:
    values = columns_of(token)
    values.pop("app_name")
    Scope(conn, token.shop_id).insert("tokens", values)


def delete_token(conn: Connection, token: Token) -> None:
    Scope(conn, token.shop_id).delete("tokens", token=token.token)


def revoke_app_tokens(conn: Connection, shop_id: int, app_id: int, at: str) -> None:
    for token in Scope(conn, shop_id).all("tokens", app_id=app_id):
        if token["revoked_at"] is None:
            Scope(conn, shop_id).update("tokens", {"revoked_at": at}, token=token["token"])


def list_tokens(conn: Connection, shop_id: int, live_only: bool = False) -> list[Token]:
    """A shop's tokens in the order they were made, each with its app's name."""
    sql = (
        "SELECT t.*, a.name AS app FROM tokens t LEFT JOIN apps a ON a.id = t.app_id "
        "WHERE t.shop_id = ?"
    )
    if live_only:
        sql += " AND t.revoked_at IS NULL"
    return [Token.from_row(row) for row in Scope(conn, shop_id).query(sql + " ORDER BY t.rowid")]


def first_token_with_scope(conn: Connection, scope: str) -> str | None:
    row = conn.execute(
        "SELECT token FROM tokens WHERE scopes LIKE ? ORDER BY rowid", (f"%{scope}%",)
    ).fetchone()
    return str(row[0]) if row else None


# ---- orders and payments ----------------------------------------------------------------------


def next_order_id(conn: Connection, shop_id: int) -> int:
    rows = Scope(conn, shop_id).query(
        "SELECT COALESCE(MAX(id), 1000) + 1 FROM orders WHERE shop_id = ?"
    )
    return int(rows[0][0])


def next_legacy_id(conn: Connection, shop_id: int) -> int:
    rows = Scope(conn, shop_id).query(
        "SELECT COALESCE(MAX(legacy_id), 0) + 1 FROM payments WHERE shop_id = ?"
    )
    return int(rows[0][0])


def insert_order(conn: Connection, order: Order) -> None:
    Scope(conn, order.shop_id).insert(
        "orders", {"id": order.id, "order_no": order.order_no, "created_at": order.created_at}
    )


def load_order(conn: Connection, shop_id: int, order_id: int) -> Order | None:
    row = Scope(conn, shop_id).one("orders", id=order_id)
    return _order(row) if row else None


def list_orders(conn: Connection, shop_id: int) -> list[Order]:
    return [_order(row) for row in Scope(conn, shop_id).all("orders", order="id")]


def _order(row: Row) -> Order:
    return Order(row["shop_id"], row["id"], row["order_no"], row["created_at"])


def insert_payment(conn: Connection, payment: NewPayment) -> None:
    values = columns_of(payment)
    values["method"] = json.dumps(payment.method, sort_keys=True)
    values["app_answer"] = json.dumps(payment.app_answer) if payment.app_answer else None
    for flag in ("manual_capture", "test", "pay_by_other"):
        values[flag] = int(values[flag])
    Scope(conn, payment.shop_id).insert("payments", values)


def load_payment(conn: Connection, shop_id: int, payment_id: str) -> Payment | None:
    row = Scope(conn, shop_id).one("payments", payment_id=payment_id)
    return Payment.from_row(row) if row else None


def load_payment_with_context(
    conn: Connection, shop_id: int, payment_id: str
) -> tuple[Payment, str, Shop] | None:
    """A payment with its order number and its shop, in one query (the hot read path)."""
    rows = Scope(conn, shop_id).query(
        "SELECT p.*, o.order_no, s.id AS s_id, s.handle, s.name, s.domain, s.utc_offset, "
        "s.currency AS s_currency, s.fee_rule, s.template FROM payments p "
        "JOIN shops s ON s.id = p.shop_id LEFT JOIN orders o "
        "ON o.shop_id = p.shop_id AND o.id = p.order_id WHERE p.shop_id = ? AND p.payment_id = ?",
        (payment_id,),
    )
    if not rows:
        return None
    row = rows[0]
    shop = Shop(
        row["s_id"],
        row["handle"],
        row["name"],
        row["domain"],
        row["utc_offset"],
        row["s_currency"],
        row["fee_rule"],
        row["template"],
        {},
    )
    return Payment.from_row(row), row["order_no"] or str(row["order_id"]), shop


def list_shop_payments(conn: Connection, shop_id: int) -> list[Payment]:
    """Every payment of a shop, by order then as ``load_order_payments`` sorts them."""
    rows = Scope(conn, shop_id).all("payments", order="order_id, created_at, legacy_id")
    return [Payment.from_row(r) for r in rows]


def recent_payments(conn: Connection, shop_id: int, limit: int) -> list[tuple[Payment, int]]:
    """A shop's newest payments, each with how many contract violations it has."""
    rows = Scope(conn, shop_id).query(
        "SELECT p.*, (SELECT COUNT(*) FROM violations v WHERE v.shop_id = p.shop_id "
        "AND v.payment_id = p.payment_id) AS violation_count FROM payments p "
        "WHERE p.shop_id = ? ORDER BY p.created_at DESC, p.rowid DESC LIMIT ?",
        (limit,),
    )
    return [(Payment.from_row(r), int(r["violation_count"])) for r in rows]


def load_order_payments(conn: Connection, shop_id: int, order_id: int) -> list[Payment]:
    rows = Scope(conn, shop_id).all("payments", order="created_at, legacy_id", order_id=order_id)
    return [Payment.from_row(r) for r in rows]


def save_payment_state(conn: Connection, payment: Payment) -> None:
    """A payment's state, money and channel id after a transition."""
    Scope(conn, payment.shop_id).update(
        "payments",
        {
            "state": payment.state,
            "state_entered_at": to_storage(payment.state_entered_at),
            "captured_amount": str(payment.captured),
            "refunded_amount": str(payment.refunded),
            "paid_at": to_storage(payment.paid_at) if payment.paid_at else None,
            "updated_at": to_storage(payment.updated_at),
            "channel_payment_id": payment.channel_payment_id,
        },
        payment_id=payment.payment_id,
    )


def set_app_answer(conn: Connection, shop_id: int, payment_id: str, answer: object) -> None:
    Scope(conn, shop_id).update(
        "payments", {"app_answer": json.dumps(answer)}, payment_id=payment_id
    )


def first_payment_id(conn: Connection) -> str | None:
    row = conn.execute("SELECT payment_id FROM payments ORDER BY rowid LIMIT 1").fetchone()
    return str(row[0]) if row else None


# ---- operations, history, results -------------------------------------------------------------


def insert_operation(conn: Connection, operation: NewOperation) -> None:
    values = columns_of(operation)
    values["state_entered_at"] = values["updated_at"] = operation.created_at
    Scope(conn, operation.shop_id).insert("operations", values)


def load_operation(
    conn: Connection, shop_id: int, kind: str, operation_id: str
) -> Operation | None:
    row = Scope(conn, shop_id).one("operations", kind=kind, operation_id=operation_id)
    return Operation.from_row(row) if row else None


def list_shop_operations(conn: Connection, shop_id: int) -> list[Operation]:
    """Every capture, void and refund of a shop, each payment's in the order requested."""
    rows = Scope(conn, shop_id).all("operations", order="payment_id, created_at, rowid")
    return [Operation.from_row(row) for row in rows]


def list_operations(conn: Connection, shop_id: int, payment_id: str) -> list[Operation]:
    """A payment's captures, voids and refunds, in the order they were requested."""
    rows = Scope(conn, shop_id).all("operations", order="created_at, rowid", payment_id=payment_id)
    return [Operation.from_row(row) for row in rows]


def operation_payment_id(
    conn: Connection, shop_id: int, kind: str, operation_id: str
) -> str | None:
    row = Scope(conn, shop_id).one(
        "operations", columns="payment_id", kind=kind, operation_id=operation_id
    )
    return str(row[0]) if row else None


def save_operation_state(conn: Connection, operation: Operation) -> None:
    Scope(conn, operation.shop_id).update(
        "operations",
        {
            "state": operation.state,
            "state_entered_at": to_storage(operation.state_entered_at),
            "channel_id": operation.channel_id,
            "updated_at": to_storage(operation.state_entered_at),
        },
        kind=operation.kind,
        operation_id=operation.operation_id,
    )


def insert_step(conn: Connection, step: Step) -> None:
    values = columns_of(step)
    Scope(conn, step.shop_id).insert("history", values)


def list_steps(conn: Connection, shop_id: int, payment_id: str) -> list[Step]:
    rows = Scope(conn, shop_id).all("history", order="seq", payment_id=payment_id)
    return [
        Step(
            r["shop_id"],
            r["kind"],
            r["object_id"],
            r["payment_id"],
            r["event"],
            r["from_state"],
            r["to_state"],
            r["at"],
            r["cause"],
        )
        for r in rows
    ]


def query_settled_payments(conn: Connection, shop_id: int) -> set[str]:
    """The shop's payments whose result came from a status query (Get payment), not a
    callback."""
    rows = Scope(conn, shop_id).query(
        "SELECT DISTINCT payment_id FROM history WHERE shop_id = ? AND kind = 'payment' "
        "AND cause LIKE 'Get payment:%'"
    )
    return {row["payment_id"] for row in rows}


def insert_result(conn: Connection, result: Result) -> None:
    values = columns_of(result)
    values["result"] = int(result.result)
    Scope(conn, result.shop_id).insert("results", values)


def load_result(conn: Connection, shop_id: int, kind: str, object_id: str) -> Result | None:
    row = Scope(conn, shop_id).one("results", kind=kind, object_id=object_id)
    return _result(row) if row else None


def list_results(conn: Connection, shop_id: int) -> list[Result]:
    return [_result(row) for row in Scope(conn, shop_id).all("results")]


def _result(row: Row) -> Result:
    return Result(
        row["shop_id"],
        row["kind"],
        row["object_id"],
        bool(row["result"]),
        row["reason"],
        row["channel_id"],
        row["received_at"],
    )


# ---- contract violations ---------------------------------------------------------------------


def insert_violation(conn: Connection, violation: Violation) -> None:
    values = columns_of(violation)
    values.pop("id")
    Scope(conn, violation.shop_id).insert("violations", values)


def list_violations(
    conn: Connection, shop_id: int, payment_id: str | None = None, limit: int = 500
) -> list[Violation]:
    """Oldest first."""
    scope = Scope(conn, shop_id)
    if payment_id is None:
        found = scope.all("violations", order="id", limit=limit)
    else:
        found = scope.all("violations", order="id", limit=limit, payment_id=payment_id)
    return [Violation(**{key: row[key] for key in row.keys()}) for row in found]  # noqa: SIM118


# ---- rate buckets -----------------------------------------------------------------------------


def load_bucket(conn: Connection, shop_id: int, client: str) -> tuple[float, str] | None:
    """Tokens left and when they were counted."""
    row = Scope(conn, shop_id).one("rate_buckets", "tokens, updated_at", client=client)
    return (float(row["tokens"]), row["updated_at"]) if row else None


def save_bucket(conn: Connection, shop_id: int, client: str, tokens: float, at: str) -> None:
    Scope(conn, shop_id).insert(
        "rate_buckets",
        {"client": client, "tokens": tokens, "updated_at": at},
        conflict="ON CONFLICT (shop_id, client) DO UPDATE SET tokens = excluded.tokens, "
        "updated_at = excluded.updated_at",
    )


# ---- webhook subscriptions --------------------------------------------------------------------


def insert_webhook(
    conn: Connection,
    shop_id: int,
    app_id: int,
    address: str,
    topic: str,
    at: str,
    failures: int = 0,
    disabled_at: str | None = None,
) -> int:
    values = {"app_id": app_id, "address": address, "topic": topic, "created_at": at}
    values |= {"updated_at": at, "failures": failures, "disabled_at": disabled_at}
    return Scope(conn, shop_id).insert_returning_id("webhooks", values)


def find_webhook(
    conn: Connection, shop_id: int, app_id: int, address: str, topic: str
) -> Webhook | None:
    row = Scope(conn, shop_id).one("webhooks", app_id=app_id, address=address, topic=topic)
    return Webhook.from_row(row) if row else None


def load_webhook(conn: Connection, shop_id: int, app_id: int, webhook_id: int) -> Webhook | None:
    row = Scope(conn, shop_id).one("webhooks", id=webhook_id, app_id=app_id)
    return Webhook.from_row(row) if row else None


def list_webhooks(conn: Connection, shop_id: int, app_id: int | None = None) -> list[Webhook]:
    scope = Scope(conn, shop_id)
    found = (
        scope.all("webhooks", order="id")
        if app_id is None
        else scope.all("webhooks", order="id", app_id=app_id)
    )
    return [Webhook.from_row(r) for r in found]


def page_webhooks(
    conn: Connection,
    shop_id: int,
    app_id: int,
    after: list[int],
    before: int | None,
    limit: int,
) -> list[Webhook]:
    """Up to ``limit`` subscriptions with ids above every ``after`` and below ``before``;
    newest first when ``before`` is given (the previous page), else oldest first."""
    sql = "SELECT * FROM webhooks WHERE shop_id = ? AND app_id = ?"
    params: list[object] = [app_id]
    for bound in after:
        sql += " AND id > ?"
        params.append(bound)
    if before is not None:
        sql += " AND id < ?"
        params.append(before)
    sql += f" ORDER BY id {'DESC' if before is not None else 'ASC'} LIMIT ?"
    return [Webhook.from_row(r) for r in Scope(conn, shop_id).query(sql, (*params, limit))]


def count_webhooks(conn: Connection, shop_id: int, app_id: int) -> int:
    rows = Scope(conn, shop_id).query(
        "SELECT COUNT(*) FROM webhooks WHERE shop_id = ? AND app_id = ?", (app_id,)
    )
    return int(rows[0][0])


def change_webhook(conn: Connection, webhook_id: int, address: str, topic: str, at: str) -> None:
    """A new address or topic: the subscription starts afresh (failures forgotten)."""
    conn.execute(
        "UPDATE webhooks SET address = ?, topic = ?, updated_at = ?, failures = 0, "
        "disabled_at = NULL WHERE id = ?",
        (address, topic, at, webhook_id),
    )


def delete_webhook(conn: Connection, webhook_id: int) -> None:
    delete(conn, "webhooks", {"id": webhook_id})


def subscribers(conn: Connection, shop_id: int, topic: str) -> list[Subscriber]:
    rows = Scope(conn, shop_id).query(
        "SELECT w.id, w.address, a.client_secret, s.domain FROM webhooks w "
        "JOIN apps a ON a.id = w.app_id JOIN shops s ON s.id = w.shop_id "
        "WHERE w.shop_id = ? AND w.topic = ? AND w.disabled_at IS NULL",
        (topic,),
    )
    return [Subscriber(r["id"], r["address"], r["client_secret"], r["domain"]) for r in rows]


def webhook_delivered(conn: Connection, webhook_id: int) -> None:
    conn.execute("UPDATE webhooks SET failures = 0 WHERE id = ?", (webhook_id,))


def webhook_failed(conn: Connection, webhook_id: int) -> int:
    """Count one more failure in a row; how many there are now."""
    conn.execute("UPDATE webhooks SET failures = failures + 1 WHERE id = ?", (webhook_id,))
    row = select_one(conn, "webhooks", {"id": webhook_id}, columns="failures")
    return int(row[0]) if row else 0


def disable_webhook(conn: Connection, webhook_id: int, at: str) -> None:
    conn.execute(
        "UPDATE webhooks SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL",
        (at, webhook_id),
    )

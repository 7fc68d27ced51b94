"""Webhooks: an app's subscriptions, the events the platform emits, signed deliveries.

Deliveries go through the outbox like every other outbound request: retried with backoff on
any non-2xx answer (a redirect is a failure too), every attempt journaled. A subscription whose
deliveries fail 8 times in a row stops receiving: it is disabled and its pending deliveries
are cancelled.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

from sandbox.core.clock import Clock
from sandbox.core.timefmt import to_storage
from sandbox.errors import Conflict, Forbidden, NotFound, invalid
from sandbox.outbox import Message, Outbox, Outcome
from sandbox.platform import views
from sandbox.platform.auth import Principal
from sandbox.platform.records import load_payment_with_context
from sandbox.store.db import Database

TOPICS = {
    "orders/create": "a checkout created an order",
    "orders/paid": "an order's payment became paid",
    "payments/create": "a payment was created",
    "payments/update": "a payment changed state",
    "refunds/create": "a refund was requested",
    "refunds/update": "a refund succeeded or failed",
}
MAX_FAILURES = 8
DEFAULT_LIMIT, MAX_LIMIT = 50, 250
TOPIC_HEADER = "X-Genstore-Topic"
HMAC_HEADER = "X-Genstore-Hmac-Sha256"
SHOP_HEADER = "X-Genstore-Shop-Domain"
ID_HEADER = "X-Genstore-Webhook-Id"


def signature(raw_body: bytes, secret: str) -> str:
    """Base64 HMAC-SHA256 of the raw body, keyed by the app's client secret."""
    return base64.b64encode(hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()).decode()


class Webhooks:
    def __init__(self, db: Database, clock: Clock, outbox: Outbox):
        self.db = db
        self.clock = clock
        self.outbox = outbox
        outbox.on_attempt["webhook"] = self._after_attempt

    # ---- subscriptions ----------------------------------------------------------------------

    def create(self, principal: Principal, address: str, topic: str) -> dict[str, Any]:
        app_id = _app(principal)
        _check(address, topic)
        now = to_storage(self.clock.now())
        with self.db.write() as conn:
            if conn.execute(
                "SELECT 1 FROM webhooks WHERE shop_id = ? AND app_id = ? AND address = ? AND "
                "topic = ?",
                (principal.shop_id, app_id, address, topic),
            ).fetchone():
                raise Conflict(
                    "This address is already subscribed to this topic",
                    details={"webhook.address": ["already subscribed"]},
                )
            webhook_id = conn.execute(
                "INSERT INTO webhooks (shop_id, app_id, address, topic, created_at, updated_at, "
                "failures) VALUES (?, ?, ?, ?, ?, ?, 0)",
                (principal.shop_id, app_id, address, topic, now, now),
            ).lastrowid
        return {"webhook": self._view(self._row(principal, webhook_id))}

    def list(
        self,
        principal: Principal,
        limit: int,
        page_token: str | None,
        since_id: int | None,
        base_url: str,
    ) -> tuple[dict[str, Any], str | None]:
        """A page of subscriptions in id order, and the Link header for its neighbours."""
        app_id = _app(principal)
        direction, cursor = _parse_token(page_token)
        where, params = ["shop_id = ?", "app_id = ?"], [principal.shop_id, app_id]
        if since_id is not None:
            where.append("id > ?")
            params.append(since_id)
        if direction == "next":
            where.append("id > ?")
            params.append(cursor)
        elif direction == "previous":
            where.append("id < ?")
            params.append(cursor)
        order = "DESC" if direction == "previous" else "ASC"
        rows = (
            self.db.read()
            .execute(
                f"SELECT * FROM webhooks WHERE {' AND '.join(where)} ORDER BY id {order} LIMIT ?",
                (*params, limit + 1),
            )
            .fetchall()
        )
        more = len(rows) > limit
        rows = rows[:limit]
        if direction == "previous":
            rows.reverse()
        links = []
        query = {"limit": limit, **({"sinceId": since_id} if since_id is not None else {})}
        if rows and (direction == "next" or (direction == "previous" and more)):
            token = _token("previous", rows[0]["id"])
            links.append(f'<{base_url}?{urlencode({**query, "pageToken": token})}>; rel="previous"')
        if rows and (more if direction != "previous" else True):
            token = _token("next", rows[-1]["id"])
            links.append(f'<{base_url}?{urlencode({**query, "pageToken": token})}>; rel="next"')
        return {"webhooks": [self._view(r) for r in rows]}, ", ".join(links) or None

    def count(self, principal: Principal) -> dict[str, int]:
        row = (
            self.db.read()
            .execute(
                "SELECT COUNT(*) FROM webhooks WHERE shop_id = ? AND app_id = ?",
                (principal.shop_id, _app(principal)),
            )
            .fetchone()
        )
        return {"count": row[0]}

    def get(self, principal: Principal, webhook_id: int) -> dict[str, Any]:
        return {"webhook": self._view(self._row(principal, webhook_id))}

    def update(self, principal: Principal, webhook_id: int, changes: dict[str, Any]):
        row = self._row(principal, webhook_id)
        address = changes.get("address", row["address"])
        topic = changes.get("topic", row["topic"])
        _check(address, topic)
        with self.db.write() as conn:
            conn.execute(
                "UPDATE webhooks SET address = ?, topic = ?, updated_at = ?, failures = 0, "
                "disabled_at = NULL WHERE id = ?",
                (address, topic, to_storage(self.clock.now()), webhook_id),
            )
        return self.get(principal, webhook_id)

    def delete(self, principal: Principal, webhook_id: int) -> None:
        self._row(principal, webhook_id)
        with self.db.write() as conn:
            conn.execute("DELETE FROM webhooks WHERE id = ?", (webhook_id,))

    def _row(self, principal: Principal, webhook_id: int):
        row = (
            self.db.read()
            .execute(
                "SELECT * FROM webhooks WHERE id = ? AND shop_id = ? AND app_id = ?",
                (webhook_id, principal.shop_id, _app(principal)),
            )
            .fetchone()
        )
        if row is None:
            raise NotFound(f"Webhook {webhook_id} not found")
        return row

    @staticmethod
    def _view(row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "address": row["address"],
            "topic": row["topic"],
            "createTime": row["created_at"],
            "updateTime": row["updated_at"],
        }

    # ---- events -----------------------------------------------------------------------------

    def emit(
        self, conn, shop_id: int, topic: str, payload: dict[str, Any], payment_id: str | None = None
    ) -> int:
        """Schedule a signed delivery to each live subscription of the shop to ``topic``."""
        rows = conn.execute(
            "SELECT w.id, w.address, a.client_secret, s.domain FROM webhooks w "
            "JOIN apps a ON a.id = w.app_id JOIN shops s ON s.id = w.shop_id "
            "WHERE w.shop_id = ? AND w.topic = ? AND w.disabled_at IS NULL",
            (shop_id, topic),
        ).fetchall()
        raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        for row in rows:
            headers = {
                TOPIC_HEADER: topic,
                HMAC_HEADER: signature(raw.encode(), row["client_secret"]),
                SHOP_HEADER: row["domain"],
                ID_HEADER: str(row["id"]),
            }
            self.outbox.schedule(
                conn,
                shop_id=shop_id,
                payment_id=payment_id,
                side="platform",
                kind="webhook",
                method="POST",
                url=row["address"],
                headers=headers,
                raw_body=raw,
            )
        return len(rows)

    def _after_attempt(self, message: Message, outcome: Outcome) -> None:
        """Count consecutive failures per subscription; at 8, stop delivering to it."""
        webhook_id = int(message.headers.get(ID_HEADER, 0))
        with self.db.write() as conn:
            if outcome.delivered:
                conn.execute("UPDATE webhooks SET failures = 0 WHERE id = ?", (webhook_id,))
                return
            conn.execute("UPDATE webhooks SET failures = failures + 1 WHERE id = ?", (webhook_id,))
            row = conn.execute(
                "SELECT failures FROM webhooks WHERE id = ?", (webhook_id,)
            ).fetchone()
            if row is not None and row["failures"] >= MAX_FAILURES:
                conn.execute(
                    "UPDATE webhooks SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL",
                    (to_storage(self.clock.now()), webhook_id),
                )
                conn.execute(
                    "UPDATE outbox SET state = 'cancelled' WHERE kind = 'webhook' AND state = "
                    "'pending' AND headers LIKE ?",
                    (f'%"{ID_HEADER}": "{webhook_id}"%',),
                )

    # ---- deliveries (control) ---------------------------------------------------------------

    def deliveries(self, shop_id: int | None, topic: str | None) -> list[dict[str, Any]]:
        where, params = ["kind = 'webhook'"], []
        if shop_id is not None:
            where.append("shop_id = ?")
            params.append(shop_id)
        rows = (
            self.db.read()
            .execute(
                f"SELECT * FROM outbox WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT 500",
                params,
            )
            .fetchall()
        )
        views = [_delivery(r) for r in rows]
        return [v for v in views if topic is None or v["topic"] == topic]

    def redeliver(self, delivery_id: int) -> dict[str, Any]:
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT * FROM outbox WHERE id = ? AND kind = 'webhook'", (delivery_id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"Delivery {delivery_id} not found")
            headers = json.loads(row["headers"])
            headers.pop("Content-Type", None)
            new_id = self.outbox.schedule(
                conn,
                shop_id=row["shop_id"],
                payment_id=row["payment_id"],
                side="platform",
                kind="webhook",
                method="POST",
                url=row["url"],
                headers=headers,
                raw_body=row["body"],
            )
            fresh = conn.execute("SELECT * FROM outbox WHERE id = ?", (new_id,)).fetchone()
        return _delivery(fresh)


def _delivery(row) -> dict[str, Any]:
    headers = json.loads(row["headers"])
    return {
        "id": row["id"],
        "webhookId": int(headers.get(ID_HEADER, 0)),
        "topic": headers.get(TOPIC_HEADER),
        "address": row["url"],
        "state": row["state"],
        "attempts": row["attempts"],
        "lastStatus": row["last_status"],
        "lastError": row["last_error"],
        "dueAt": row["due_at"],
        "createdAt": row["created_at"],
        "paymentId": row["payment_id"],
        "body": json.loads(row["body"]) if row["body"] else None,
    }


def _app(principal: Principal) -> int:
    if principal.app_id is None:
        raise Forbidden("Webhook subscriptions belong to an app: use an app's access token")
    return principal.app_id


def _check(address: str, topic: str) -> None:
    if not isinstance(address, str) or not address.startswith(("http://", "https://")):
        raise invalid("webhook.address", "must be an http(s) URL")
    if topic not in TOPICS:
        raise invalid("webhook.topic", f"unknown topic '{topic}' (topics: {', '.join(TOPICS)})")


def _token(direction: str, cursor: int) -> str:
    return base64.urlsafe_b64encode(f"{direction}:{cursor}".encode()).decode().rstrip("=")


def _parse_token(token: str | None) -> tuple[str | None, int]:
    if not token:
        return None, 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        direction, cursor = text.split(":")
        if direction not in ("next", "previous"):
            raise ValueError
        return direction, int(cursor)
    except ValueError:
        raise invalid("pageToken", "not a page token this API gave out") from None


class PlatformEvents:
    """Turns the platform's state changes into webhook events (payloads as the API shows)."""

    def __init__(self, webhooks: Webhooks, fixtures):
        self.webhooks = webhooks
        self.fixtures = fixtures

    def payment_created(self, conn, shop_id: int, payment_id: str, order_id: int) -> None:
        payload = self._payment(conn, shop_id, payment_id)
        self.webhooks.emit(
            conn, shop_id, "orders/create", {"order": self._order(payload, order_id)}, payment_id
        )
        self.webhooks.emit(conn, shop_id, "payments/create", payload, payment_id)

    def payment_moved(self, conn, shop_id: int, payment_id: str, before: str, after: str):
        payload = self._payment(conn, shop_id, payment_id)
        self.webhooks.emit(conn, shop_id, "payments/update", payload, payment_id)
        machine = self.fixtures.machines["payment"]
        if machine.view(after, "legacy_status") == "paid" != machine.view(before, "legacy_status"):
            order_id = conn.execute(
                "SELECT order_id FROM payments WHERE shop_id = ? AND payment_id = ?",
                (shop_id, payment_id),
            ).fetchone()[0]
            order = self._order(payload, order_id)
            self.webhooks.emit(conn, shop_id, "orders/paid", {"order": order}, payment_id)

    def operation_created(self, conn, shop_id: int, kind: str, operation_id: str) -> None:
        if kind == "refund":
            payload = self._refund(conn, shop_id, operation_id)
            self.webhooks.emit(
                conn, shop_id, "refunds/create", payload, payload["refund"]["paymentId"]
            )

    def operation_moved(self, conn, shop_id: int, kind: str, operation_id: str) -> None:
        if kind == "refund":
            payload = self._refund(conn, shop_id, operation_id)
            self.webhooks.emit(
                conn, shop_id, "refunds/update", payload, payload["refund"]["paymentId"]
            )

    def _payment(self, conn, shop_id: int, payment_id: str) -> dict[str, Any]:
        payment, order_no, shop = load_payment_with_context(conn, shop_id, payment_id)
        rule = self.fixtures.fee_rules.get(shop.fee_rule) if shop.fee_rule else None
        body = views.transaction(payment, order_no, shop, self.fixtures.machines["payment"], rule)
        body["payment"]["state"] = payment.state
        return body

    @staticmethod
    def _order(payment: dict[str, Any], order_id: int) -> dict[str, Any]:
        inner = payment["payment"]
        return {
            "id": order_id,
            "orderNo": inner["outOrderNo"],
            "paymentId": inner["paymentId"],
            "amount": inner["amount"],
            "currency": inner["currency"],
            "financialStatus": inner["state"],
        }

    def _refund(self, conn, shop_id: int, refund_id: str) -> dict[str, Any]:
        row = conn.execute(
            "SELECT * FROM operations WHERE shop_id = ? AND kind = 'refund' AND operation_id = ?",
            (shop_id, refund_id),
        ).fetchone()
        machine = self.fixtures.machines["refund"]
        return {
            "refund": {
                "refundId": refund_id,
                "paymentId": row["payment_id"],
                "amount": row["amount"],
                "state": row["state"],
                "status": machine.view(row["state"], "app_status"),
                "channelRefundId": row["channel_id"],
                "createTime": row["created_at"],
            }
        }

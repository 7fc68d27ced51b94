"""Webhooks: an app's subscriptions, the events the platform emits, signed deliveries.

Deliveries go through the outbox like every other outbound request: retried with backoff on
any non-2xx answer (a redirect is a failure too), every attempt journaled. A subscription whose
deliveries fail 8 times in a row stops receiving: it is disabled and its pending deliveries
are cancelled.
"""

from __future__ import annotations

import base64
import builtins
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

from sandbox.core.clock import Clock
from sandbox.core.digits import ascii_digits
from sandbox.core.fixtures import Fixtures
from sandbox.core.timefmt import to_storage
from sandbox.errors import Conflict, Forbidden, NotFound, invalid
from sandbox.outbox import Message, Outbound, Outbox, Outcome
from sandbox.platform import views
from sandbox.platform.auth import Principal
from sandbox.protocol import SHOP_HEADER
from sandbox.protocol import WEBHOOK_HMAC_HEADER as HMAC_HEADER
from sandbox.protocol import WEBHOOK_ID_HEADER as ID_HEADER
from sandbox.protocol import WEBHOOK_TOPIC_HEADER as TOPIC_HEADER
from sandbox.store import outbox as messages
from sandbox.store import platform as rows
from sandbox.store.db import Database
from sandbox.store.records import Webhook
from sandbox.store.tables import Connection

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


def signature(raw_body: bytes, secret: str) -> str:
    """Base64 HMAC-SHA256 of the raw body, keyed by the app's client secret."""
    return base64.b64encode(hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()).decode()


class Webhooks:
    def __init__(self, db: Database, clock: Clock, outbox: Outbox):
        self.db = db
        self.clock = clock
        self.outbox = outbox

    # ---- subscriptions ----------------------------------------------------------------------

    def create(self, principal: Principal, address: str, topic: str) -> dict[str, Any]:
        app_id = _app(principal)
        _check(address, topic)
        now = to_storage(self.clock.now(principal.shop_id))
        with self.db.write() as conn:
            if rows.find_webhook(conn, principal.shop_id, app_id, address, topic) is not None:
                raise Conflict(
                    "This address is already subscribed to this topic",
                    details={"webhook.address": ["already subscribed"]},
                )
            webhook_id = rows.insert_webhook(conn, principal.shop_id, app_id, address, topic, now)
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
        after = [bound for bound in (since_id, cursor if direction == "next" else None) if bound]
        before = cursor if direction == "previous" else None
        found = rows.page_webhooks(
            self.db.read(), principal.shop_id, app_id, after, before, limit + 1
        )
        more = len(found) > limit
        found = found[:limit]
        if direction == "previous":
            found.reverse()
        links = []
        query = {"limit": limit, **({"sinceId": since_id} if since_id is not None else {})}
        if found and (direction == "next" or (direction == "previous" and more)):
            token = _token("previous", found[0].id)
            links.append(f'<{base_url}?{urlencode({**query, "pageToken": token})}>; rel="previous"')
        if found and (more if direction != "previous" else True):
            token = _token("next", found[-1].id)
            links.append(f'<{base_url}?{urlencode({**query, "pageToken": token})}>; rel="next"')
        return {"webhooks": [self._view(w) for w in found]}, ", ".join(links) or None

    def count(self, principal: Principal) -> dict[str, int]:
        return {"count": rows.count_webhooks(self.db.read(), principal.shop_id, _app(principal))}

    def get(self, principal: Principal, webhook_id: int) -> dict[str, Any]:
        return {"webhook": self._view(self._row(principal, webhook_id))}

    def update(
        self, principal: Principal, webhook_id: int, changes: dict[str, Any]
    ) -> dict[str, Any]:
        hook = self._row(principal, webhook_id)
        address = changes.get("address", hook.address)
        topic = changes.get("topic", hook.topic)
        _check(address, topic)
        with self.db.write() as conn:
            rows.change_webhook(
                conn, webhook_id, address, topic, to_storage(self.clock.now(principal.shop_id))
            )
        return self.get(principal, webhook_id)

    def delete(self, principal: Principal, webhook_id: int) -> None:
        self._row(principal, webhook_id)
        with self.db.write() as conn:
            rows.delete_webhook(conn, webhook_id)

    def _row(self, principal: Principal, webhook_id: int) -> Webhook:
        hook = rows.load_webhook(self.db.read(), principal.shop_id, _app(principal), webhook_id)
        if hook is None:
            raise NotFound(f"Webhook {webhook_id} not found")
        return hook

    @staticmethod
    def _view(hook: Webhook) -> dict[str, Any]:
        return {
            "id": hook.id,
            "address": hook.address,
            "topic": hook.topic,
            "createTime": hook.created_at,
            "updateTime": hook.updated_at,
        }

    # ---- events -----------------------------------------------------------------------------

    def emit(
        self,
        conn: Connection,
        shop_id: int,
        topic: str,
        payload: dict[str, Any],
        payment_id: str | None = None,
    ) -> int:
        """Schedule a signed delivery to each live subscription of the shop to ``topic``."""
        subscribers = rows.subscribers(conn, shop_id, topic)
        raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        for subscriber in subscribers:
            headers = {
                TOPIC_HEADER: topic,
                HMAC_HEADER: signature(raw.encode(), subscriber.client_secret),
                SHOP_HEADER: subscriber.shop_domain,
                ID_HEADER: str(subscriber.webhook_id),
            }
            self.outbox.schedule(
                conn,
                Outbound(
                    shop_id=shop_id,
                    payment_id=payment_id,
                    side="platform",
                    kind="webhook",
                    method="POST",
                    url=subscriber.address,
                    headers=headers,
                    raw_body=raw,
                ),
            )
        return len(subscribers)

    def after_attempt(self, message: Message, outcome: Outcome) -> None:
        """Count consecutive failures per subscription; at 8, stop delivering to it."""
        webhook_id = int(message.headers.get(ID_HEADER, 0))
        with self.db.write() as conn:
            if outcome.delivered:
                rows.webhook_delivered(conn, webhook_id)
                return
            if rows.webhook_failed(conn, webhook_id) >= MAX_FAILURES:
                rows.disable_webhook(conn, webhook_id, to_storage(self.clock.now(message.shop_id)))
                messages.cancel_pending(conn, "webhook", ID_HEADER, str(webhook_id))

    # ---- deliveries (control) ---------------------------------------------------------------

    def deliveries(self, shop_id: int | None, topic: str | None) -> builtins.list[dict[str, Any]]:
        found = messages.list_messages(
            self.db.read(), messages.MessageFilter(shop_id=shop_id, kind="webhook"), limit=500
        )
        views = [_delivery(m) for m in found]
        return [v for v in views if topic is None or v["topic"] == topic]

    def redeliver(self, delivery_id: int) -> dict[str, Any]:
        with self.db.write() as conn:
            message = messages.load_message(conn, delivery_id, kind="webhook")
            if message is None:
                raise NotFound(f"Delivery {delivery_id} not found")
            headers = dict(message.headers)
            headers.pop("Content-Type", None)
            new_id = self.outbox.schedule(
                conn,
                Outbound(
                    shop_id=message.shop_id,
                    payment_id=message.payment_id,
                    side="platform",
                    kind="webhook",
                    method="POST",
                    url=message.url,
                    headers=headers,
                    raw_body=message.body,
                ),
            )
            fresh = messages.load_message(conn, new_id)
        assert fresh is not None  # written in the transaction just committed
        return _delivery(fresh)


def _delivery(message: Message) -> dict[str, Any]:
    headers = message.headers
    return {
        "id": message.id,
        "webhookId": int(headers.get(ID_HEADER, 0)),
        "topic": headers.get(TOPIC_HEADER),
        "address": message.url,
        "state": message.state,
        "attempts": message.attempts,
        "lastStatus": message.last_status,
        "lastError": message.last_error,
        "dueAt": message.due_at,
        "createdAt": message.created_at,
        "paymentId": message.payment_id,
        "body": json.loads(message.body) if message.body else None,
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
        if direction not in ("next", "previous") or not ascii_digits(cursor):
            raise ValueError
        return direction, int(cursor)
    except ValueError:
        raise invalid("pageToken", "not a page token this API gave out") from None


class PlatformEvents:
    """Turns the platform's state changes into webhook events (payloads as the API shows)."""

    def __init__(self, webhooks: Webhooks, fixtures: Fixtures):
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
            payment = rows.load_payment(conn, shop_id, payment_id)
            assert payment is not None  # it just moved, in this transaction
            order = self._order(payload, payment.order_id)
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
        found = rows.load_payment_with_context(conn, shop_id, payment_id)
        assert found is not None  # it was written in this transaction
        payment, order_no, shop = found
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
        refund = rows.load_operation(conn, shop_id, "refund", refund_id)
        assert refund is not None  # it was written in this transaction
        machine = self.fixtures.machines["refund"]
        return {
            "refund": {
                "refundId": refund_id,
                "paymentId": refund.payment_id,
                "amount": str(refund.amount) if refund.amount is not None else None,
                "state": refund.state,
                "status": machine.view(refund.state, "app_status"),
                "channelRefundId": refund.channel_id,
                "createTime": to_storage(refund.created_at),
            }
        }

"""Control operations: shops (create, list, reset), the clock, manual events."""

from __future__ import annotations

import json
import re
from typing import Any

from sandbox.core import money
from sandbox.core.clock import Clock, ClockState
from sandbox.core.fixtures import Fixtures
from sandbox.core.ids import Ids
from sandbox.core.timefmt import parse_duration, parse_instant
from sandbox.errors import Conflict, NotFound, invalid, parse_amount_field
from sandbox.journal import json_or_text
from sandbox.outbox import Outbox
from sandbox.platform.lifecycle import Lifecycle
from sandbox.platform.records import Shop, find_shop, load_operation, load_payment
from sandbox.store.clock import load_clock, save_clock
from sandbox.store.db import Database
from sandbox.store.seed import (
    clear_shop_data,
    fresh_credentials,
    insert_shop,
    load_shop_data,
    seed_all,
)

_HANDLE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class ControlService:
    def __init__(
        self,
        db: Database,
        fixtures: Fixtures,
        clock: Clock,
        ids: Ids,
        outbox: Outbox,
        journal,
        lifecycle: Lifecycle,
    ):
        self.journal_store = journal
        self.db = db
        self.fixtures = fixtures
        self.clock = clock
        self.ids = ids
        self.outbox = outbox
        self.lifecycle = lifecycle

    # ---- shops ----------------------------------------------------------------------------

    def list_shops(self) -> list[dict[str, Any]]:
        rows = self.db.read().execute("SELECT * FROM shops ORDER BY id").fetchall()
        return [self.describe_shop(Shop.from_row(row)) for row in rows]

    def shop(self, handle: str) -> Shop:
        shop = find_shop(self.db.read(), handle)
        if shop is None:
            known = ", ".join(
                r["handle"] for r in self.db.read().execute("SELECT handle FROM shops")
            )
            raise NotFound(f"Shop '{handle}' not found (shops: {known or 'none'})")
        return shop

    def describe_shop(self, shop: Shop) -> dict[str, Any]:
        conn = self.db.read()
        tokens = conn.execute(
            "SELECT t.token, t.scopes, a.name AS app FROM tokens t LEFT JOIN apps a "
            "ON a.id = t.app_id WHERE t.shop_id = ? AND t.revoked_at IS NULL ORDER BY t.rowid",
            (shop.id,),
        ).fetchall()
        apps = conn.execute(
            "SELECT * FROM apps WHERE shop_id = ? ORDER BY id", (shop.id,)
        ).fetchall()
        return {
            "handle": shop.handle,
            "name": shop.name,
            "domain": shop.domain,
            "template": shop.template,
            "currency": shop.currency,
            "utcOffset": shop.utc_offset,
            "rateLimit": self._rate_limit(shop.id),
            "tokens": [
                {"token": t["token"], "scopes": t["scopes"].split(), "app": t["app"]}
                for t in tokens
            ],
            "apps": [
                {
                    "name": a["name"],
                    "clientId": a["client_id"],
                    "clientSecret": a["client_secret"],
                    "scopes": a["scopes"].split(),
                    "activated": bool(a["activated"]),
                }
                for a in apps
            ],
        }

    def _rate_limit(self, shop_id: int) -> dict[str, Any] | None:
        row = (
            self.db.read()
            .execute("SELECT rate_size, rate_per_second FROM shops WHERE id = ?", (shop_id,))
            .fetchone()
        )
        if row is None or row["rate_size"] is None:
            return None
        return {"size": row["rate_size"], "perSecond": row["rate_per_second"]}

    def create_shop(
        self,
        template: str | None,
        handle: str | None,
        name: str | None,
        rate_limit: dict[str, Any] | None = None,
    ) -> dict:
        if not self.fixtures.shops:
            raise Conflict("The fixtures declare no shop to use as a template")
        template_name = template or self.fixtures.shops[0]["handle"]
        spec = self.fixtures.shop(template_name)
        if spec is None:
            known = ", ".join(s["handle"] for s in self.fixtures.shops)
            raise NotFound(
                f"Template shop '{template_name}' not found in the fixtures (known: {known})",
                details={"template": [f"unknown template '{template_name}'"]},
            )
        if handle is not None and not _HANDLE.match(handle):
            raise invalid("handle", "lowercase letters, digits and '-', at most 63")
        with self.db.write() as conn:
            handle = handle or f"{template_name}-{self.ids.suffix(8)}"
            if find_shop(conn, handle) is not None:
                raise Conflict(
                    f"Shop '{handle}' already exists", details={"handle": ["already taken"]}
                )
            credentials = fresh_credentials(spec, handle, self.ids)
            if rate_limit is not None:
                limit = {"enabled": rate_limit["enabled"], "size": rate_limit["size"],
                         "per_second": rate_limit["perSecond"]}  # fmt: skip
                spec = {**spec, "rate_limit": limit}
            shop_id = insert_shop(
                conn, self.fixtures, spec, handle, credentials, self.clock.now(), name=name
            )
        return self.describe_shop(_shop_by_id(self.db, shop_id))

    def reset(self, handle: str | None) -> dict[str, Any]:
        """Everything (shops, clock) back to the fixtures; or one shop, keeping its tokens."""
        if handle is None:
            seed_all(self.db, self.fixtures, self.clock.state().unfreeze().now())
            return {"reset": "all", "shops": [s["handle"] for s in self.fixtures.shops]}
        shop = self.shop(handle)
        spec = self.fixtures.shop(shop.template)
        if spec is None:
            raise Conflict(
                f"Shop '{handle}' was made from template '{shop.template}', "
                "which the fixtures no longer declare"
            )
        with self.db.write() as conn:
            clear_shop_data(conn, shop.id)
            load_shop_data(conn, self.fixtures, shop.id, spec, shop.credentials, self.clock.now())
        return {"reset": handle, "shops": [handle]}

    # ---- clock ----------------------------------------------------------------------------

    def clock_view(self, state: ClockState | None = None) -> dict[str, Any]:
        state = state or self.clock.state()
        return {
            "now": state.now().isoformat(timespec="microseconds"),
            "frozen": state.frozen,
            "offsetSeconds": state.offset.total_seconds() if not state.frozen else None,
        }

    def change_clock(
        self, frozen: bool | None, now: str | None, advance: object | None
    ) -> dict[str, Any]:
        try:
            target = parse_instant(now) if now is not None else None
            step = parse_duration(advance) if advance is not None else None
        except ValueError as exc:
            field = "now" if now is not None and "timestamp" in str(exc) else "advance"
            raise invalid(field, str(exc)) from None
        with self.db.write() as conn:
            state = load_clock(self.db)
            if frozen is True and not state.frozen:
                state = state.freeze()
            if target is not None:  # after freezing, so a frozen clock stands exactly there
                state = state.set(target)
            if frozen is False and state.frozen:
                state = state.unfreeze()
            if step is not None:
                state = state.advance(step)
            save_clock(conn, state)
        view = self.clock_view(state)
        if target is not None or step is not None:
            # Moving time delivers what became due before answering, so tests never sleep.
            view["outbox"] = self.outbox.drain()
        return view

    # ---- manual events --------------------------------------------------------------------

    def fire_event(
        self, handle: str, kind: str, object_id: str, event: str, amount: str | None
    ) -> dict[str, Any]:
        """Fire any declared event by hand, as moto's manual transitions do."""
        shop = self.shop(handle)
        now = self.clock.now()
        with self.db.write() as conn:
            if kind == "payment":
                payment = load_payment(conn, shop.id, object_id)
                if payment is None:
                    raise NotFound(f"Payment {object_id} not found in shop '{handle}'")
                value = parse_amount_field(amount, payment.currency) if amount is not None else None
                moved = self.lifecycle.fire_payment(conn, payment, event, now, "control", value)
                return {"kind": kind, "id": object_id, "state": moved.state}
            operation = load_operation(conn, shop.id, kind, object_id)
            if operation is None:
                raise NotFound(f"{kind.capitalize()} {object_id} not found in shop '{handle}'")
            moved = self.lifecycle.fire_operation(conn, operation, event, now, "control")
            return {"kind": kind, "id": object_id, "state": moved.state}

    def payment_detail(self, handle: str, payment_id: str) -> dict[str, Any]:
        """The platform's own record of a payment: state, money, operations."""
        shop = self.shop(handle)
        payment = load_payment(self.db.read(), shop.id, payment_id)
        if payment is None:
            raise NotFound(f"Payment {payment_id} not found in shop '{handle}'")
        payment = self.lifecycle.settled_payment(payment, self.clock.now)
        rows = (
            self.db.read()
            .execute(
                "SELECT * FROM operations WHERE shop_id = ? AND payment_id = ? ORDER BY created_at",
                (shop.id, payment_id),
            )
            .fetchall()
        )
        currency = payment.currency
        extra = (
            self.db.read()
            .execute(
                "SELECT kind, card_last4, app_answer FROM payments WHERE shop_id = ? AND "
                "payment_id = ?",
                (shop.id, payment_id),
            )
            .fetchone()
        )
        answer = json.loads(extra["app_answer"]) if extra["app_answer"] else None
        next_action = None
        if answer and answer.get("threeDsUrl"):
            next_action = {"type": "three_ds", "url": answer["threeDsUrl"]}
        elif answer and answer.get("redirectUrl"):
            next_action = {"type": "redirect", "url": answer["redirectUrl"]}
        machine = self.fixtures.machines["payment"]
        return {
            "paymentId": payment.payment_id,
            "kind": extra["kind"],
            "cardLast4": extra["card_last4"],
            "transactionStatus": machine.view(payment.state, "transaction_code"),
            "appAnswer": answer,
            "nextAction": next_action
            if machine.view(payment.state, "app_status") == "PROCESSING"
            else None,
            "orderId": payment.order_id,
            "state": payment.state,
            "amount": money.format_amount(payment.amount, currency),
            "capturedAmount": money.format_amount(payment.captured, currency),
            "refundedAmount": money.format_amount(payment.refunded, currency),
            "currency": currency,
            "manualCapture": payment.manual_capture,
            "channelPaymentId": payment.channel_payment_id,
            "operations": [
                {
                    "kind": r["kind"],
                    "id": r["operation_id"],
                    "state": r["state"],
                    "amount": r["amount"],
                    "channelId": r["channel_id"],
                }
                for r in rows
            ],
        }

    def timeline(self, handle: str, payment_id: str) -> dict[str, Any]:
        """State changes and every request and callback about a payment, in order."""
        detail = self.payment_detail(handle, payment_id)
        shop = self.shop(handle)
        conn = self.db.read()
        entries = [
            {
                "at": h["at"],
                "type": "state",
                **{k: h[k] for k in ("kind", "id", "event", "from", "to", "cause")},
            }
            for h in self.history(handle, payment_id)
        ]
        for row in conn.execute(
            "SELECT j.*, o.side FROM journal j JOIN outbox o ON o.id = j.message_id "
            "WHERE j.shop_id = ? AND j.payment_id = ? AND j.direction = 'outbound' ORDER BY j.id",
            (shop.id, payment_id),
        ):
            entries.append(_attempt_entry(row))
        for row in conn.execute(
            "SELECT * FROM outbox WHERE shop_id = ? AND payment_id = ? AND state IN "
            "('pending', 'sending') ORDER BY id",
            (shop.id, payment_id),
        ):
            entries.append(
                {
                    "at": row["due_at"],
                    "type": "scheduled",
                    "side": row["side"],
                    "message": row["kind"],
                    "method": row["method"],
                    "url": self.outbox.resolve(row["url"]),
                    "attempts": row["attempts"],
                }
            )
        entries.sort(key=lambda e: e["at"])
        return {"payment": detail, "timeline": entries}

    def outbox_messages(self, handle: str | None, payment_id: str | None) -> list[dict[str, Any]]:
        query, params = "SELECT o.* FROM outbox o", []
        clauses = []
        if handle is not None:
            clauses.append("o.shop_id = ?")
            params.append(self.shop(handle).id)
        if payment_id is not None:
            clauses.append("o.payment_id = ?")
            params.append(payment_id)
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        rows = self.db.read().execute(query + " ORDER BY o.id DESC LIMIT 200", params).fetchall()
        return [
            {
                "id": r["id"],
                "side": r["side"],
                "kind": r["kind"],
                "paymentId": r["payment_id"],
                "method": r["method"],
                "url": self.outbox.resolve(r["url"]),
                "state": r["state"],
                "dueAt": r["due_at"],
                "attempts": r["attempts"],
                "maxAttempts": r["max_attempts"],
                "lastStatus": r["last_status"],
                "lastError": r["last_error"],
            }
            for r in rows
        ]

    def journal(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        filters = self._journal_filters(query)
        return self.journal_store.query(filters, query.get("path"), query["limit"],
                                        query.get("before"))  # fmt: skip

    def journal_count(self, query: dict[str, Any]) -> int:
        return self.journal_store.count(self._journal_filters(query), query.get("path"))

    def _journal_filters(self, query: dict[str, Any]) -> dict[str, Any]:
        return {
            "shop_id": self.shop(query["shop"]).id if query.get("shop") else None,
            "payment_id": query.get("paymentId"),
            "direction": query.get("direction"),
            "kind": query.get("kind"),
            "method": query.get("method"),
            "status": query.get("status"),
        }

    def history(self, handle: str, payment_id: str) -> list[dict[str, Any]]:
        shop = self.shop(handle)
        rows = (
            self.db.read()
            .execute(
                "SELECT * FROM history WHERE shop_id = ? AND payment_id = ? ORDER BY seq",
                (shop.id, payment_id),
            )
            .fetchall()
        )
        if not rows:
            raise NotFound(f"Payment {payment_id} not found in shop '{handle}'")
        return [
            {
                "kind": r["kind"],
                "id": r["object_id"],
                "event": r["event"],
                "from": r["from_state"] or None,
                "to": r["to_state"],
                "at": r["at"],
                "cause": r["cause"],
            }
            for r in rows
        ]


def _attempt_entry(row) -> dict[str, Any]:
    """One delivery attempt, as the timeline shows it (bodies carry no card numbers: card
    data leaves encrypted, and callbacks hold none)."""
    kind = "request" if row["side"] == "platform" else "callback"
    return {
        "at": row["at"],
        "type": kind,
        "message": row["kind"],
        "attempt": row["attempt"],
        "method": row["method"],
        "url": row["url"],
        "status": row["status"],
        "durationMs": row["duration_ms"],
        "error": row["error"],
        "requestBody": json_or_text(row["request_body"]),
        "responseBody": json_or_text(row["response_body"]),
    }


def _shop_by_id(db: Database, shop_id: int) -> Shop:
    return Shop.from_row(
        db.read().execute("SELECT * FROM shops WHERE id = ?", (shop_id,)).fetchone()
    )

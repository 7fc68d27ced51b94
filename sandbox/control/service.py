"""Control operations: shops (create, list, reset), the clock, manual events."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sandbox.control.coverage import Coverage
from sandbox.core import money
from sandbox.core.clock import Clock, ClockState, real_now
from sandbox.core.fixtures import SHOP_HANDLE, Fixtures
from sandbox.core.ids import Ids
from sandbox.core.timefmt import EARLIEST, LATEST, parse_duration, parse_instant, to_storage
from sandbox.errors import Conflict, NotFound, invalid, parse_amount_field
from sandbox.journal import Journal, json_or_text
from sandbox.outbox import Outbox
from sandbox.platform.lifecycle import Lifecycle
from sandbox.store import journal as exchanges
from sandbox.store import outbox as messages
from sandbox.store import platform as rows
from sandbox.store.clock import drop_clock, load_clock, save_clock, shop_clocks
from sandbox.store.db import Database
from sandbox.store.faults import delete_shop_faults
from sandbox.store.records import Shop
from sandbox.store.seed import (
    clear_shop_data,
    fresh_credentials,
    insert_shop,
    load_shop_data,
    seed_all,
)

_HANDLE = re.compile(SHOP_HANDLE)


class ControlService:
    def __init__(
        self,
        db: Database,
        fixtures: Fixtures,
        clock: Clock,
        ids: Ids,
        outbox: Outbox,
        journal: Journal,
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

    def coverage(self, handle: str) -> dict[str, Any]:
        """Which contract items the shop's app was exercised on (control/coverage.py)."""
        return Coverage(self.db, self.fixtures, self.journal_store.sync).of_shop(self.shop(handle))

    def list_shops(self) -> list[dict[str, Any]]:
        return [self.describe_shop(shop) for shop in rows.list_shops(self.db.read())]

    def shop(self, handle: str) -> Shop:
        shop = rows.find_shop(self.db.read(), handle)
        if shop is None:
            known = ", ".join(rows.shop_handles(self.db.read()))
            raise NotFound(f"Shop '{handle}' not found (shops: {known or 'none'})")
        return shop

    def describe_shop(self, shop: Shop) -> dict[str, Any]:
        conn = self.db.read()
        tokens = rows.list_tokens(conn, shop.id, live_only=True)
        apps = rows.list_apps(conn, shop.id)
        return {
            "handle": shop.handle,
            "name": shop.name,
            "domain": shop.domain,
            "template": shop.template,
            "currency": shop.currency,
            "utcOffset": shop.utc_offset,
            "rateLimit": _rate_limit(shop),
            "shopDomainHeader": shop.shop_header,
            "strict": shop.strict,
            "requestShape": shop.request_shape,
            "tokens": [
                {"token": t.token, "scopes": t.scopes.split(), "app": t.app_name} for t in tokens
            ],
            "apps": [
                {
                    "name": a.name,
                    "clientId": a.client_id,
                    "clientSecret": a.client_secret,
                    "scopes": a.scopes.split(),
                    "activated": a.activated,
                    "captureFlag": a.capture_flag,
                    "statusQuery": a.status_query,
                    "urls": {kind: self.outbox.resolve(url) for kind, url in a.urls.items()},
                }
                for a in apps
            ],
        }

    def create_shop(
        self,
        template: str | None,
        handle: str | None,
        name: str | None,
        rate_limit: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``settings``: ``shop_domain_header``, ``strict`` and ``request_shape`` over the
        template's."""
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
        with self.db.bulk_write() as conn:
            handle = handle or f"{template_name}-{self.ids.suffix(8)}"
            if rows.find_shop(conn, handle) is not None:
                raise Conflict(
                    f"Shop '{handle}' already exists", details={"handle": ["already taken"]}
                )
            credentials = fresh_credentials(spec, handle, self.ids)
            if rate_limit is not None:
                limit = {"enabled": rate_limit["enabled"], "size": rate_limit["size"],
                         "per_second": rate_limit["perSecond"]}  # fmt: skip
                spec = {**spec, "rate_limit": limit}
            spec = {**spec, **(settings or {})}
            shop_id = insert_shop(
                conn, self.fixtures, spec, handle, credentials, self.clock.now(), name=name
            )
        created = rows.load_shop(self.db.read(), shop_id)
        assert created is not None  # committed just above
        return self.describe_shop(created)

    def delete_shop(self, handle: str) -> dict[str, Any]:
        """The shop and everything it holds, on both sides: its apps, tokens, payments, clock,
        armed faults, journal, history and outbox (what was still to be sent is not sent)."""
        shop = self.shop(handle)
        self.journal_store.sync()  # what workers still buffer for it is written, then goes too
        with self.db.write() as conn:
            rows.delete_shop(conn, shop.id)
            delete_shop_faults(conn, shop.id)
        return {"deleted": handle}

    def reset(self, handle: str | None) -> dict[str, Any]:
        """Everything (shops, clock) back to the fixtures; or one shop, keeping its tokens."""
        if handle is None:
            # The clock goes back to real time, so the fixtures' relative times count from it.
            self.journal_store.sync()  # what was journaled takes its time from the clock it ran on
            seed_all(self.db, self.fixtures, real_now())
            return {"reset": "all", "shops": [s["handle"] for s in self.fixtures.shops]}
        shop = self.shop(handle)
        spec = self.fixtures.shop(shop.template)
        if spec is None:
            raise Conflict(
                f"Shop '{handle}' was made from template '{shop.template}', "
                "which the fixtures no longer declare"
            )
        with self.db.bulk_write() as conn:
            clear_shop_data(conn, shop.id)
            load_shop_data(
                conn, self.fixtures, shop.id, spec, shop.credentials, self.clock.now(shop.id)
            )
        return {"reset": handle, "shops": [handle]}

    # ---- clock ----------------------------------------------------------------------------

    def clock_view(self, handle: str | None = None) -> dict[str, Any]:
        shop_id = self.shop(handle).id if handle is not None else None
        own = shop_id is not None and shop_id in shop_clocks(self.db)
        return _clock_view(handle, own, self.clock.state(shop_id))

    def change_clock(self, handle: str | None, change: ClockChange) -> dict[str, Any]:
        """Freeze, set, unfreeze, advance (in that order) the global clock or a shop's own."""
        try:
            target = parse_instant(change.now) if change.now is not None else None
            step = parse_duration(change.advance) if change.advance is not None else None
        except ValueError as exc:
            field = "now" if change.now is not None and "timestamp" in str(exc) else "advance"
            raise invalid(field, str(exc)) from None
        shop_id = self.shop(handle).id if handle is not None else None
        # Exchanges still buffered take their time from the clock they ran on.
        self.journal_store.sync()
        if change.own is False:
            if shop_id is None:
                raise invalid("own", "false drops a shop's own clock: give shop")
            with self.db.write() as conn:
                drop_clock(conn, shop_id)
            return self.clock_view(handle)
        with self.db.write() as conn:
            state = load_clock(self.db, shop_id)
            if change.frozen is True and not state.frozen:
                state = state.freeze()
            if target is not None:  # after freezing, so a frozen clock stands exactly there
                state = state.set(target)
            if change.frozen is False and state.frozen:
                state = state.unfreeze()
            if step is not None:
                state = state.advance(step)
            if not EARLIEST <= state.now() < LATEST:
                field = "advance" if step is not None and target is None else "now"
                raise invalid(
                    field,
                    f"the sandbox clock runs from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}",
                )
            save_clock(conn, state, shop_id)
        view = _clock_view(handle, shop_id is not None, state)
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
        now = self.clock.now(shop.id)
        with self.db.write() as conn:
            if kind == "payment":
                payment = rows.load_payment(conn, shop.id, object_id)
                if payment is None:
                    raise NotFound(f"Payment {object_id} not found in shop '{handle}'")
                value = parse_amount_field(amount, payment.currency) if amount is not None else None
                moved = self.lifecycle.fire_payment(conn, payment, event, now, "control", value)
                return {"kind": kind, "id": object_id, "state": moved.state}
            operation = rows.load_operation(conn, shop.id, kind, object_id)
            if operation is None:
                raise NotFound(f"{kind.capitalize()} {object_id} not found in shop '{handle}'")
            moved_operation = self.lifecycle.fire_operation(conn, operation, event, now, "control")
            return {"kind": kind, "id": object_id, "state": moved_operation.state}

    def recent_payments(self, handle: str, limit: int) -> list[dict[str, Any]]:
        """A shop's newest payments, as a list shows them (newest first)."""
        shop = self.shop(handle)
        conn = self.db.read()
        apps = {app.id: app.name for app in rows.list_apps(conn, shop.id)}
        machine = self.fixtures.machines["payment"]
        return [
            {
                "paymentId": payment.payment_id,
                "state": payment.state,
                "transactionStatus": machine.view(payment.state, "transaction_code"),
                "amount": money.format_amount(payment.amount, payment.currency),
                "currency": payment.currency,
                "kind": payment.kind,
                "cardLast4": payment.card_last4,
                "app": apps.get(payment.app_id) if payment.app_id is not None else None,
                "createdAt": to_storage(payment.created_at),
                "stateEnteredAt": to_storage(payment.state_entered_at),
                "violations": violations,
            }
            for payment, violations in rows.recent_payments(conn, shop.id, limit)
        ]

    def payment_detail(self, handle: str, payment_id: str) -> dict[str, Any]:
        """The platform's own record of a payment: state, money, operations."""
        shop = self.shop(handle)
        payment = rows.load_payment(self.db.read(), shop.id, payment_id)
        if payment is None:
            raise NotFound(f"Payment {payment_id} not found in shop '{handle}'")
        self.lifecycle.settled_payment(payment, self.clock)  # due timeouts first (may write)
        with self.db.snapshot() as conn:  # the payment and its operations as of one commit
            payment = rows.load_payment(conn, shop.id, payment_id) or payment
            operations = rows.list_operations(conn, shop.id, payment_id)
        currency = payment.currency
        answer = payment.app_answer
        next_action = None
        if answer and answer.get("threeDsUrl"):
            next_action = {"type": "three_ds", "url": answer["threeDsUrl"]}
        elif answer and answer.get("redirectUrl"):
            next_action = {"type": "redirect", "url": answer["redirectUrl"]}
        machine = self.fixtures.machines["payment"]
        return {
            "paymentId": payment.payment_id,
            "kind": payment.kind,
            "cardLast4": payment.card_last4,
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
            "violations": self.violations(handle, payment_id),
            "operations": [
                {
                    "kind": op.kind,
                    "id": op.operation_id,
                    "state": op.state,
                    "amount": str(op.amount) if op.amount is not None else None,
                    "channelId": op.channel_id,
                }
                for op in operations
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
        for attempt in exchanges.attempts_for_payment(conn, shop.id, payment_id):
            entries.append(_attempt_entry(attempt))
        for message in messages.waiting_for_payment(conn, shop.id, payment_id):
            entries.append(
                {
                    "at": message.due_at,
                    "type": "scheduled",
                    "side": message.side,
                    "message": message.kind,
                    "method": message.method,
                    "url": self.outbox.resolve(message.url),
                    "attempts": message.attempts,
                }
            )
        for violation in detail["violations"]:
            entries.append(
                {
                    "at": violation["at"],
                    "type": "violation",
                    "message": violation["request"],
                    "field": violation["field"],
                    "rule": violation["rule"],
                }
            )
        entries.sort(key=lambda e: e["at"])
        return {"payment": detail, "timeline": entries}

    def violations(self, handle: str, payment_id: str | None = None) -> list[dict[str, Any]]:
        """Where apps' answers broke seed 001, oldest first."""
        shop = self.shop(handle)
        return [
            {
                "id": v.id,
                "paymentId": v.payment_id,
                "messageId": v.message_id,
                "request": v.kind,
                "field": v.field,
                "rule": v.rule,
                "at": v.at,
            }
            for v in rows.list_violations(self.db.read(), shop.id, payment_id)
        ]

    def outbox_messages(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        """Newest first, filtered by shop, payment, kind and state."""
        handle = query.get("shop")
        found = messages.list_messages(
            self.db.read(),
            messages.MessageFilter(
                shop_id=self.shop(handle).id if handle is not None else None,
                payment_id=query.get("paymentId"),
                kind=query.get("kind"),
                state=query.get("state"),
            ),
            limit=query.get("limit", 200),
        )
        return [
            {
                "id": m.id,
                "side": m.side,
                "kind": m.kind,
                "paymentId": m.payment_id,
                "method": m.method,
                "url": self.outbox.resolve(m.url),
                "state": m.state,
                "dueAt": m.due_at,
                "attempts": m.attempts,
                "maxAttempts": m.max_attempts or None,
                "lastStatus": m.last_status,
                "lastError": m.last_error,
            }
            for m in found
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
        steps = rows.list_steps(self.db.read(), shop.id, payment_id)
        if not steps:
            raise NotFound(f"Payment {payment_id} not found in shop '{handle}'")
        return [
            {
                "kind": step.kind,
                "id": step.object_id,
                "event": step.event,
                "from": step.from_state or None,
                "to": step.to_state,
                "at": step.at,
                "cause": step.cause,
            }
            for step in steps
        ]


def _attempt_entry(row: dict[str, Any]) -> dict[str, Any]:
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


@dataclass(frozen=True)
class ClockChange:
    frozen: bool | None = None
    now: str | None = None
    advance: object | None = None
    own: bool | None = None


def _clock_view(handle: str | None, own: bool, state: ClockState) -> dict[str, Any]:
    return {
        "shop": handle,
        "own": own,
        "now": state.now().isoformat(timespec="microseconds"),
        "frozen": state.frozen,
        "offsetSeconds": state.offset.total_seconds() if not state.frozen else None,
    }


def _rate_limit(shop: Shop) -> dict[str, Any] | None:
    if shop.rate_size is None:
        return None
    return {"size": shop.rate_size, "perSecond": shop.rate_per_second}

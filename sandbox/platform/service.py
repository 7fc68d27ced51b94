"""The platform backend: what the HTTP handlers call. Owns no Flask, holds no request state."""

from __future__ import annotations

from typing import Any

from sandbox.core.clock import Clock
from sandbox.core.fixtures import Fixtures
from sandbox.errors import BadRequest, NotFound
from sandbox.platform import views
from sandbox.platform.auth import Principal, authenticate, require_any
from sandbox.platform.callbacks import Callbacks
from sandbox.platform.lifecycle import Lifecycle
from sandbox.store import platform as rows
from sandbox.store.db import Database
from sandbox.store.records import Payment, Shop

TRANSACTION_SCOPES = ("read_payments_transaction", "write_payments_transaction")
ORDER_SCOPES = ("read_orders", "write_orders")
PAYMENT_APP_SCOPES = ("write_payment",)


class PlatformService:
    def __init__(
        self,
        db: Database,
        fixtures: Fixtures,
        clock: Clock,
        lifecycle: Lifecycle,
        callbacks: Callbacks,
    ):
        self.db = db
        self.fixtures = fixtures
        self.clock = clock
        self.lifecycle = lifecycle
        self.callbacks = callbacks

    def principal(self, token: str | None, scopes: tuple[str, ...]) -> Principal:
        principal = authenticate(self.db, token, self.clock)
        require_any(principal, scopes)
        return principal

    # ---- merchant transaction query (seed 002) --------------------------------------------

    def transaction(self, principal: Principal, payment_id: str) -> dict[str, Any]:
        """The merchant's view. Remembered until anything is written or the payment's next
        timeout comes due (the read path is the hot path: see ``make bench``)."""
        key = ("transaction", principal.shop_id, payment_id)
        body, valid_until = self.db.memo(key, lambda: self._transaction(principal, payment_id))
        if valid_until is not None and self.clock.now(principal.shop_id) >= valid_until:
            body, _ = self._transaction(principal, payment_id)
        return body

    def _transaction(self, principal: Principal, payment_id: str) -> tuple[dict[str, Any], Any]:
        found = rows.load_payment_with_context(self.db.read(), principal.shop_id, payment_id)
        if found is None:
            raise NotFound(f"Payment {payment_id} not found")
        payment, order_no, shop = found
        payment = self.lifecycle.settled_payment(payment, self.clock)
        machine = self.fixtures.machines["payment"]
        rule = self.fixtures.fee_rules.get(shop.fee_rule) if shop.fee_rule else None
        body = views.transaction(payment, order_no, shop, machine, rule)
        return body, machine.next_deadline(payment.state, payment.state_entered_at)

    # ---- legacy Order Payment API (seed 003) ----------------------------------------------

    def legacy_payments(
        self, principal: Principal, order_id: int, fields: list[str] | None
    ) -> list[dict[str, Any]]:
        shop, payments = self._order_payments(principal, order_id)
        machine = self.fixtures.machines["payment"]
        available = views.available_payment(payments, machine)
        return [
            views.select_fields(views.legacy_payment(p, shop, machine, p is available), fields)
            for p in payments
        ]

    def legacy_count(self, principal: Principal, order_id: int) -> int:
        return len(self._order_payments(principal, order_id)[1])

    def legacy_payment(
        self, principal: Principal, order_id: int, legacy_id: int, fields: list[str] | None
    ) -> dict[str, Any]:
        shop, payments = self._order_payments(principal, order_id)
        machine = self.fixtures.machines["payment"]
        available = views.available_payment(payments, machine)
        for payment in payments:
            if payment.legacy_id == legacy_id:
                body = views.legacy_payment(payment, shop, machine, payment is available)
                return views.select_fields(body, fields)
        raise NotFound(f"Payment {legacy_id} not found in order {order_id}")

    @staticmethod
    def parse_fields(raw: str | None) -> list[str] | None:
        if raw is None or not raw.strip():
            return None
        names = [name.strip() for name in raw.split(",") if name.strip()]
        unknown = [name for name in names if name not in views.LEGACY_FIELDS]
        if unknown:
            raise BadRequest(
                f"Unknown field(s) in fields: {', '.join(unknown)} "
                f"(known: {', '.join(views.LEGACY_FIELDS)})",
                details={"fields": [f"unknown field '{name}'" for name in unknown]},
            )
        return names

    # ---- helpers --------------------------------------------------------------------------

    def _shop(self, shop_id: int) -> Shop:
        shop = rows.load_shop(self.db.read(), shop_id)
        if shop is None:  # the shop was reset away under a live token
            raise NotFound("Shop not found")
        return shop

    def _order_payments(
        self, principal: Principal, order_id: int
    ) -> tuple[Shop, tuple[Payment, ...]]:
        """An order's payments, remembered as the transaction read is: until anything is
        written or one of them reaches its next timeout."""
        key = ("order_payments", principal.shop_id, order_id)
        shop, payments, valid_until = self.db.memo(
            key, lambda: self._load_order_payments(principal, order_id)
        )
        if valid_until is not None and self.clock.now(principal.shop_id) >= valid_until:
            shop, payments, _ = self._load_order_payments(principal, order_id)
        return shop, payments

    def _load_order_payments(
        self, principal: Principal, order_id: int
    ) -> tuple[Shop, tuple[Payment, ...], Any]:
        conn = self.db.read()
        if rows.load_order(conn, principal.shop_id, order_id) is None:
            raise NotFound(f"Order {order_id} not found")
        payments = tuple(
            self.lifecycle.settled_payment(p, self.clock)
            for p in rows.load_order_payments(conn, principal.shop_id, order_id)
        )
        machine = self.fixtures.machines["payment"]
        deadlines = [machine.next_deadline(p.state, p.state_entered_at) for p in payments]
        valid_until = min((d for d in deadlines if d is not None), default=None)
        return self._shop(principal.shop_id), payments, valid_until

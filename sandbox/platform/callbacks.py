"""The six ``PUT /api/202412/app/...`` calls a payment app makes (seed 000).

A result, once set, cannot change: the same result again is a no-op, a different one a 409.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sandbox.core.clock import Clock
from sandbox.core.timefmt import to_storage
from sandbox.errors import Conflict, Forbidden, NotFound
from sandbox.platform.auth import Principal
from sandbox.platform.lifecycle import Lifecycle
from sandbox.store import outbox as messages
from sandbox.store import platform as rows
from sandbox.store import records
from sandbox.store.db import Database
from sandbox.store.records import Operation, Payment
from sandbox.store.tables import Connection

# The payment event each callback fires, by result.
PAYMENT_EVENTS = {"payment": ("succeed", "fail"), "pre_authorize": ("authorize", "fail")}
# What the payment does when a capture, void or refund succeeds.
PAYMENT_EVENT_FOR_OPERATION = {"capture": "capture", "void": "void", "refund": "refund"}


@dataclass(frozen=True)
class Result:
    result: bool
    reason: str | None
    channel_id: str | None


class Callbacks:
    def __init__(self, db: Database, lifecycle: Lifecycle, clock: Clock):
        self.db = db
        self.lifecycle = lifecycle
        self.clock = clock

    def account_authorize(self, principal: Principal, ready: bool) -> None:
        if principal.app_id is None:
            raise Forbidden("account_authorize needs the access token of a payment app")
        with self.db.write() as conn:
            at = to_storage(self.clock.now(principal.shop_id)) if ready else None
            rows.set_app_activated(conn, principal.app_id, ready, at)

    def payment_result(
        self, principal: Principal, via: str, payment_id: str, result: Result
    ) -> None:
        """``via`` is ``payment`` or ``pre_authorize``; both report the one payment result."""
        with self.db.write() as conn:
            payment = self._payment(conn, principal, payment_id)
            event = PAYMENT_EVENTS[via][0 if result.result else 1]
            self.settle_payment(
                conn, payment, event, result, f"PUT /api/202412/app/{via}/{payment_id}"
            )

    def operation_result(
        self, principal: Principal, kind: str, operation_id: str, result: Result
    ) -> None:
        """A capture, void or refund result; on success the payment moves too, atomically."""
        with self.db.write() as conn:
            operation = rows.load_operation(conn, principal.shop_id, kind, operation_id)
            if operation is None:
                raise NotFound(f"{kind.capitalize()} {operation_id} not found")
            payment = self._payment(conn, principal, operation.payment_id)
            cause = f"PUT /api/202412/app/{kind}/{operation_id}"
            self.settle_operation(conn, operation, payment, result, cause)

    # ---- one result, whoever reports it (a callback, a status query, a refused answer) -----

    def settle_payment(
        self, conn: Connection, payment: Payment, event: str, result: Result, cause: str
    ) -> bool:
        """Record the payment's result and fire ``event``; False when a result was already
        recorded (the same again changes nothing; another is a 409)."""
        if self._already_reported(conn, payment.shop_id, "payment", payment.payment_id, result):
            return False
        now = self.clock.now(payment.shop_id)
        self.lifecycle.fire_payment(
            conn, payment, event, now, cause, channel_id=result.channel_id or None
        )
        _store_result(conn, payment.shop_id, "payment", payment.payment_id, result, now)
        # Asking the app about it is needless now.
        messages.cancel_queries(conn, payment.shop_id, payment.payment_id, "app.get_payment", None)
        return True

    def settle_operation(
        self,
        conn: Connection,
        operation: Operation,
        payment: Payment,
        result: Result,
        cause: str,
    ) -> bool:
        """The operation's result; on success the payment moves too. False when a result was
        already recorded."""
        kind, operation_id = operation.kind, operation.operation_id
        if self._already_reported(conn, operation.shop_id, kind, operation_id, result):
            return False
        now = self.clock.now(operation.shop_id)
        self.lifecycle.fire_operation(
            conn,
            operation,
            "succeed" if result.result else "fail",
            now,
            cause,
            channel_id=result.channel_id or None,
        )
        if result.result:
            self.lifecycle.fire_payment(
                conn,
                payment,
                PAYMENT_EVENT_FOR_OPERATION[kind],
                now,
                cause,
                amount=operation.amount,
            )
        _store_result(conn, operation.shop_id, kind, operation_id, result, now)
        messages.cancel_queries(
            conn,
            operation.shop_id,
            payment.payment_id,
            f"app.get_{kind}",
            (f"{kind}Id", operation_id),
        )
        return True

    def _payment(self, conn: Connection, principal: Principal, payment_id: str) -> Payment:
        payment = rows.load_payment(conn, principal.shop_id, payment_id)
        if payment is None:
            raise NotFound(f"Payment {payment_id} not found")
        if principal.app_id is not None and payment.app_id not in (None, principal.app_id):
            raise Forbidden(f"Payment {payment_id} belongs to another payment app")
        return payment

    def _already_reported(
        self, conn: Connection, shop_id: int, kind: str, object_id: str, result: Result
    ) -> bool:
        first_result = rows.load_result(conn, shop_id, kind, object_id)
        if first_result is None:
            return False
        if first_result.result == result.result:
            return True
        first = "true" if first_result.result else "false"
        raise Conflict(
            f"The {kind} result for {object_id} is already {first} and cannot change",
            details={"result": [f"already reported as {first}"]},
        )


def _store_result(
    conn: Connection, shop_id: int, kind: str, object_id: str, result: Result, now: datetime
) -> None:
    rows.insert_result(
        conn,
        records.Result(
            shop_id,
            kind,
            object_id,
            result.result,
            result.reason,
            result.channel_id,
            to_storage(now),
        ),
    )

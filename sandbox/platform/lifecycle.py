"""Moving payments and operations through their machines, and remembering each step.

Every state change goes through here: events fired by callbacks or the control API, and
timeouts that came due on the sandbox clock (applied lazily, whenever an object is read).
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from sandbox.core.machine import Facts, Machine, TransitionRefused
from sandbox.core.timefmt import to_storage
from sandbox.errors import Conflict
from sandbox.platform.records import Operation, Payment, load_payment
from sandbox.store.db import Database


class Lifecycle:
    def __init__(self, db: Database, machines: dict[str, Machine]):
        self.db = db
        self.machines = machines
        # Told of every change in the same transaction (webhook events); set by create_app.
        self.events = None

    # ---- reading, with due timeouts applied ------------------------------------------------

    def settled_payment(self, payment: Payment, now_fn) -> Payment:
        """``payment`` with any due timeouts applied (and stored); free when none can apply."""
        machine = self.machines["payment"]
        if not any(t.timeout for t in machine.transitions_from(payment.state)):
            return payment
        now = now_fn()
        if (
            machine.due_timeout(payment.state, payment.state_entered_at, now, payment.facts())
            is None
        ):
            return payment
        with self.db.write() as conn:
            current = load_payment(conn, payment.shop_id, payment.payment_id)
            return self.apply_payment_timeouts(conn, current, now) if current else payment

    def apply_payment_timeouts(self, conn, payment: Payment, now: datetime) -> Payment:
        machine = self.machines["payment"]
        for _ in range(len(machine.states) + 1):  # a chain of timeouts ends; a loop must not
            due = machine.due_timeout(payment.state, payment.state_entered_at, now, payment.facts())
            if due is None:
                break
            transition, at = due
            payment = self._move_payment(
                conn, payment, transition.event, transition.target, at, "timeout", payment.facts()
            )
        return payment

    def settled_operation(self, conn, operation: Operation, now: datetime) -> Operation:
        machine = self.machines[operation.kind]
        for _ in range(len(machine.states) + 1):
            due = machine.due_timeout(operation.state, operation.state_entered_at, now, Facts())
            if due is None:
                break
            transition, at = due
            operation = self._move_operation(
                conn, operation, transition.event, transition.target, at, "timeout"
            )
        return operation

    # ---- firing events ---------------------------------------------------------------------

    def fire_payment(
        self,
        conn: sqlite3.Connection,
        payment: Payment,
        event: str,
        now: datetime,
        cause: str,
        amount: Decimal | None = None,
        channel_id: str | None = None,
    ) -> Payment:
        payment = self.apply_payment_timeouts(conn, payment, now)
        facts = payment.facts(event_amount=amount)
        try:
            transition = self.machines["payment"].fire(payment.state, event, facts)
        except TransitionRefused as exc:
            raise Conflict(f"Payment {payment.payment_id} {_refusal(exc)}") from None
        if channel_id:
            payment = replace(payment, channel_payment_id=channel_id)
        return self._move_payment(conn, payment, event, transition.target, now, cause, facts)

    def fire_operation(
        self,
        conn: sqlite3.Connection,
        operation: Operation,
        event: str,
        now: datetime,
        cause: str,
        channel_id: str | None = None,
    ) -> Operation:
        operation = self.settled_operation(conn, operation, now)
        try:
            transition = self.machines[operation.kind].fire(operation.state, event, Facts())
        except TransitionRefused as exc:
            raise Conflict(
                f"{operation.kind.capitalize()} {operation.operation_id} {_refusal(exc)}"
            ) from None
        if channel_id:
            operation = replace(operation, channel_id=channel_id)
        return self._move_operation(conn, operation, event, transition.target, now, cause)

    # ---- persistence -----------------------------------------------------------------------

    def _move_payment(self, conn, payment, event, target, at, cause, facts: Facts) -> Payment:
        """Enter ``target``; the money moves as the event says (documented per event)."""
        captured, refunded, paid_at = payment.captured, payment.refunded, payment.paid_at
        shown = self.machines["payment"].view(target, "app_status")
        if event == "succeed" and shown == "SUCCESS":
            captured, paid_at = payment.amount, at
        elif event == "capture":
            captured, paid_at = captured + (facts.event_amount or payment.amount), at
        elif event == "refund":
            refunded = refunded + (facts.event_amount or Decimal(0))
        moved = replace(
            payment,
            state=target,
            state_entered_at=at,
            captured=captured,
            refunded=refunded,
            paid_at=paid_at,
            updated_at=at,
        )
        conn.execute(
            "UPDATE payments SET state = ?, state_entered_at = ?, captured_amount = ?, "
            "refunded_amount = ?, paid_at = ?, updated_at = ?, channel_payment_id = ? "
            "WHERE shop_id = ? AND payment_id = ?",
            (
                target,
                to_storage(at),
                str(captured),
                str(refunded),
                to_storage(paid_at) if paid_at else None,
                to_storage(at),
                moved.channel_payment_id,
                payment.shop_id,
                payment.payment_id,
            ),
        )
        if self.events is not None:
            self.events.payment_moved(
                conn, payment.shop_id, payment.payment_id, payment.state, target
            )
        record_history(
            conn,
            payment.shop_id,
            "payment",
            payment.payment_id,
            payment.payment_id,
            event,
            payment.state,
            target,
            at,
            cause,
        )
        return moved

    def _move_operation(self, conn, operation, event, target, at, cause) -> Operation:
        moved = replace(operation, state=target, state_entered_at=at)
        conn.execute(
            "UPDATE operations SET state = ?, state_entered_at = ?, channel_id = ?, updated_at = ? "
            "WHERE shop_id = ? AND kind = ? AND operation_id = ?",
            (
                target,
                to_storage(at),
                moved.channel_id,
                to_storage(at),
                operation.shop_id,
                operation.kind,
                operation.operation_id,
            ),
        )
        if self.events is not None:
            self.events.operation_moved(
                conn, operation.shop_id, operation.kind, operation.operation_id
            )
        record_history(
            conn,
            operation.shop_id,
            operation.kind,
            operation.operation_id,
            operation.payment_id,
            event,
            operation.state,
            target,
            at,
            cause,
        )
        return moved


def record_history(conn, shop_id, kind, object_id, payment_id, event, source, target, at, cause):
    conn.execute(
        "INSERT INTO history (shop_id, kind, object_id, payment_id, event, from_state, to_state, "
        "at, cause) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (shop_id, kind, object_id, payment_id, event, source, target, to_storage(at), cause),
    )


def _refusal(exc: TransitionRefused) -> str:
    if exc.reason == "no such transition":
        return f"is {exc.state} and cannot take '{exc.event}'"
    return f"is {exc.state} and cannot take '{exc.event}': {exc.reason}"

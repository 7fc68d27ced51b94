"""Moving payments and operations through their machines, and remembering each step.

Every state change goes through here: events fired by callbacks or the control API, and
timeouts that came due on the sandbox clock (applied lazily, whenever an object is read).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from sandbox.core.clock import Clock
from sandbox.core.machine import Facts, Machine, TransitionRefused
from sandbox.core.timefmt import to_storage
from sandbox.errors import Conflict
from sandbox.store import platform as rows
from sandbox.store.db import Database
from sandbox.store.records import Operation, Payment, Step
from sandbox.store.tables import Connection


class Events(Protocol):
    """Told of every change, in the same transaction (the platform's webhook events)."""

    def payment_created(self, conn: Connection, shop_id: int, payment_id: str, order_id: int): ...

    def payment_moved(
        self, conn: Connection, shop_id: int, payment_id: str, before: str, after: str
    ) -> None: ...

    def operation_created(
        self, conn: Connection, shop_id: int, kind: str, operation_id: str
    ) -> None: ...

    def operation_moved(
        self, conn: Connection, shop_id: int, kind: str, operation_id: str
    ) -> None: ...


class Lifecycle:
    def __init__(self, db: Database, machines: dict[str, Machine], events: Events):
        self.db = db
        self.machines = machines
        self.events = events

    # ---- reading, with due timeouts applied ------------------------------------------------

    def settled_payment(self, payment: Payment, clock: Clock) -> Payment:
        """``payment`` with any due timeouts applied (and stored); free when none can apply."""
        machine = self.machines["payment"]
        if not any(t.timeout for t in machine.transitions_from(payment.state)):
            return payment
        now = clock.now(payment.shop_id)
        if (
            machine.due_timeout(payment.state, payment.state_entered_at, now, payment.facts())
            is None
        ):
            return payment
        with self.db.write() as conn:
            current = rows.load_payment(conn, payment.shop_id, payment.payment_id)
            return self.apply_payment_timeouts(conn, current, now) if current else payment

    def apply_payment_timeouts(self, conn: Connection, payment: Payment, now: datetime) -> Payment:
        machine = self.machines["payment"]
        for _ in range(len(machine.states) + 1):  # a chain of timeouts ends; a loop must not
            due = machine.due_timeout(payment.state, payment.state_entered_at, now, payment.facts())
            if due is None:
                break
            transition, at = due
            payment = self._move_payment(
                conn, payment, (transition.event, transition.target, at, "timeout"), payment.facts()
            )
        return payment

    def settled_operation(self, conn: Connection, operation: Operation, now: datetime) -> Operation:
        machine = self.machines[operation.kind]
        for _ in range(len(machine.states) + 1):
            due = machine.due_timeout(operation.state, operation.state_entered_at, now, Facts())
            if due is None:
                break
            transition, at = due
            operation = self._move_operation(
                conn, operation, (transition.event, transition.target, at, "timeout")
            )
        return operation

    # ---- firing events ---------------------------------------------------------------------

    def fire_payment(
        self,
        conn: Connection,
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
        return self._move_payment(conn, payment, (event, transition.target, now, cause), facts)

    def fire_operation(
        self,
        conn: Connection,
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
        return self._move_operation(conn, operation, (event, transition.target, now, cause))

    # ---- persistence -----------------------------------------------------------------------

    def _move_payment(
        self,
        conn: Connection,
        payment: Payment,
        step: tuple[str, str, datetime, str],
        facts: Facts,
    ) -> Payment:
        """Enter the target state; the money moves as the event says (documented per event).
        ``step`` is (event, target, at, cause)."""
        event, target, at, cause = step
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
        rows.save_payment_state(conn, moved)
        self.events.payment_moved(conn, payment.shop_id, payment.payment_id, payment.state, target)
        record_history(
            conn,
            Step(
                payment.shop_id,
                "payment",
                payment.payment_id,
                payment.payment_id,
                event,
                payment.state,
                target,
                to_storage(at),
                cause,
            ),
        )
        return moved

    def _move_operation(
        self, conn: Connection, operation: Operation, step: tuple[str, str, datetime, str]
    ) -> Operation:
        event, target, at, cause = step
        moved = replace(operation, state=target, state_entered_at=at)
        rows.save_operation_state(conn, moved)
        self.events.operation_moved(conn, operation.shop_id, operation.kind, operation.operation_id)
        record_history(
            conn,
            Step(
                operation.shop_id,
                operation.kind,
                operation.operation_id,
                operation.payment_id,
                event,
                operation.state,
                target,
                to_storage(at),
                cause,
            ),
        )
        return moved


def record_history(conn: Connection, step: Step) -> None:
    rows.insert_step(conn, step)


def _refusal(exc: TransitionRefused) -> str:
    if exc.reason == "no such transition":
        return f"is {exc.state} and cannot take '{exc.event}'"
    return f"is {exc.state} and cannot take '{exc.event}': {exc.reason}"

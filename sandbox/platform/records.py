"""Typed views of stored rows and the queries that load them."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

from sandbox.core.machine import Facts
from sandbox.core.timefmt import from_storage, parse_offset


@dataclass(frozen=True)
class Shop:
    id: int
    handle: str
    name: str
    domain: str
    utc_offset: str
    currency: str
    fee_rule: str | None
    template: str
    credentials: dict[str, Any]

    @property
    def tz(self):
        return parse_offset(self.utc_offset)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Shop:
        return cls(
            row["id"],
            row["handle"],
            row["name"],
            row["domain"],
            row["utc_offset"],
            row["currency"],
            row["fee_rule"],
            row["template"],
            json.loads(row["credentials"]),
        )


@dataclass
class Payment:
    shop_id: int
    payment_id: str
    legacy_id: int
    order_id: int
    app_id: int | None
    amount: Decimal
    currency: str
    manual_capture: bool
    test: bool
    state: str
    state_entered_at: datetime
    channel_payment_id: str | None
    captured: Decimal
    refunded: Decimal
    method_json: str
    bank_code: str
    pay_by_other: bool
    created_at: datetime
    updated_at: datetime
    paid_at: datetime | None

    @cached_property
    def method(self) -> dict[str, Any]:
        return json.loads(self.method_json)

    @property
    def online(self) -> bool:
        return self.method.get("payment_method_type") == "online"

    def facts(self, event_amount: Decimal | None = None) -> Facts:
        return Facts(
            manual_capture=self.manual_capture,
            online=self.online,
            amount=self.amount,
            captured=self.captured,
            refunded=self.refunded,
            event_amount=event_amount,
        )

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Payment:
        return cls(
            shop_id=row["shop_id"],
            payment_id=row["payment_id"],
            legacy_id=row["legacy_id"],
            order_id=row["order_id"],
            app_id=row["app_id"],
            amount=Decimal(row["amount"]),
            currency=row["currency"],
            manual_capture=bool(row["manual_capture"]),
            test=bool(row["test"]),
            state=row["state"],
            state_entered_at=from_storage(row["state_entered_at"]),
            channel_payment_id=row["channel_payment_id"],
            captured=Decimal(row["captured_amount"]),
            refunded=Decimal(row["refunded_amount"]),
            method_json=row["method"],
            bank_code=row["bank_code"],
            pay_by_other=bool(row["pay_by_other"]),
            created_at=from_storage(row["created_at"]),
            updated_at=from_storage(row["updated_at"]),
            paid_at=from_storage(row["paid_at"]) if row["paid_at"] else None,
        )


@dataclass
class Operation:
    """A capture, void or refund the platform asked the app for."""

    shop_id: int
    kind: str
    operation_id: str
    payment_id: str
    amount: Decimal | None
    state: str
    state_entered_at: datetime
    channel_id: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Operation:
        return cls(
            row["shop_id"],
            row["kind"],
            row["operation_id"],
            row["payment_id"],
            Decimal(row["amount"]) if row["amount"] is not None else None,
            row["state"],
            from_storage(row["state_entered_at"]),
            row["channel_id"],
            from_storage(row["created_at"]),
        )


def load_shop(conn: sqlite3.Connection, shop_id: int) -> Shop | None:
    row = conn.execute("SELECT * FROM shops WHERE id = ?", (shop_id,)).fetchone()
    return Shop.from_row(row) if row else None


def find_shop(conn: sqlite3.Connection, handle: str) -> Shop | None:
    row = conn.execute("SELECT * FROM shops WHERE handle = ?", (handle,)).fetchone()
    return Shop.from_row(row) if row else None


def load_payment(conn: sqlite3.Connection, shop_id: int, payment_id: str) -> Payment | None:
    row = conn.execute(
        "SELECT * FROM payments WHERE shop_id = ? AND payment_id = ?", (shop_id, payment_id)
    ).fetchone()
    return Payment.from_row(row) if row else None


def load_payment_with_context(
    conn: sqlite3.Connection, shop_id: int, payment_id: str
) -> tuple[Payment, str, Shop] | None:
    """A payment with its order number and its shop, in one query (the hot read path)."""
    row = conn.execute(
        "SELECT p.*, o.order_no, s.id AS s_id, s.handle, s.name, s.domain, s.utc_offset, "
        "s.currency AS s_currency, s.fee_rule, s.template, s.credentials FROM payments p "
        "JOIN shops s ON s.id = p.shop_id LEFT JOIN orders o "
        "ON o.shop_id = p.shop_id AND o.id = p.order_id WHERE p.shop_id = ? AND p.payment_id = ?",
        (shop_id, payment_id),
    ).fetchone()
    if row is None:
        return None
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


def load_order_payments(conn: sqlite3.Connection, shop_id: int, order_id: int) -> list[Payment]:
    rows = conn.execute(
        "SELECT * FROM payments WHERE shop_id = ? AND order_id = ? ORDER BY created_at, legacy_id",
        (shop_id, order_id),
    ).fetchall()
    return [Payment.from_row(r) for r in rows]


def load_operation(
    conn: sqlite3.Connection, shop_id: int, kind: str, operation_id: str
) -> Operation | None:
    row = conn.execute(
        "SELECT * FROM operations WHERE shop_id = ? AND kind = ? AND operation_id = ?",
        (shop_id, kind, operation_id),
    ).fetchone()
    return Operation.from_row(row) if row else None


def load_order(conn: sqlite3.Connection, shop_id: int, order_id: int) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT * FROM orders WHERE shop_id = ? AND id = ?", (shop_id, order_id)
    ).fetchone()

"""Typed records of the platform's stored rows: what the store functions return and take."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from functools import cached_property
from typing import Any

from sandbox.core.machine import Facts
from sandbox.core.timefmt import from_storage, parse_offset
from sandbox.store.tables import Row


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
    rate_size: int | None = None
    rate_per_second: float | None = None
    # Sandbox extensions, off by default: send X-Genstore-Shop-Domain to apps; treat an app's
    # non-conforming answer as a failed request.
    shop_header: bool = False
    strict: bool = False
    request_shape: str = "example"  # the shape of its payment requests (platform/shapes.py)

    @property
    def tz(self) -> timezone:
        return parse_offset(self.utc_offset)

    @classmethod
    def from_row(cls, row: Row) -> Shop:
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
            row["rate_size"],
            row["rate_per_second"],
            bool(row["shop_header"]),
            bool(row["strict"]),
            row["request_shape"],
        )


@dataclass(frozen=True)
class App:
    id: int
    shop_id: int
    name: str
    client_id: str
    client_secret: str
    scopes: str  # space-separated, as stored
    activated: bool
    activated_at: str | None
    urls: dict[str, str]
    public_key: str | None
    capture_flag: str = "published"  # how manualCapture reads: protocol.CAPTURE_FLAG_READINGS
    status_query: str = "query"  # how it is asked Get payment: protocol.STATUS_QUERY_FORMS

    @classmethod
    def from_row(cls, row: Row) -> App:
        return cls(
            row["id"],
            row["shop_id"],
            row["name"],
            row["client_id"],
            row["client_secret"],
            row["scopes"],
            bool(row["activated"]),
            row["activated_at"],
            json.loads(row["urls"]),
            row["public_key"],
            row["capture_flag"],
            row["status_query"],
        )


@dataclass(frozen=True)
class Token:
    token: str
    shop_id: int
    app_id: int | None
    scopes: str
    created_at: str
    expires_at: str | None = None
    revoked_at: str | None = None
    user_id: int | None = None
    app_name: str | None = None  # filled by listings that join the app

    @classmethod
    def from_row(cls, row: Row) -> Token:
        keys = row.keys()
        return cls(
            row["token"],
            row["shop_id"],
            row["app_id"],
            row["scopes"],
            row["created_at"],
            row["expires_at"],
            row["revoked_at"],
            row["user_id"],
            row["app"] if "app" in keys else None,
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
    kind: str = "card"
    card_last4: str | None = None
    app_answer_json: str | None = None
    request_shape: str | None = None  # the shape its request went out in (None: seeded)

    @cached_property
    def method(self) -> dict[str, Any]:
        method: dict[str, Any] = json.loads(self.method_json)
        return method

    @property
    def online(self) -> bool:
        return bool(self.method.get("payment_method_type") == "online")

    @property
    def app_answer(self) -> dict[str, Any] | None:
        return json.loads(self.app_answer_json) if self.app_answer_json else None

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
    def from_row(cls, row: Row) -> Payment:
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
            kind=row["kind"],
            card_last4=row["card_last4"],
            app_answer_json=row["app_answer"],
            request_shape=row["request_shape"],
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
    def from_row(cls, row: Row) -> Operation:
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


@dataclass(frozen=True)
class Order:
    shop_id: int
    id: int
    order_no: str
    created_at: str


@dataclass(frozen=True)
class Step:
    """One state change, as the history keeps it."""

    shop_id: int
    kind: str
    object_id: str
    payment_id: str
    event: str
    from_state: str
    to_state: str
    at: str
    cause: str


@dataclass(frozen=True)
class Result:
    """What an app reported for a payment or an operation: the first one is final."""

    shop_id: int
    kind: str
    object_id: str
    result: bool
    reason: str | None
    channel_id: str | None
    received_at: str


@dataclass(frozen=True)
class Violation:
    """An app's answer that broke seed 001: which request, which field, which rule."""

    shop_id: int
    payment_id: str | None
    message_id: int | None
    kind: str  # the request answered: app.payment, app.get_refund, ...
    field: str
    rule: str
    at: str
    id: int = 0


@dataclass(frozen=True)
class Webhook:
    id: int
    shop_id: int
    app_id: int
    address: str
    topic: str
    created_at: str
    updated_at: str
    failures: int
    disabled_at: str | None

    @classmethod
    def from_row(cls, row: Row) -> Webhook:
        return cls(**{key: row[key] for key in row.keys()})  # noqa: SIM118 (a Row iterates values)


@dataclass(frozen=True)
class Subscriber:
    """A live subscription to a topic, with what signing a delivery to it needs."""

    webhook_id: int
    address: str
    client_secret: str
    shop_domain: str


@dataclass(frozen=True)
class NewPayment:
    """A payment as it is first stored (checkout or seeding)."""

    shop_id: int
    payment_id: str
    legacy_id: int
    order_id: int
    app_id: int | None
    amount: str
    currency: str
    manual_capture: bool
    state: str
    state_entered_at: str
    method: dict[str, Any]
    created_at: str
    updated_at: str
    test: bool = True
    channel_payment_id: str | None = None
    captured_amount: str = "0"
    refunded_amount: str = "0"
    bank_code: str = ""
    pay_by_other: bool = False
    paid_at: str | None = None
    kind: str = "card"
    card_last4: str | None = None
    app_answer: dict[str, Any] | None = None
    request_shape: str | None = None


@dataclass(frozen=True)
class NewOperation:
    shop_id: int
    kind: str
    operation_id: str
    payment_id: str
    amount: str | None
    state: str
    created_at: str
    channel_id: str | None = None


@dataclass(frozen=True)
class NewApp:
    shop_id: int
    name: str
    client_id: str
    client_secret: str
    scopes: str
    urls: dict[str, str]
    public_key: str | None
    activated: bool = False
    activated_at: str | None = None
    capture_flag: str = "published"
    status_query: str = "query"


@dataclass(frozen=True)
class NewShop:
    handle: str
    name: str
    domain: str
    utc_offset: str
    currency: str
    fee_rule: str | None
    rate_size: int | None
    rate_per_second: float | None
    template: str
    credentials: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    shop_header: bool = False
    strict: bool = False
    request_shape: str = "example"

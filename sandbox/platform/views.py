"""How a payment shows to merchants: the transaction query (seed 002) and the legacy Order
Payment API (seed 003). Pure functions of records, machines and the shop's fee rule."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.core import money
from sandbox.core.machine import GUARDS, Machine
from sandbox.core.timefmt import iso_millis, iso_seconds
from sandbox.store.records import Payment, Shop

LEGACY_FIELDS = (
    "amount",
    "bank_code",
    "created_at",
    "exipired_at",
    "gateway_payment_no",
    "id",
    "is_available",
    "mode",
    "payment_method",
    "pay_by_other",
    "status",
    "updated_at",
)


def transaction(
    payment: Payment, order_no: str, shop: Shop, machine: Machine, fee_rule: money.FeeRule | None
) -> dict[str, Any]:
    """``{"payment": {...}}``: amount is what was captured once money moved, else authorized."""
    currency = payment.currency
    gross = payment.captured if payment.captured > 0 else payment.amount
    fee = fee_rule.fee(payment.captured, currency) if fee_rule else Decimal(0)
    net = payment.captured - fee if payment.captured > 0 else Decimal(0)
    body: dict[str, Any] = {
        "paymentId": payment.payment_id,
        "outOrderNo": order_no,
        "status": machine.view(payment.state, "transaction_code"),
        "amount": money.format_amount(gross, currency),
        "fee": money.format_amount(fee, currency),
        "net": money.format_amount(net, currency),
        "currency": currency,
    }
    if payment.channel_payment_id:
        body["channelTrxNo"] = payment.channel_payment_id
    if payment.paid_at is not None:
        body["successPaymentTime"] = iso_seconds(payment.paid_at, shop.tz)
    return {"payment": body}


def expires_at(payment: Payment, machine: Machine) -> datetime | None:
    """Creation plus the timeout out of the initial state that applies to this payment."""
    for transition in machine.transitions_from(machine.initial):
        if transition.timeout is None:
            continue
        if transition.guard is None or GUARDS[transition.guard](payment.facts()):
            return payment.created_at + transition.timeout
    return None


def available_payment(payments: Sequence[Payment], machine: Machine) -> Payment | None:
    """Only one payment per order is available: the paid one, else the newest still pending."""
    statuses = [(p, machine.view(p.state, "legacy_status")) for p in payments]
    paid = [p for p, status in statuses if status == "paid"]
    if paid:
        return paid[-1]
    pending = [p for p, status in statuses if status == "pending"]
    return pending[-1] if pending else None


def legacy_payment(payment: Payment, shop: Shop, machine: Machine, available: bool) -> dict:
    status = machine.view(payment.state, "legacy_status")
    amount = money.quantize(payment.amount, payment.currency)
    body: dict[str, Any] = {
        "amount": int(amount) if amount == amount.to_integral_value() else float(amount),
        "bank_code": payment.bank_code,
        "created_at": iso_millis(payment.created_at, shop.tz),
        "gateway_payment_no": (
            payment.channel_payment_id if payment.online and status == "paid" else None
        ),
        "id": payment.legacy_id,
        "is_available": available,
        "mode": payment.method.get("payment_method_type", "online"),
        "payment_method": payment.method,
        "pay_by_other": payment.pay_by_other,
        "status": status,
        "updated_at": iso_millis(payment.updated_at, shop.tz),
    }
    if payment.online and (expiry := expires_at(payment, machine)) is not None:
        # Seed 003: creation plus two days. A payment that stopped being payable earlier
        # (failed, voided) does not show a future expiry next to status expired.
        if status == "expired":
            expiry = min(expiry, payment.state_entered_at)
        body["exipired_at"] = iso_millis(expiry, shop.tz)
    return body


def select_fields(body: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    if not fields:
        return body
    return {name: body[name] for name in fields if name in body}

"""Capture, void and refund rules, and how a payment's status reads at the app."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.core import money
from sandbox.core.timefmt import from_storage
from sandbox.store.psp import PspPayment

PREFIXES = {"capture": "psp_cap_", "void": "psp_voi_", "refund": "psp_ref_"}


def status(payment: PspPayment, now: datetime) -> str:
    """PROCESSING until decided (and the decision's delay passed); a voided authorization
    fails, a captured one succeeds."""
    if payment.decision is None or from_storage(payment.decided_at) > now:  # type: ignore[arg-type]
        return "PROCESSING"
    if payment.voided:
        return "FAILURE"
    if payment.decision == "AUTH_SUCCESS" and Decimal(payment.captured) > 0:
        return "SUCCESS"
    return payment.decision


def judge(
    kind: str, payment: PspPayment | None, raw_amount: Any, now: datetime
) -> tuple[Decimal | None, str | None]:
    """The amount, and why the operation is refused (None when it is not)."""
    if payment is None:
        return None, "Payment not found"
    currency = payment.currency
    amount = None
    if raw_amount is not None:
        try:
            amount = money.parse_amount(raw_amount, currency)
        except ValueError as exc:
            return None, f"Invalid amount: {exc}"
    shown = status(payment, now)
    authorized = Decimal(payment.amount)
    captured, refunded = Decimal(payment.captured), Decimal(payment.refunded)
    if kind == "capture":
        if shown == "SUCCESS" and payment.manual_capture:
            return amount, "Payment do not support multiple captures"
        if shown != "AUTH_SUCCESS":
            return amount, f"Payment is not authorized (status {shown})"
        if amount is not None and amount > authorized:
            return amount, f"Capture amount {amount} exceeds the authorized {authorized}"
    elif kind == "void":
        if shown != "AUTH_SUCCESS":
            return amount, f"Only an authorized payment can be voided (status {shown})"
    elif kind == "refund":
        if captured <= 0 or shown != "SUCCESS":
            return amount, f"Payment has not been captured (status {shown})"
        if refunded + (amount or Decimal(0)) > captured:
            left = money.format_amount(captured - refunded, currency)
            return amount, f"Refund amount {amount} exceeds what is left to refund ({left})"
    return amount, None


def effect(kind: str, payment: PspPayment, amount: Decimal | None) -> dict[str, Any]:
    """What an accepted operation changes on the payment."""
    if kind == "capture":
        return {"captured": str(amount)}
    if kind == "void":
        return {"voided": True}
    return {"refunded": str(Decimal(payment.refunded) + (amount or Decimal(0)))}

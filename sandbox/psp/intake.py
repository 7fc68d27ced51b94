"""Taking a request in: test mode only, the amount and currency, the fingerprint a repeated
request must match, and the card decrypted from GENSTORE-V1 and checked."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.core import crypto, money
from sandbox.core.digits import ascii_digits
from sandbox.errors import ApiError, invalid, parse_amount_field
from sandbox.protocol import reads_manual_capture


class CardError(ValueError):
    """The card data decrypted but is not a usable card."""


@dataclass(frozen=True)
class PaymentRequest:
    payment_id: str
    amount: Decimal
    currency: str
    manual_capture: bool
    fingerprint: str


@dataclass(frozen=True)
class Card:
    pan: str
    holder: str | None


def accept_payment(kind: str, body: dict[str, Any], capture_flag: str) -> PaymentRequest:
    """A card or offsite payment request, checked; its fingerprint covers what must match
    when the same paymentId comes again. ``capture_flag`` is how this app reads
    ``manualCapture`` (``protocol.CAPTURE_FLAG_READINGS``)."""
    require_test(body)
    try:
        currency = money.check_currency(body["currency"])
    except ValueError as exc:
        raise invalid("currency", str(exc)) from None
    amount = parse_amount_field(body["amount"], currency)
    manual = reads_manual_capture(bool(body["manualCapture"]), capture_flag)
    return PaymentRequest(
        body["paymentId"],
        amount,
        currency,
        manual,
        fingerprint(kind, body["paymentId"], str(amount), currency, body["manualCapture"]),
    )


def read_card(data: dict[str, Any], private_key_pem: str, info: bytes, now: datetime) -> Card:
    """Decrypt and check the card; :class:`crypto.CryptoError` or :class:`CardError` when it
    cannot be used."""
    card = crypto.decrypt_card(data, private_key_pem, info)
    pan = str(card.get("pan", "")).replace(" ", "")
    if not ascii_digits(pan):
        raise CardError("Invalid card number")
    try:
        month, year = int(card.get("month")), int(card.get("year"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise CardError("Invalid expiry date") from None
    if not 1 <= month <= 12:
        raise CardError("Invalid expiry date")
    year = year + 2000 if year < 100 else year
    if (year, month) < (now.year, now.month):
        raise CardError("Expired card")
    holder = card.get("fullName")
    return Card(pan, holder if isinstance(holder, str) else None)


def require_test(body: dict[str, Any]) -> None:
    if body.get("test") is not True:
        raise ApiError(
            "The sandbox payment app accepts test requests only (test: true)",
            details={"test": ["must be true"]},
            status=400,
        )


def fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).hexdigest()

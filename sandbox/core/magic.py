"""Magic values: which card number, holder name or amount makes the fake PSP do what.

Declared in ``fixtures/magic.yaml``; the first entry that matches a payment wins, and a payment
that matches none succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sandbox.core.digits import ascii_digits

OUTCOMES = ("success", "decline", "three_ds")


@dataclass(frozen=True)
class Magic:
    name: str
    description: str
    outcome: str
    reason: str | None = None
    card: str | None = None
    holder: str | None = None
    amount_from: Decimal | None = None
    amount_to: Decimal | None = None
    luhn_invalid: bool = False
    delay: timedelta = timedelta(0)
    callback_failures: int = 0

    def matches(self, pan: str | None, holder: str | None, amount: Decimal) -> bool:
        if self.luhn_invalid:
            return pan is not None and not luhn_valid(pan)
        if self.card is not None:
            return pan == self.card
        if self.holder is not None:
            return (holder or "").strip().upper() == self.holder.upper()
        if self.amount_from is not None and self.amount_to is not None:
            return self.amount_from <= amount <= self.amount_to
        return False

    def reason_for(self, amount: Decimal) -> str | None:
        """``{code}`` in a reason is the amount's whole part (Braintree's processor codes)."""
        if self.reason is None:
            return None
        return self.reason.replace("{code}", str(int(amount)))

    def describe(self) -> dict[str, Any]:
        match: dict[str, Any] = {}
        if self.luhn_invalid:
            match["luhn"] = "invalid"
        if self.card:
            match["card"] = self.card
        if self.holder:
            match["holder"] = self.holder
        if self.amount_from is not None:
            match["amount"] = [str(self.amount_from), str(self.amount_to)]
        return {
            "name": self.name,
            "description": self.description,
            "match": match,
            "outcome": self.outcome,
            "reason": self.reason,
            "delaySeconds": self.delay.total_seconds(),
            "callbackFailures": self.callback_failures,
        }


SUCCESS = Magic("default", "Any other valid card: approved", "success")


def choose(catalogue: list[Magic], pan: str | None, holder: str | None, amount: Decimal) -> Magic:
    for entry in catalogue:
        if entry.matches(pan, holder, amount):
            return entry
    return SUCCESS


def luhn_valid(pan: str) -> bool:
    if not ascii_digits(pan) or not 12 <= len(pan) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(pan)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0

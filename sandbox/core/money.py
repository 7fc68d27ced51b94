"""Amounts as Decimals with each currency's minor units; fee rules."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 minor units where they differ from 2.
_EXPONENTS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}
_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_AMOUNT = Decimal("999999999999")
_AMOUNT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_LONGEST = 32  # characters: more is never an amount (MAX_AMOUNT has 12 digits)


def check_currency(code: object) -> str:
    if not isinstance(code, str) or not _CURRENCY.match(code):
        raise ValueError(f"not a three-letter ISO 4217 currency code: {code!r}")
    return code


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency, 2)


def parse_amount(value: object, currency: str, *, allow_zero: bool = False) -> Decimal:
    """Parse ``"25.00"``, ``"25"`` or ``25`` for ``currency``; refuse more decimals than it has.

    One grammar everywhere: ASCII digits with an optional decimal point; no exponent, no
    surrounding spaces, no other digits (``"١٢"``), nothing longer than an amount can be."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, float):
        text = f"{Decimal(repr(value)):f}"
    elif isinstance(value, Decimal):
        text = f"{value:f}"
    else:
        text = str(value)
    if len(text) > _LONGEST:
        raise ValueError(f"amount too large: {text[:20]}...")
    if not _AMOUNT.fullmatch(text):
        raise ValueError(
            f"not an amount: {value!r} (ASCII digits with an optional decimal point, no "
            "exponent or spaces)"
        )
    amount = Decimal(text)
    places = exponent(currency)
    if amount != amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):
        raise ValueError(f"{currency} amounts have at most {places} decimal places: {text}")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValueError(f"amount must be greater than zero: {text}")
    if amount > MAX_AMOUNT:
        raise ValueError(f"amount too large: {text}")
    return amount


def quantize(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-exponent(currency)), rounding=ROUND_HALF_UP)


def format_amount(amount: Decimal, currency: str) -> str:
    """Always with the currency's decimal places and a point: ``"25.00"``, ``"1000"`` (JPY)."""
    return f"{quantize(amount, currency):f}"


@dataclass(frozen=True)
class FeeRule:
    """fee = amount * percent / 100 + fixed, rounded half up to the currency's minor unit."""

    percent: Decimal = Decimal(0)
    fixed: Decimal = Decimal(0)

    def fee(self, amount: Decimal, currency: str) -> Decimal:
        if amount <= 0:
            return quantize(Decimal(0), currency)
        return min(quantize(amount * self.percent / 100 + self.fixed, currency), amount)

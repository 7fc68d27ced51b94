"""The shapes of a payment request the platform sends an app, all within seed 001.

Seed 001 marks some fields required and leaves the rest optional, and a real app meets both a
sparse request and a full one. A shop picks the shape (``requestShape``; a checkout may ask for
one): ``example`` (the default) fills the fields the seed's examples fill; ``minimal`` sends only
what the seed marks required, with nested objects the seed requires but whose fields it does not
mark (``customer``, ``clientDetails``) pared to one field each; ``full`` sends every optional
field, Unicode and long names and descriptions, several items; ``varied`` picks one of the three
per request (repeatable with the sandbox's ``--seed``). Nothing the seed forbids is ever sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sandbox.core import money
from sandbox.protocol import SEED_CUSTOMER

REQUEST_SHAPES = {
    "example": "the fields seed 001's examples fill (the default)",
    "minimal": "only what seed 001 marks required: no purchaseInfo on card payments, a buyer "
    "with an email only, clientDetails with an IP address only",
    "full": "every optional field: purchaseInfo with several items, both addresses, Unicode "
    "and maximum-length names and descriptions",
    "varied": "one of example, minimal and full per request (repeatable with --seed)",
}
SENT_SHAPES = ("example", "minimal", "full")
# The seeds give no length limits; the full shape sends these (a sandbox choice).
MAX_NAME = 255
MAX_DESCRIPTION = 1024

EXAMPLE_CLIENT_DETAILS = {
    "acceptLanguage": "en-US,en;q=0.9",
    "ipAddress": "203.0.113.7",
    "userAgent": "Mozilla/5.0 (X11; Linux x86_64) GenstoreSandbox/1.0",
}
_FULL_ADDRESS = {
    "phoneNumber": "+81 3-1234-5678",
    "province": "東京都",
    "city": "Shibuya-ku 渋谷区",
    "countryCode": "JP",
    "givenName": "Zoë",
    "familyName": "Ñúñez-王",
    "postalCode": "150-0002",
    "company": "Société Générale d'Essai — テスト株式会社",
    "line2": "Apt. 5 / 5号室",
    "line1": "2-21-1 Shibuya, ヒカリエ",
}
_FULL_CUSTOMER = {
    "phoneNumber": "+8618800008888",
    "shippingAddress": _FULL_ADDRESS,
    "billingAddress": {**_FULL_ADDRESS, "givenName": "Łukasz", "familyName": "Šťastný"},
    "email": "zoe.nunez+genstore@example.com",
}
_FULL_CLIENT_DETAILS = {
    "acceptLanguage": "ja-JP,ja;q=0.9,zh-CN;q=0.8,en-US;q=0.7,en;q=0.6",
    "ipAddress": "2001:db8::7",
    "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/138.0.0.0 Safari/537.36 GenstoreSandbox/1.0 (full request shape)",
}


def _long(text: str, length: int) -> str:
    """``text`` repeated to exactly ``length`` characters."""
    return (text * (length // len(text) + 1))[:length]


def resolve(shape: str, pick: Callable[[Sequence[str]], str]) -> str:
    """The shape one request is sent in: ``varied`` picks one of the others."""
    return pick(SENT_SHAPES) if shape == "varied" else shape


def payment_body(
    shape: str, base: dict[str, Any], method_data: dict[str, Any], offsite: bool
) -> dict[str, Any]:
    """A card or offsite payment request in ``shape`` (a resolved one, never ``varied``).
    ``base`` holds the required scalar fields (paymentId, amount, currency, test,
    manualCapture); ``method_data`` is ``paymentMethod.data``."""
    amount, currency = Decimal(base["amount"]), base["currency"]
    body = dict(base)
    method = {"data": method_data}
    if shape == "minimal":
        body["customer"] = {"email": SEED_CUSTOMER["email"]}
        if offsite:  # purchaseInfo is required for offsite payments only
            body["purchaseInfo"] = {"itemTotal": base["amount"]}
        body["paymentMethod"] = method
        if not offsite:
            body["clientDetails"] = {"ipAddress": EXAMPLE_CLIENT_DETAILS["ipAddress"]}
        return body
    full = shape == "full"
    body["customer"] = _FULL_CUSTOMER if full else SEED_CUSTOMER
    body["purchaseInfo"] = (full_purchase_info if full else purchase_info)(amount, currency)
    body["paymentMethod"] = method
    if not offsite:  # seed 001 lists clientDetails for card payments only
        body["clientDetails"] = _FULL_CLIENT_DETAILS if full else EXAMPLE_CLIENT_DETAILS
    return body


def purchase_info(amount: Decimal, currency: str) -> dict[str, Any]:
    """One item worth the whole amount, as the seed's examples show it."""
    total = money.format_amount(amount, currency)
    zero = money.format_amount(Decimal(0), currency)
    return {
        "itemTotal": total,
        "shipping": zero,
        "taxTotal": zero,
        "discount": zero,
        "handling": zero,
        "insurance": zero,
        "shippingDiscount": zero,
        "description": "Sandbox order",
        "items": [
            {
                "name": "Sandbox T-Shirt",
                "description": "A test item",
                "sku": "SBX-1",
                "unitPrice": total,
                "quantity": "1",
                "tax": zero,
                "category": "1",
                "imgUrl": "",
                "virtualProduct": "false",
            }
        ],
    }


def full_purchase_info(amount: Decimal, currency: str) -> dict[str, Any]:
    """Every field filled: the paid item, then two free ones (a virtual gift card and one with
    a name and description at the full shape's maximum lengths)."""
    info = purchase_info(amount, currency)
    zero = info["shipping"]
    info["description"] = _long("Commande n° 42 — 注文 — Bestellung ✓ ", MAX_DESCRIPTION)
    paid = {
        **info["items"][0],
        "name": "Black Cotton T-Shirt 黒いTシャツ — Größe M",
        "description": "Casual Black Cotton T-Shirt and White Denim Shorts 🧵",
        "imgUrl": "https://cdn.example.com/items/SBX-1.png",
    }
    gift = {
        **paid,
        "name": "Gift card 🎁 ギフトカード",
        "sku": "SBX-GIFT",
        "unitPrice": zero,
        "category": "2",
        "virtualProduct": "true",
    }
    longest = {
        **paid,
        "name": _long("Très long nom d'article 非常に長い商品名 ", MAX_NAME),
        "description": _long("Ein sehr langer Artikelbeschreibungstext — 説明 ", MAX_DESCRIPTION),
        "sku": "SBX-LONG",
        "unitPrice": zero,
        "quantity": "3",
    }
    info["items"] = [paid, gift, longest]
    return info

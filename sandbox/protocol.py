"""What both sides know from Genstore's public contract, and nothing else: header names, the
callback paths and their id and channel-id fields, booleans sent as strings, launch-URL
signing. ``platform/`` and ``psp/`` import this module and never each other."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from marshmallow import fields

API_VERSION = "202412"
TOKEN_HEADER = "X-Genstore-Access-Token"
RATE_LIMIT_HEADER = "X-Genstore-Shop-Api-Rate-Limit"
# A sandbox extension (not in Genstore's docs): which shop a platform -> app request is for.
SHOP_HEADER = "X-Genstore-Shop-Domain"
WEBHOOK_TOPIC_HEADER = "X-Genstore-Topic"
WEBHOOK_HMAC_HEADER = "X-Genstore-Hmac-Sha256"
WEBHOOK_ID_HEADER = "X-Genstore-Webhook-Id"

# The platform -> app requests (seed 001), as the outbox names them (``app.<name>``).
APP_REQUESTS = (
    "payment",
    "offsite_payment",
    "capture",
    "void",
    "refund",
    "get_payment",
    "get_refund",
)


# How the platform asks Get payment / Get refund (seed 001 lists the id under "Request Params"
# and its example shows a JSON body): a query parameter (the default) or that JSON body.
STATUS_QUERY_FORMS = {
    "query": "the id as a query parameter: GET .../payment?paymentId=PI...",
    "body": 'the id in a JSON body, as seed 001\'s example shows: GET with {"paymentId": "PI..."}',
}

PAYMENT_STATUSES = ("PROCESSING", "SUCCESS", "AUTH_SUCCESS", "FAILURE")
REFUND_STATUSES = ("PROCESSING", "SUCCESS", "FAILURE")
# What an app answers each request with (seed 001's "Response Data"): field -> (required,
# allowed values or None for any string). Every answer is HTTP 200.
ANSWER_FIELDS: dict[str, dict[str, tuple[bool, tuple[str, ...] | None]]] = {
    "payment": {"threeDsUrl": (False, None), "error": (True, None)},
    "offsite_payment": {"redirectUrl": (True, None), "error": (True, None)},
    "capture": {"channelCaptureId": (False, None), "error": (False, None)},
    "void": {"channelVoidId": (False, None), "error": (False, None)},
    "refund": {"channelRefundId": (True, None), "error": (False, None)},
    "get_payment": {
        "channelPaymentId": (True, None),
        "status": (True, PAYMENT_STATUSES),
        "error": (False, None),
    },
    "get_refund": {
        "channelRefundId": (True, None),
        "status": (True, REFUND_STATUSES),
        "error": (False, None),
    },
}


def answer_problems(request: str, status: int, body: Any) -> list[tuple[str, str]]:
    """How an app's answer to ``request`` (a key of :data:`ANSWER_FIELDS`) breaks seed 001:
    (field, rule) pairs, none when it conforms. Fields the seed does not name are allowed."""
    problems: list[tuple[str, str]] = []
    if status != 200:
        problems.append(("status", f"HTTP {status}: seed 001 answers every request with 200"))
    if not isinstance(body, dict):
        problems.append(("body", "must be a JSON object"))
        return problems
    for field, (required, allowed) in ANSWER_FIELDS[request].items():
        if field not in body:
            if required:
                problems.append((field, "required by seed 001"))
            continue
        value = body[field]
        if not isinstance(value, str):
            problems.append((field, f"must be a string, got {type(value).__name__}"))
        elif allowed is not None and value not in allowed:
            problems.append((field, f"'{value[:40]}' is not one of {', '.join(allowed)}"))
    return problems


ACCOUNT_AUTHORIZE_PATH = f"/api/{API_VERSION}/app/account_authorize"


def callback_path(kind: str, object_id: str) -> str:
    """Where an app reports a result: ``PUT /api/202412/app/{kind}/{id}``."""
    return f"/api/{API_VERSION}/app/{kind}/{object_id}"


def id_field(kind: str) -> str:
    """The id a callback or request carries: ``paymentId`` for payments, ``refundId``, ..."""
    return "paymentId" if kind in ("payment", "pre_authorize") else f"{kind}Id"


def channel_field(kind: str) -> str:
    """The app's own id for the object: ``channelPaymentId``, ``channelRefundId``, ..."""
    name = "payment" if kind in ("payment", "pre_authorize") else kind
    return f"channel{name.capitalize()}Id"


def flag(value: bool) -> str:
    """Genstore sends booleans as the strings ``"true"`` and ``"false"``."""
    return "true" if value else "false"


# Seed 001 describes manualCapture as "Payment capture type (true for automatic capture, false
# for manual capture)", the opposite of what the field's name suggests. Each app picks a reading.
CAPTURE_FLAG_READINGS = {
    "published": "as seed 001 reads: true for automatic capture, false for manual capture",
    "by_name": "as the name reads: true for manual capture (authorize only)",
}


def manual_capture_flag(manual_capture: bool, reading: str) -> str:
    """The ``manualCapture`` string the platform sends for an authorize-only payment (or not)."""
    return flag(manual_capture if reading == "by_name" else not manual_capture)


def reads_manual_capture(value: bool, reading: str) -> bool:
    """Whether an app taking ``manualCapture`` as ``reading`` authorizes only."""
    return value if reading == "by_name" else not value


class Flag(fields.Boolean):
    """Genstore sends booleans as strings (``"true"``); real JSON booleans are accepted too.
    Documented as what goes over the wire: the string ``"true"`` or ``"false"``."""

    truthy = {True, "true", "True", "TRUE"}
    falsy = {False, "false", "False", "FALSE"}
    # Documented as a string enum or a JSON boolean (sandbox.http.document_wire_alternatives).
    OPENAPI_ALTERNATIVES: tuple[str | dict[str, Any], ...] = ("boolean",)
    default_error_messages = {"invalid": "Not a valid boolean: use true or false."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool | str):  # 1 == True in Python; on the wire it is not
            raise self.make_error("invalid", input=value)
        return bool(super()._deserialize(value, attr, data, **kwargs))

    def __init__(self, **kwargs: Any):
        metadata = dict(kwargs.pop("metadata", {}))
        text = metadata.get("description", "")
        metadata["description"] = (
            f"{text} ({'a' if not text else 'A'} boolean in the seeds, sent as the string "
            '"true" or "false"; JSON true and false are accepted too)'
        ).strip()
        metadata.setdefault("enum", ["true", "false", "True", "False", "TRUE", "FALSE"])
        super().__init__(metadata=metadata, **kwargs)


def sign_launch(params: dict[str, str], secret: str) -> str:
    """Genstore's query signature: drop ``hmac``, sort by key, join ``k=v`` with ``&`` (values
    as they are, not URL-decoded), HMAC-SHA256 with the client secret, hex."""
    message = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "hmac")
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


# The buyer seed 001 shows in its examples; the checkout driver sends it.
SEED_ADDRESS: dict[str, str] = {
    "phoneNumber": "+8615885555",
    "province": "NY",
    "city": "Westbury",
    "countryCode": "US",
    "givenName": "John",
    "familyName": "Smith",
    "postalCode": "10013",
    "company": "IBM",
    "line2": "Apartment 5",
    "line1": "2063  Marshville Road",
}
SEED_CUSTOMER: dict[str, Any] = {
    "phoneNumber": "+8618800008888",
    "shippingAddress": SEED_ADDRESS,
    "billingAddress": SEED_ADDRESS,
    "email": "xxx@gmail.com",
}

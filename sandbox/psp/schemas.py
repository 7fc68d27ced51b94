"""What a payment app receives and answers (seed 001). Every field is a string in Genstore's
examples, booleans included; real JSON booleans and numbers are accepted too. Unknown fields are
ignored, as a robust app should."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from sandbox.protocol import Flag


class Text(fields.String):
    """A string, or a number or boolean given where the docs show a string."""

    OPENAPI_ALTERNATIVES = ("number", "boolean")

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return super()._deserialize(value, attr, data, **kwargs)


class TestMode(Flag):
    """``test``: the fake app takes test requests only, so true alone is valid."""

    falsy: set[object] = set()
    OPENAPI_ALTERNATIVES = ({"type": "boolean", "enum": [True]},)
    default_error_messages = {
        "invalid": "The sandbox payment app accepts test requests only (test: true)"
    }

    def __init__(self, **kwargs: Any):
        metadata = {
            **kwargs.pop("metadata", {}),
            "enum": ["true", "True", "TRUE"],
            "description": 'Test mode: true only, the string "true" as the seeds send it or '
            "JSON true (the sandbox's fake app takes test requests only)",
        }
        fields.Boolean.__init__(self, metadata=metadata, **kwargs)  # not Flag's description


class Lenient(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE
        ordered = True


def _id(description: str) -> Text:
    return Text(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": description},
    )


class Address(Lenient):
    givenName = Text()
    familyName = Text()
    line1 = Text()
    line2 = Text()
    city = Text()
    province = Text()
    postalCode = Text()
    countryCode = Text()
    company = Text()
    phoneNumber = Text()


class Customer(Lenient):
    phoneNumber = Text()
    email = Text()
    shippingAddress = fields.Nested(Address)
    billingAddress = fields.Nested(Address)


class ClientDetails(Lenient):
    acceptLanguage = Text()
    ipAddress = Text()
    userAgent = Text()


class Item(Lenient):
    name = Text()
    description = Text()
    sku = Text()
    unitPrice = Text()
    quantity = Text()
    tax = Text()
    category = Text()
    imgUrl = Text()
    virtualProduct = Text()


class PurchaseInfo(Lenient):
    itemTotal = Text()
    shipping = Text()
    taxTotal = Text()
    discount = Text()
    handling = Text()
    insurance = Text()
    shippingDiscount = Text()
    description = Text()
    items = fields.List(fields.Nested(Item))


class CardData(Lenient):
    cipherText = Text(required=True)
    salt = Text(required=True)
    ephemeralPublicKey = Text(required=True)
    suit = Text(required=True, metadata={"example": "GENSTORE-V1"})
    iv = Text(required=True)
    returnUrl = Text(metadata={"description": "Where the buyer returns after 3-D Secure"})


class CardMethod(Lenient):
    data = fields.Nested(CardData, required=True)


class OffsiteData(Lenient):
    returnUrl = Text(required=True)
    cancelUrl = Text(required=True)


class OffsiteMethod(Lenient):
    data = fields.Nested(OffsiteData, required=True)


class _PaymentBase(Lenient):
    paymentId = _id("Genstore's id of this payment attempt; the idempotency key")
    amount = Text(required=True, metadata={"example": "200.00"})
    currency = Text(required=True, metadata={"example": "USD"})
    test = TestMode(required=True)
    manualCapture = Flag(
        required=True,
        metadata={
            "description": 'Seed 001: "Payment capture type (true for automatic capture, false '
            'for manual capture)". The opposite of what the name suggests; an app registered '
            "with captureFlag by_name gets true for manual capture"
        },
    )
    customer = fields.Nested(Customer, required=True)


class CardPaymentRequest(_PaymentBase):
    paymentMethod = fields.Nested(CardMethod, required=True)
    clientDetails = fields.Nested(ClientDetails, required=True)
    purchaseInfo = fields.Nested(PurchaseInfo)


class OffsitePaymentRequest(_PaymentBase):
    paymentMethod = fields.Nested(OffsiteMethod, required=True)
    purchaseInfo = fields.Nested(PurchaseInfo, required=True)


class CaptureRequest(Lenient):
    captureId = _id("Genstore's id of this capture; the idempotency key")
    paymentId = _id("The authorized payment")
    amount = Text(required=True, metadata={"example": "200.00"})
    test = TestMode(required=True)


class VoidRequest(Lenient):
    voidId = _id("Genstore's id of this void; the idempotency key")
    paymentId = _id("The authorized payment")
    test = TestMode(required=True)


class RefundRequest(Lenient):
    refundId = _id("Genstore's id of this refund; the idempotency key")
    paymentId = _id("The captured payment")
    amount = Text(required=True, metadata={"example": "100.00"})
    test = TestMode(required=True)


class Answer(ma.Schema):
    """An app's answer: the platform reads the fields seed 001 names and ignores any other
    (as the running checks do), so the document allows extra fields."""

    class Meta:
        unknown = ma.INCLUDE
        ordered = True


class CardPaymentAnswer(Answer):
    threeDsUrl = fields.String(metadata={"description": "Send the buyer here for 3-D Secure"})
    error = fields.String(required=True, metadata={"description": "Empty unless it failed"})


class OffsitePaymentAnswer(Answer):
    redirectUrl = fields.String(required=True)
    error = fields.String(required=True)


class CaptureAnswer(Answer):
    channelCaptureId = fields.String()
    error = fields.String()


class VoidAnswer(Answer):
    channelVoidId = fields.String()
    error = fields.String()


class RefundAnswer(Answer):
    channelRefundId = fields.String(required=True)
    error = fields.String()


class PaymentStatus(Answer):
    channelPaymentId = fields.String(required=True)
    status = fields.String(
        required=True, metadata={"enum": ["PROCESSING", "SUCCESS", "AUTH_SUCCESS", "FAILURE"]}
    )
    error = fields.String()


class RefundStatus(Answer):
    channelRefundId = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["PROCESSING", "SUCCESS", "FAILURE"]})
    error = fields.String()


class BuyerAction(Lenient):
    action = fields.String(
        validate=validate.OneOf(["pass", "fail", "approve", "cancel"]),
        metadata={"description": "Act without the page: pass/fail (3DS), approve/cancel (offsite)"},
    )

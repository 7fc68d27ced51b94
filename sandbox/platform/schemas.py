"""The platform's wire contract as marshmallow schemas: validation, responses and OpenAPI."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from sandbox.core import digits
from sandbox.core.text import single_line
from sandbox.protocol import Flag


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE
        ordered = True


class Empty(ma.Schema):
    """``{}``"""


def result_schema(name: str, id_field: str, channel_field: str, what: str) -> type[ma.Schema]:
    """``{"pay": {result, reason?, <id>, <channel id>}}`` for one kind of callback."""
    inner = Strict.from_dict(
        {
            "result": Flag(required=True, metadata={"description": f"{what}: success or failure"}),
            "reason": fields.String(
                allow_none=True,
                validate=validate.Length(max=1000),
                metadata={"description": "Why it failed"},
            ),
            id_field: fields.String(
                required=True,
                validate=validate.Length(min=1, max=64),
                metadata={"description": "Genstore's id (the same as in the path)"},
            ),
            channel_field: fields.String(
                required=True,
                validate=validate.Length(min=1, max=128),
                metadata={"description": "The payment channel's id"},
            ),
        },
        name=f"{name}Pay",
    )
    return Strict.from_dict({"pay": fields.Nested(inner, required=True)}, name=f"{name}Body")


PaymentResultBody = result_schema(
    "PaymentResult", "paymentId", "channelPaymentId", "Payment result"
)
PreAuthorizeResultBody = result_schema(
    "PreAuthorizeResult", "paymentId", "channelPaymentId", "Authorization result"
)
CaptureResultBody = result_schema(
    "CaptureResult", "captureId", "channelCaptureId", "Capture result"
)
VoidResultBody = result_schema("VoidResult", "voidId", "channelVoidId", "Void result")
RefundResultBody = result_schema("RefundResult", "refundId", "channelRefundId", "Refund result")


class AccountAuthorizePay(Strict):
    ready = Flag(required=True, metadata={"description": "The merchant's account is activated"})


class AccountAuthorizeBody(Strict):
    pay = fields.Nested(AccountAuthorizePay, required=True)


class TransactionPayment(ma.Schema):
    class Meta:
        ordered = True

    paymentId = fields.String(metadata={"example": "PI0020241010151755224"})
    outOrderNo = fields.String(metadata={"example": "101010101000000000136"})
    channelTrxNo = fields.String(metadata={"example": "0SX593062F1597043"})
    status = fields.String(
        metadata={
            "description": "1 process, 2 success, 3 auth_void, 4 auth_success, 9 failure",
            "enum": ["1", "2", "3", "4", "9"],
        }
    )
    amount = fields.String(metadata={"example": "123.23"})
    fee = fields.String(metadata={"example": "5.01"})
    net = fields.String(metadata={"example": "118.22"})
    currency = fields.String(metadata={"example": "USD"})
    successPaymentTime = fields.String(
        metadata={"example": "2019-06-28T18:03:50+01:00", "description": "Absent until paid"}
    )


class Transaction(ma.Schema):
    payment = fields.Nested(TransactionPayment)


class LegacyPaymentMethod(ma.Schema):
    class Meta:
        ordered = True

    gateway = fields.String()
    id = digits.Integer()
    name = fields.String()
    pay_type = fields.String()
    payment_method_type = fields.String(metadata={"enum": ["online", "offline"]})


class LegacyPayment(ma.Schema):
    class Meta:
        ordered = True

    amount = fields.Raw(metadata={"type": "number", "example": 10})
    bank_code = fields.String()
    created_at = fields.String(metadata={"example": "2015-05-12T16:48:06.468+08:00"})
    exipired_at = fields.String(
        metadata={"description": "Online payments only: two days after creation (sic)"}
    )
    gateway_payment_no = fields.String(allow_none=True)
    id = digits.Integer()
    is_available = fields.Boolean()
    mode = fields.String()
    payment_method = fields.Nested(LegacyPaymentMethod)
    pay_by_other = fields.Boolean()
    status = fields.String(metadata={"enum": ["pending", "paid", "expired"]})
    updated_at = fields.String()


class LegacyPaymentList(ma.Schema):
    payments = fields.List(fields.Nested(LegacyPayment))


class LegacyPaymentOne(ma.Schema):
    payment = fields.Nested(LegacyPayment)


class LegacyCount(ma.Schema):
    count = digits.Integer()


class FieldsQuery(ma.Schema):
    fields = fields.String(  # type: ignore[assignment]  # the seed names the parameter so
        metadata={"description": "Comma-separated response fields, e.g. id,status,amount"}
    )


class TokenExchange(Strict):
    clientId = fields.String(required=True, validate=[validate.Length(min=1), single_line()])
    clientSecret = fields.String(required=True, validate=[validate.Length(min=1), single_line()])
    grantType = fields.String(required=True, metadata={"example": "token-exchange"})
    subjectToken = fields.String(
        required=True,
        validate=single_line(),
        metadata={"description": "The session token (a JWT) from the shop"},
    )
    requestedTokenType = fields.String(
        required=True, validate=validate.OneOf(["online-access-token", "offline-access-token"])
    )


class AssociatedUser(ma.Schema):
    class Meta:
        ordered = True

    id = digits.Integer()
    firstName = fields.String()
    lastName = fields.String()
    email = fields.String()
    emailVerified = fields.Boolean()
    accountOwner = fields.Boolean()
    locale = fields.String()
    collaborator = fields.Boolean()


class AccessToken(ma.Schema):
    class Meta:
        ordered = True

    accessToken = fields.String(required=True)
    scope = fields.String(required=True, metadata={"example": "write_payment,write_apps"})
    expiresIn = digits.Integer(metadata={"description": "Seconds; online tokens only"})
    associatedUser = fields.Nested(AssociatedUser, metadata={"description": "Online tokens only"})


class AccessScopes(ma.Schema):
    accessScopes = fields.String(metadata={"example": "[read_orders,write_orders]"})


class WebhookFields(Strict):
    address = fields.String(
        required=True, validate=single_line(), metadata={"example": "https://example.com/hooks"}
    )
    topic = fields.String(required=True, metadata={"example": "payments/update"})


class WebhookChanges(Strict):
    address = fields.String(validate=single_line())
    topic = fields.String()


class WebhookCreate(Strict):
    webhook = fields.Nested(WebhookFields, required=True)


class WebhookUpdate(Strict):
    webhook = fields.Nested(WebhookChanges, required=True)


class WebhookView(ma.Schema):
    class Meta:
        ordered = True

    id = digits.Integer()
    address = fields.String()
    topic = fields.String()
    createTime = fields.String()
    updateTime = fields.String()


class WebhookOne(ma.Schema):
    webhook = fields.Nested(WebhookView)


class WebhookList(ma.Schema):
    webhooks = fields.List(fields.Nested(WebhookView))


class WebhookCount(ma.Schema):
    count = digits.Integer()


class WebhookQuery(ma.Schema):
    limit = digits.Integer(load_default=50, validate=validate.Range(min=1, max=250))
    pageToken = fields.String(metadata={"description": "From a Link header's rel=next/previous"})
    sinceId = digits.Integer(metadata={"description": "Only subscriptions after this id"})

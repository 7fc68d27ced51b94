"""The control API's contract."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from sandbox.platform.schemas import Strict


class Health(ma.Schema):
    status = fields.String(metadata={"example": "ok"})
    version = fields.String()
    shops = fields.Integer()
    now = fields.String(metadata={"description": "The sandbox clock"})
    worker = fields.Integer(metadata={"description": "The answering worker process's pid"})


class Token(ma.Schema):
    token = fields.String()
    scopes = fields.List(fields.String())
    app = fields.String(allow_none=True)


class App(ma.Schema):
    name = fields.String()
    clientId = fields.String()
    clientSecret = fields.String()
    scopes = fields.List(fields.String())
    activated = fields.Boolean()


class Shop(ma.Schema):
    class Meta:
        ordered = True

    handle = fields.String(metadata={"example": "demo"})
    name = fields.String()
    domain = fields.String()
    template = fields.String(metadata={"description": "The fixture shop it was made from"})
    currency = fields.String()
    utcOffset = fields.String()
    tokens = fields.List(fields.Nested(Token))
    apps = fields.List(fields.Nested(App))


class ShopList(ma.Schema):
    shops = fields.List(fields.Nested(Shop))


class CreateShop(Strict):
    template = fields.String(
        metadata={"description": "A fixture shop's handle (default: the first fixture shop)"}
    )
    handle = fields.String(
        metadata={"description": "Default: '<template>-<random>'"},
        validate=validate.Length(min=1, max=63),
    )
    name = fields.String(validate=validate.Length(min=1, max=200))


class Reset(Strict):
    shop = fields.String(
        metadata={"description": "One shop's handle; without it everything is reset"}
    )


class ResetResult(ma.Schema):
    reset = fields.String(metadata={"description": "'all' or the shop's handle"})
    shops = fields.List(fields.String())


class ClockChange(Strict):
    frozen = fields.Boolean(metadata={"description": "true freezes the clock, false lets it run"})
    now = fields.String(metadata={"description": "Set the time (ISO-8601 with offset)"})
    advance = fields.Raw(
        metadata={
            "description": "Move forward: seconds, or '90s', '15m', '48h', '2d'",
            "oneOf": [{"type": "number"}, {"type": "string"}],
        }
    )


class ClockView(ma.Schema):
    now = fields.String()
    frozen = fields.Boolean()
    offsetSeconds = fields.Float(allow_none=True)


class ShopQuery(ma.Schema):
    shop = fields.String(load_default="demo", metadata={"description": "The shop's handle"})


class FireEvent(Strict):
    event = fields.String(required=True, validate=validate.Length(min=1))
    amount = fields.String(metadata={"description": "The amount the event carries, if any"})


class EventResult(ma.Schema):
    kind = fields.String()
    id = fields.String()
    state = fields.String()


class OperationView(ma.Schema):
    kind = fields.String(metadata={"enum": ["capture", "void", "refund"]})
    id = fields.String()
    state = fields.String()
    amount = fields.String(allow_none=True)
    channelId = fields.String(allow_none=True)


class PaymentDetail(ma.Schema):
    class Meta:
        ordered = True

    paymentId = fields.String()
    orderId = fields.Integer()
    state = fields.String(metadata={"description": "The payment machine's state"})
    amount = fields.String()
    capturedAmount = fields.String()
    refundedAmount = fields.String()
    currency = fields.String()
    manualCapture = fields.Boolean()
    channelPaymentId = fields.String(allow_none=True)
    operations = fields.List(fields.Nested(OperationView))


class HistoryEntry(ma.Schema):
    kind = fields.String(metadata={"enum": ["payment", "capture", "void", "refund"]})
    id = fields.String()
    event = fields.String()
    # "from" is a keyword: name the attribute otherwise, keep the wire name.
    from_ = fields.String(data_key="from", attribute="from", allow_none=True)
    to = fields.String()
    at = fields.String()
    cause = fields.String()


class History(ma.Schema):
    history = fields.List(fields.Nested(HistoryEntry))


class MachineTransition(ma.Schema):
    event = fields.String()
    from_ = fields.String(data_key="from", attribute="from")
    to = fields.String()
    guard = fields.String(allow_none=True)
    timeout = fields.Float(allow_none=True, metadata={"description": "Seconds"})


class MachineView(ma.Schema):
    initial = fields.String()
    states = fields.Dict(keys=fields.String(), values=fields.Dict())
    transitions = fields.List(fields.Nested(MachineTransition))


class Machines(ma.Schema):
    machines = fields.Dict(keys=fields.String(), values=fields.Nested(MachineView))
    guards = fields.Dict(keys=fields.String(), values=fields.String())

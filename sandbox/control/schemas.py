"""The control API's contract."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from sandbox.core import digits
from sandbox.core.fixtures import SHOP_HANDLE
from sandbox.core.shapes import REQUEST_SHAPES, SENT_SHAPES
from sandbox.core.text import single_line
from sandbox.faults import KINDS as FAULT_KINDS
from sandbox.faults import TARGETS as FAULT_TARGETS
from sandbox.platform.schemas import Strict
from sandbox.protocol import CAPTURE_FLAG_READINGS, STATUS_QUERY_FORMS
from sandbox.store.outbox import STATES


class JsonBoolean(fields.Boolean):
    """JSON true or false, nothing else: the control API is JSON, and marshmallow's usual
    "yes", 1 or "on" would hide a caller's mistake."""

    truthy = {True}
    falsy = {False}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):  # 1 == True in Python; in JSON it is not
            raise self.make_error("invalid", input=value)
        return value


def request_shape_field(description: str) -> fields.String:
    shapes = "; ".join(f"{name}: {text}" for name, text in REQUEST_SHAPES.items())
    return fields.String(
        validate=validate.OneOf(list(REQUEST_SHAPES)),
        metadata={"description": f"{description}. {shapes}"},
    )


class Health(ma.Schema):
    status = fields.String(metadata={"example": "ok"})
    version = fields.String()
    shops = digits.Integer()
    now = fields.String(metadata={"description": "The sandbox clock"})
    worker = digits.Integer(metadata={"description": "The answering worker process's pid"})


class Token(ma.Schema):
    token = fields.String()
    scopes = fields.List(fields.String())
    app = fields.String(allow_none=True)


class App(ma.Schema):
    name = fields.String()
    clientId = fields.String()
    clientSecret = fields.String()
    scopes = fields.List(fields.String())
    activated = JsonBoolean()
    captureFlag = fields.String(metadata={"enum": list(CAPTURE_FLAG_READINGS)})
    statusQuery = fields.String(metadata={"enum": list(STATUS_QUERY_FORMS)})
    urls = fields.Dict(
        keys=fields.String(), values=fields.String(), metadata={"description": "The app's URLs"}
    )


class Shop(ma.Schema):
    class Meta:
        ordered = True

    handle = fields.String(metadata={"example": "demo"})
    name = fields.String()
    domain = fields.String()
    template = fields.String(metadata={"description": "The fixture shop it was made from"})
    currency = fields.String()
    utcOffset = fields.String()
    rateLimit = fields.Dict(allow_none=True, metadata={"description": "null: no limit"})
    shopDomainHeader = JsonBoolean(
        metadata={"description": "Requests to apps carry X-Genstore-Shop-Domain (not Genstore's)"}
    )
    strict = JsonBoolean(
        metadata={"description": "A non-conforming app answer counts as a failed request"}
    )
    requestShape = fields.String(
        metadata={"description": "The shape of its payment requests", "enum": list(REQUEST_SHAPES)}
    )
    tokens = fields.List(fields.Nested(Token))
    apps = fields.List(fields.Nested(App))


class ShopList(ma.Schema):
    shops = fields.List(fields.Nested(Shop))


class RateLimitOverride(Strict):
    enabled = JsonBoolean(load_default=True)
    size = digits.Integer(load_default=40, validate=validate.Range(min=1, max=100000))
    perSecond = digits.Float(load_default=2.0, validate=validate.Range(min=0.001, max=100000))


class CreateShop(Strict):
    template = fields.String(
        metadata={"description": "A fixture shop's handle (default: the first fixture shop)"}
    )
    handle = fields.String(
        metadata={"description": "Default: '<template>-<random>'"},
        validate=validate.Regexp(
            SHOP_HANDLE, error="lowercase letters, digits and '-' (not at either end), at most 63"
        ),
    )
    name = fields.String(validate=validate.Length(min=1, max=200))
    rateLimit = fields.Nested(
        RateLimitOverride, metadata={"description": "Override the template's rate limit"}
    )
    shopDomainHeader = JsonBoolean(
        metadata={
            "description": "A sandbox extension, not in Genstore's docs: send "
            "X-Genstore-Shop-Domain with every request to an app (default: the template's)"
        }
    )
    strict = JsonBoolean(
        metadata={
            "description": "Treat an app's answer that breaks seed 001 as a failed request, as "
            "a careful platform would (default: the template's; else record and go on)"
        }
    )
    requestShape = request_shape_field("The shape of the shop's payment requests to apps")


class DeletedShop(ma.Schema):
    deleted = fields.String(metadata={"description": "The deleted shop's handle"})


class Reset(Strict):
    shop = fields.String(
        metadata={"description": "One shop's handle; without it everything is reset"}
    )


class ResetResult(ma.Schema):
    reset = fields.String(metadata={"description": "'all' or the shop's handle"})
    shops = fields.List(fields.String())


class ClockChange(Strict):
    shop = fields.String(
        metadata={
            "description": "A shop's handle: change that shop's own clock (it gets one, "
            "starting where the global clock stands); without it, the global clock, which "
            "every shop without its own follows"
        }
    )
    own = JsonBoolean(
        metadata={"description": "With shop, false: drop the shop's clock; it follows the global"}
    )
    frozen = JsonBoolean(metadata={"description": "true freezes the clock, false lets it run"})
    now = fields.String(metadata={"description": "Set the time (ISO-8601 with offset)"})
    advance = fields.Raw(
        metadata={
            "description": "Move forward: seconds, or '90s', '15m', '48h', '2d'",
            "oneOf": [{"type": "number"}, {"type": "string"}],
        }
    )


class ClockView(ma.Schema):
    shop = fields.String(allow_none=True, metadata={"description": "null: the global clock"})
    own = JsonBoolean(metadata={"description": "The shop keeps a clock of its own"})
    now = fields.String()
    frozen = JsonBoolean()
    offsetSeconds = digits.Float(allow_none=True)
    outbox = fields.Dict(metadata={"description": "What moving the clock delivered"})


class ClockQuery(ma.Schema):
    shop = fields.String(metadata={"description": "A shop's handle (default: the global clock)"})


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


class PaymentListQuery(ShopQuery):
    limit = digits.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=500),
        metadata={"description": "At most this many, newest first (default 50, at most 500)"},
    )


class PaymentSummary(ma.Schema):
    class Meta:
        ordered = True

    paymentId = fields.String()
    state = fields.String(metadata={"description": "The payment machine's state"})
    transactionStatus = fields.String()
    amount = fields.String()
    currency = fields.String()
    kind = fields.String(metadata={"enum": ["card", "offsite"]})
    cardLast4 = fields.String(allow_none=True)
    app = fields.String(allow_none=True, metadata={"description": "The payment app's name"})
    createdAt = fields.String()
    stateEnteredAt = fields.String()
    violations = digits.Integer(metadata={"description": "Contract violations of its app"})


class PaymentList(ma.Schema):
    payments = fields.List(fields.Nested(PaymentSummary))


class PaymentDetail(ma.Schema):
    class Meta:
        ordered = True

    paymentId = fields.String()
    kind = fields.String(metadata={"enum": ["card", "offsite"]})
    cardLast4 = fields.String(allow_none=True)
    transactionStatus = fields.String()
    appAnswer = fields.Dict(allow_none=True, metadata={"description": "The app's first answer"})
    nextAction = fields.Dict(
        allow_none=True, metadata={"description": "A buyer step the app asked for (3DS, redirect)"}
    )
    orderId = digits.Integer()
    state = fields.String(metadata={"description": "The payment machine's state"})
    amount = fields.String()
    capturedAmount = fields.String()
    refundedAmount = fields.String()
    currency = fields.String()
    manualCapture = JsonBoolean()
    channelPaymentId = fields.String(allow_none=True)
    operations = fields.List(fields.Nested(OperationView))
    violations = fields.List(
        fields.Nested("ViolationView"),
        metadata={"description": "Where the app's answers about this payment broke seed 001"},
    )


class ViolationView(ma.Schema):
    class Meta:
        ordered = True

    id = digits.Integer()
    paymentId = fields.String(allow_none=True)
    messageId = digits.Integer(allow_none=True)
    request = fields.String(metadata={"description": "The request answered: app.payment, ..."})
    field = fields.String(metadata={"description": "The answer's field, or status / body"})
    rule = fields.String(metadata={"description": "What seed 001 asks of it"})
    at = fields.String()


class ViolationList(ma.Schema):
    violations = fields.List(fields.Nested(ViolationView))


class CoverageItem(ma.Schema):
    class Meta:
        ordered = True

    id = fields.String(metadata={"example": "request.payment.minimal"})
    group = fields.String()
    title = fields.String()
    exercised = digits.Integer(metadata={"description": "Times the app met it"})
    passed = digits.Integer(
        metadata={
            "description": "Times it went well: answered 200 within the contract, or the "
            "payment still settled"
        }
    )


class CoverageGroup(ma.Schema):
    name = fields.String()
    covered = digits.Integer()
    total = digits.Integer()


class CoverageReport(ma.Schema):
    class Meta:
        ordered = True

    shop = fields.String()
    percent = digits.Float(metadata={"description": "Items exercised at least once, in percent"})
    covered = digits.Integer()
    total = digits.Integer()
    groups = fields.List(fields.Nested(CoverageGroup))
    items = fields.List(fields.Nested(CoverageItem))


class ViolationQuery(ma.Schema):
    shop = fields.String(required=True, metadata={"description": "A shop's handle"})
    paymentId = fields.String()


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
    timeout = digits.Float(allow_none=True, metadata={"description": "Seconds"})


class MachineView(ma.Schema):
    initial = fields.String()
    states = fields.Dict(keys=fields.String(), values=fields.Dict())
    transitions = fields.List(fields.Nested(MachineTransition))


class Machines(ma.Schema):
    machines = fields.Dict(keys=fields.String(), values=fields.Nested(MachineView))
    guards = fields.Dict(keys=fields.String(), values=fields.String())


class Checkout(Strict):
    shop = fields.String(load_default="demo", metadata={"description": "The shop's handle"})
    app = fields.String(metadata={"description": "Default: the shop's first app with a URL"})
    amount = fields.String(metadata={"description": "Default 25.00 (or the magic amount)"})
    currency = fields.String(metadata={"description": "Default: the shop's currency"})
    card = fields.String(metadata={"example": "4242424242424242"})
    magic = fields.String(metadata={"description": "A magic value's name, e.g. insufficient_funds"})
    holder = fields.String(metadata={"description": "The card holder's name"})
    requestShape = request_shape_field("This payment's request shape (default: the shop's)")
    manualCapture = JsonBoolean(load_default=False)
    offsite = JsonBoolean(load_default=False)


class CheckoutResult(ma.Schema):
    class Meta:
        ordered = True

    paymentId = fields.String()
    orderId = digits.Integer()
    shop = fields.String()
    app = fields.String()
    amount = fields.String()
    currency = fields.String()
    manualCapture = JsonBoolean()
    offsite = JsonBoolean()
    cardLast4 = fields.String(allow_none=True)
    requestShape = fields.String(
        metadata={"description": "The shape the request went out in", "enum": list(SENT_SHAPES)}
    )
    state = fields.String()


class OperationRequest(Strict):
    shop = fields.String(load_default="demo")
    amount = fields.String(metadata={"description": "Default: all that is left"})


class VoidRequest(Strict):
    shop = fields.String(load_default="demo")


class OperationResult(ma.Schema):
    kind = fields.String(metadata={"enum": ["capture", "void", "refund"]})
    id = fields.String()
    paymentId = fields.String()
    amount = fields.String(allow_none=True)
    state = fields.String()


class AppUrls(Strict):
    payment = fields.Url(require_tld=False)
    offsite_payment = fields.Url(require_tld=False)
    capture = fields.Url(require_tld=False)
    void = fields.Url(require_tld=False)
    refund = fields.Url(require_tld=False)
    get_payment = fields.Url(require_tld=False)
    get_refund = fields.Url(require_tld=False)
    launch = fields.Url(require_tld=False, metadata={"description": "The app's admin page"})


def capture_flag_field() -> fields.String:
    return fields.String(
        load_default="published",
        validate=validate.OneOf(list(CAPTURE_FLAG_READINGS)),
        metadata={
            "description": "How manualCapture reads: 'published' (seed 001: true for automatic "
            "capture) or 'by_name' (true for manual capture)"
        },
    )


class RegisterApp(Strict):
    shop = fields.String(load_default="demo")
    name = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,62}$"))
    urls = fields.Nested(AppUrls, required=True)
    publicKey = fields.String(metadata={"description": "Base64 X.509 SPKI DER of a P-256 key"})
    scopes = fields.List(fields.String(), load_default=lambda: ["write_payment"])
    captureFlag = capture_flag_field()
    statusQuery = fields.String(
        load_default="query",
        validate=validate.OneOf(list(STATUS_QUERY_FORMS)),
        metadata={
            "description": "How the platform asks Get payment and Get refund: 'query' (the id "
            "as a query parameter) or 'body' (a JSON body, as seed 001's example shows)"
        },
    )
    accessToken = fields.String(
        validate=[validate.Length(min=8, max=200), single_line()],
        metadata={
            "description": "The token the app's callbacks will carry (default: a new one), "
            "for an app configured before it is registered"
        },
    )
    activated = JsonBoolean(
        load_default=False,
        metadata={
            "description": "As if the app had reported ready through account_authorize "
            "(checkouts need an activated app)"
        },
    )
    clientSecret = fields.String(
        validate=[validate.Length(min=16, max=200), single_line()],
        metadata={
            "description": "The secret that signs the app's launch URLs and webhooks (default: "
            "a new one), for an app that checks them with a secret it was configured with"
        },
    )
    moveToken = JsonBoolean(
        load_default=False,
        metadata={
            "description": "With accessToken: take the token from the app that holds it, in "
            "any shop (that installation stops working), as reinstalling an app does; else a "
            "live token held elsewhere is a 409. A revoked token is always free"
        },
    )


class RegisteredApp(ma.Schema):
    class Meta:
        ordered = True

    shop = fields.String()
    shopDomain = fields.String(metadata={"description": "The shop's domain"})
    name = fields.String()
    clientId = fields.String()
    clientSecret = fields.String()
    accessToken = fields.String(metadata={"description": "For the app's callbacks"})
    scopes = fields.List(fields.String())
    urls = fields.Dict(keys=fields.String(), values=fields.String())
    tokenMovedFrom = fields.String(
        allow_none=True, metadata={"description": "moveToken: the shop that held the token"}
    )


class MagicEntry(ma.Schema):
    name = fields.String()
    description = fields.String()
    match = fields.Dict()
    outcome = fields.String(metadata={"enum": ["success", "decline", "three_ds"]})
    reason = fields.String(allow_none=True)
    delaySeconds = digits.Float()
    callbackFailures = digits.Integer()


class MagicList(ma.Schema):
    magic = fields.List(fields.Nested(MagicEntry))


class OutboxQuery(ma.Schema):
    shop = fields.String()
    paymentId = fields.String()
    kind = fields.String(metadata={"description": "e.g. psp.payment_result, app.payment"})
    state = fields.String(validate=validate.OneOf(STATES))
    limit = digits.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


class OutboxMessage(ma.Schema):
    id = digits.Integer()
    side = fields.String(metadata={"enum": ["platform", "psp"]})
    kind = fields.String()
    paymentId = fields.String(allow_none=True)
    method = fields.String()
    url = fields.String()
    state = fields.String(metadata={"enum": list(STATES)})
    dueAt = fields.String()
    attempts = digits.Integer()
    maxAttempts = digits.Integer(
        allow_none=True, metadata={"description": "null: retried until answered for good"}
    )
    lastStatus = digits.Integer(allow_none=True)
    lastError = fields.String(allow_none=True)


class OutboxList(ma.Schema):
    messages = fields.List(fields.Nested(OutboxMessage))


class DrainResult(ma.Schema):
    delivered = digits.Integer()
    due = digits.Integer(metadata={"description": "Still due (e.g. the deadline passed)"})
    pending = digits.Integer(metadata={"description": "Waiting, due later on the clock"})


class Timeline(ma.Schema):
    payment = fields.Nested(PaymentDetail)
    timeline = fields.List(fields.Raw())


class Installation(Strict):
    shopDomain = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=255), validate.Regexp(r"^[A-Za-z0-9.-]+$")],
        metadata={"example": "my-shop.genmystore.com"},
    )
    platformUrl = fields.String(
        required=True, validate=single_line(), metadata={"example": "http://127.0.0.1:5000"}
    )
    accessToken = fields.String(required=True, validate=[validate.Length(min=1), single_line()])
    captureFlag = capture_flag_field()


class InstallationView(ma.Schema):
    shopDomain = fields.String()
    platformUrl = fields.String()
    urls = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "Where your platform sends this installation's requests"},
    )


class JournalQuery(ma.Schema):
    shop = fields.String(metadata={"description": "A shop's handle"})
    paymentId = fields.String()
    direction = fields.String(validate=validate.OneOf(["inbound", "outbound"]))
    kind = fields.String(
        metadata={"description": "'app.capture' (outbound) or 'POST /psp/captures' (inbound)"}
    )
    method = fields.String()
    status = digits.Integer()
    path = fields.String(metadata={"description": "Path prefix, or a pattern with *"})


class JournalPage(JournalQuery):
    limit = digits.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "har"]),
        metadata={"description": "json (the default), or har: an HTTP Archive 1.2 document"},
    )
    before = digits.Integer(
        metadata={"description": "Entries that began before this seq (the next page)"}
    )


class JournalEntry(ma.Schema):
    id = digits.Integer()
    seq = digits.Integer(metadata={"description": "When it began, ns since the epoch: the order"})
    at = fields.String(metadata={"description": "On the sandbox clock"})
    direction = fields.String(metadata={"enum": ["inbound", "outbound"]})
    kind = fields.String()
    method = fields.String()
    url = fields.String()
    path = fields.String()
    status = digits.Integer(allow_none=True)
    durationMs = digits.Float()
    shopId = digits.Integer(allow_none=True)
    paymentId = fields.String(allow_none=True)
    requestHeaders = fields.Dict(allow_none=True)
    requestBody = fields.Raw(allow_none=True)
    responseHeaders = fields.Dict(allow_none=True)
    responseBody = fields.Raw(allow_none=True)
    error = fields.String(allow_none=True)
    messageId = digits.Integer(allow_none=True)
    attempt = digits.Integer(allow_none=True)
    fault = fields.String(allow_none=True)
    violation = fields.String(
        allow_none=True, metadata={"description": "How the app's answer broke seed 001"}
    )


class JournalList(ma.Schema):
    entries = fields.List(fields.Nested(JournalEntry))
    nextBefore = digits.Integer(
        allow_none=True, metadata={"description": "Pass as before= for the next page"}
    )


def _har_message() -> dict:
    """A fresh dict each time (the YAML dump would alias a shared one)."""
    return {
        "type": "object",
        "required": ["headers"],
        "properties": {
            "headers": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "value"],
                    "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
                },
            }
        },
    }


# The journal's answer: its own listing, or (format=har) an HTTP Archive 1.2 document.
JOURNAL_OR_HAR = {
    "description": "The entries (or, with format=har, a HAR 1.2 document of them)",
    "content": {"application/json": {"schema": {"oneOf": [
        JournalList,
        {"type": "object", "required": ["log"], "properties": {"log": {
            "type": "object", "required": ["version", "creator", "entries"], "properties": {
                "version": {"type": "string", "enum": ["1.2"]},
                "creator": {"type": "object"},
                "entries": {"type": "array", "items": {
                    "type": "object",
                    "required": ["startedDateTime", "time", "request", "response", "cache",
                                 "timings"],
                    "properties": {"request": _har_message(), "response": _har_message()},
                }},
            }}}},
    ]}}},
}  # fmt: skip


class JournalCount(ma.Schema):
    count = digits.Integer()


class SessionTokenRequest(Strict):
    shop = fields.String(load_default="demo")
    app = fields.String(load_default="sandbox-psp")
    userId = digits.Integer(load_default=1, validate=validate.Range(min=1))


class SessionToken(ma.Schema):
    sessionToken = fields.String(metadata={"description": "An HS256 JWT signed with the secret"})
    expiresAt = fields.String()


class LaunchQuery(ma.Schema):
    shop = fields.String(load_default="demo")
    path = fields.String(load_default="/")


class LaunchUrl(ma.Schema):
    url = fields.String()
    params = fields.Dict(keys=fields.String(), values=fields.String())


class DeliveryQuery(ma.Schema):
    shop = fields.String()
    topic = fields.String()


class Delivery(ma.Schema):
    class Meta:
        ordered = True

    id = digits.Integer()
    webhookId = digits.Integer()
    topic = fields.String()
    address = fields.String()
    state = fields.String(
        metadata={"enum": ["pending", "sending", "delivered", "failed", "cancelled"]}
    )
    attempts = digits.Integer()
    lastStatus = digits.Integer(allow_none=True)
    lastError = fields.String(allow_none=True)
    dueAt = fields.String()
    createdAt = fields.String()
    paymentId = fields.String(allow_none=True)
    body = fields.Dict(allow_none=True)


class DeliveryList(ma.Schema):
    deliveries = fields.List(fields.Nested(Delivery))


class Topics(ma.Schema):
    topics = fields.Dict(keys=fields.String(), values=fields.String())


class FaultSpec(Strict):
    target = fields.String(
        required=True,
        validate=validate.OneOf(FAULT_TARGETS),
        metadata={
            "description": "Where it acts: a request kind to apps, callbacks, webhook, "
            "or platform (requests to this sandbox)"
        },
    )
    kind = fields.String(
        required=True,
        validate=validate.OneOf(list(FAULT_KINDS)),
        metadata={
            "description": "What it does; duplicate and reorder act on outbound "
            "targets only (not platform)"
        },
    )
    shop = fields.String(metadata={"description": "Only this shop"})
    paymentId = fields.String(metadata={"description": "Only this payment"})
    path = fields.String(metadata={"description": "platform target: only under this path"})
    count = digits.Integer(validate=validate.Range(min=1), metadata={"description": "Next N"})
    probability = digits.Float(validate=validate.Range(min=0, max=1))
    seed = digits.Integer(metadata={"description": "For probability (default: the setting)"})
    status = digits.Integer(validate=validate.Range(min=100, max=599))
    body = fields.String()
    latencyMs = digits.Integer(validate=validate.Range(min=0, max=60000))
    delaySeconds = digits.Float(validate=validate.Range(min=0, max=86400))


class FaultView(ma.Schema):
    class Meta:
        ordered = True

    id = digits.Integer()
    target = fields.String()
    kind = fields.String()
    shopId = digits.Integer(allow_none=True)
    paymentId = fields.String(allow_none=True)
    path = fields.String(allow_none=True)
    remaining = digits.Integer(allow_none=True)
    probability = digits.Float(allow_none=True)
    seed = digits.Integer()
    status = digits.Integer()
    body = fields.String()
    latencyMs = digits.Integer()
    delaySeconds = digits.Float()
    seen = digits.Integer(metadata={"description": "Matching requests so far"})
    fired = digits.Integer(metadata={"description": "Times it acted"})


class FaultList(ma.Schema):
    faults = fields.List(fields.Nested(FaultView))
    kinds = fields.Dict(keys=fields.String(), values=fields.String())


class Cleared(ma.Schema):
    cleared = digits.Integer()


class SnapshotQuery(ma.Schema):
    shop = fields.String(metadata={"description": "One shop's handle; default everything"})


class ImportQuery(ma.Schema):
    mode = fields.String(
        load_default="merge",
        validate=validate.OneOf(["merge", "replace"]),
        metadata={"description": "merge: replace the snapshot's shops; replace: everything"},
    )
    logs = fields.String(
        load_default="keep",
        validate=validate.OneOf(["keep", "drop"]),
        metadata={
            "description": "keep: a replaced shop's journal, history and outbox carry over to "
            "the imported shop (messages not yet sent are cancelled); drop: they go with it"
        },
    )


class ImportResult(ma.Schema):
    imported = fields.List(fields.String())
    mode = fields.String()
    logs = fields.String(metadata={"enum": ["keep", "drop"]})
    logsKept = fields.List(
        fields.String(), metadata={"description": "Shops whose logs carried over to the import"}
    )
    cancelledMessages = digits.Integer(
        metadata={"description": "Outbox messages of replaced shops not yet sent, cancelled"}
    )

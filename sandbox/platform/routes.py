"""Platform endpoints (seeds 000, 002, 003): thin handlers over :class:`PlatformService`."""

from __future__ import annotations

from flask import Response, g, request

from sandbox.errors import invalid
from sandbox.http import Blueprint, ErrorSchema, dump_json
from sandbox.platform import examples
from sandbox.platform import schemas as s
from sandbox.platform.callbacks import Result
from sandbox.platform.service import ORDER_SCOPES, PAYMENT_APP_SCOPES, TRANSACTION_SCOPES
from sandbox.platform.surface import secured, surface

callbacks = Blueprint(
    "payment-app callbacks",
    __name__,
    url_prefix="/api/202412/app",
    description="What a payment app calls to report results (seed 000). Answers 200 {}.",
)
transactions = Blueprint(
    "transactions",
    __name__,
    url_prefix="/api/202412",
    description="Merchant queries of payment transactions (seed 002).",
)
legacy = Blueprint(
    "legacy order payments",
    __name__,
    url_prefix="/orders",
    description="The legacy Order Payment API (seed 003).",
)

ID_MISMATCH = "{field} '{body}' does not match the id in the path '{path}'"


def _result(pay: dict, id_field: str, channel_field: str, path_id: str) -> Result:
    if pay[id_field] != path_id:
        message = ID_MISMATCH.format(field=id_field, body=pay[id_field], path=path_id)
        raise invalid(f"pay.{id_field}", message)
    return Result(pay["result"], pay.get("reason"), pay[channel_field])


@callbacks.route("/account_authorize", methods=["PUT"])
@secured(callbacks, *PAYMENT_APP_SCOPES)
@callbacks.arguments(s.AccountAuthorizeBody, example=examples.ACCOUNT_AUTHORIZE)
@callbacks.response(200, s.Empty)
def account_authorize(body):
    """Update the account authorization result"""
    surface().platform.callbacks.account_authorize(g.principal, body["pay"]["ready"])
    return {}


@callbacks.route("/payment/<paymentId>", methods=["PUT"])
@secured(callbacks, *PAYMENT_APP_SCOPES)
@callbacks.arguments(s.PaymentResultBody, example=examples.PAYMENT_RESULT)
@callbacks.response(200, s.Empty)
@callbacks.alt_response(404, schema=ErrorSchema, description="Unknown payment")
@callbacks.alt_response(409, schema=ErrorSchema, description="A different result was already set")
def payment_result(body, paymentId):
    """Update the payment result"""
    result = _result(body["pay"], "paymentId", "channelPaymentId", paymentId)
    surface().platform.callbacks.payment_result(g.principal, "payment", paymentId, result)
    return {}


@callbacks.route("/pre_authorize/<paymentId>", methods=["PUT"])
@secured(callbacks, *PAYMENT_APP_SCOPES)
@callbacks.arguments(s.PreAuthorizeResultBody, example=examples.PRE_AUTHORIZE_RESULT)
@callbacks.response(200, s.Empty)
@callbacks.alt_response(404, schema=ErrorSchema, description="Unknown id")
@callbacks.alt_response(409, schema=ErrorSchema, description="A different result was already set")
def pre_authorize_result(body, paymentId):
    """Update the authorization result of a manual-capture payment"""
    result = _result(body["pay"], "paymentId", "channelPaymentId", paymentId)
    surface().platform.callbacks.payment_result(g.principal, "pre_authorize", paymentId, result)
    return {}


@callbacks.route("/capture/<captureId>", methods=["PUT"])
@secured(callbacks, *PAYMENT_APP_SCOPES)
@callbacks.arguments(s.CaptureResultBody, example=examples.CAPTURE_RESULT)
@callbacks.response(200, s.Empty)
@callbacks.alt_response(404, schema=ErrorSchema, description="Unknown id")
@callbacks.alt_response(409, schema=ErrorSchema, description="A different result was already set")
def capture_result(body, captureId):
    """Update the capture result"""
    result = _result(body["pay"], "captureId", "channelCaptureId", captureId)
    surface().platform.callbacks.operation_result(g.principal, "capture", captureId, result)
    return {}


@callbacks.route("/void/<voidId>", methods=["PUT"])
@secured(callbacks, *PAYMENT_APP_SCOPES)
@callbacks.arguments(s.VoidResultBody, example=examples.VOID_RESULT)
@callbacks.response(200, s.Empty)
@callbacks.alt_response(404, schema=ErrorSchema, description="Unknown id")
@callbacks.alt_response(409, schema=ErrorSchema, description="A different result was already set")
def void_result(body, voidId):
    """Update the void (cancel authorization) result"""
    result = _result(body["pay"], "voidId", "channelVoidId", voidId)
    surface().platform.callbacks.operation_result(g.principal, "void", voidId, result)
    return {}


@callbacks.route("/refund/<refundId>", methods=["PUT"])
@secured(callbacks, *PAYMENT_APP_SCOPES)
@callbacks.arguments(s.RefundResultBody, example=examples.REFUND_RESULT)
@callbacks.response(200, s.Empty)
@callbacks.alt_response(404, schema=ErrorSchema, description="Unknown id")
@callbacks.alt_response(409, schema=ErrorSchema, description="A different result was already set")
def refund_result(body, refundId):
    """Update the refund result"""
    result = _result(body["pay"], "refundId", "channelRefundId", refundId)
    surface().platform.callbacks.operation_result(g.principal, "refund", refundId, result)
    return {}


@transactions.route("/payment/<paymentId>", methods=["GET"])
@secured(transactions, *TRANSACTION_SCOPES)
@transactions.response(200, s.Transaction, example=examples.TRANSACTION)
@transactions.alt_response(404, schema=ErrorSchema, description="Unknown payment")
def get_payment(paymentId):
    """Get payment"""
    return surface().platform.transaction(g.principal, paymentId)


@legacy.route("/<int:orderId>/payments", methods=["GET"])
@secured(legacy, *ORDER_SCOPES)
@legacy.arguments(s.FieldsQuery, location="query")
@legacy.response(200, s.LegacyPaymentList, example=examples.LEGACY_PAYMENTS)
@legacy.alt_response(404, schema=ErrorSchema, description="Unknown order or payment")
def list_order_payments(query, orderId):
    """Get all payments of an order"""
    platform = surface().platform
    fields = platform.parse_fields(query.get("fields"))
    return {"payments": platform.legacy_payments(g.principal, orderId, fields)}


@legacy.route("/<int:orderId>/payments/count", methods=["GET"])
@secured(legacy, *ORDER_SCOPES)
@legacy.response(200, s.LegacyCount, example=examples.LEGACY_COUNT)
@legacy.alt_response(404, schema=ErrorSchema, description="Unknown order or payment")
def count_order_payments(orderId):
    """Count the payments of an order"""
    return {"count": surface().platform.legacy_count(g.principal, orderId)}


@legacy.route("/<int:orderId>/payments/<int:id>", methods=["GET"])
@secured(legacy, *ORDER_SCOPES)
@legacy.arguments(s.FieldsQuery, location="query")
@legacy.response(200, s.LegacyPaymentOne, example=examples.LEGACY_ONE)
@legacy.alt_response(404, schema=ErrorSchema, description="Unknown order or payment")
def get_order_payment(query, orderId, id):
    """Get one payment of an order"""
    platform = surface().platform
    fields = platform.parse_fields(query.get("fields"))
    return {"payment": platform.legacy_payment(g.principal, orderId, id, fields)}


oauth = Blueprint(
    "oauth", __name__, description="OAuth token exchange, access scopes and uninstall."
)


@oauth.route("/oauth2/token", methods=["POST"])
@oauth.arguments(s.TokenExchange)
@oauth.response(200, s.AccessToken)
@oauth.alt_response(401, schema=ErrorSchema, description="Invalid client credentials")
def token_exchange(body):
    """Exchange a session token for an online or offline access token"""
    return surface().oauth.exchange(body)


@oauth.route("/api/202412/oauth2/access_scopes", methods=["GET"])
@secured(oauth)
@oauth.response(200, s.AccessScopes)
def access_scopes():
    """The scopes the access token holds"""
    return surface().oauth.access_scopes(g.principal)


@oauth.route("/api/202412/oauth2/uninstall", methods=["DELETE"])
@secured(oauth, "write_apps")
@oauth.response(200, s.Empty)
def uninstall():
    """Uninstall the app from the shop: its access tokens stop working"""
    surface().oauth.uninstall(g.principal)
    return {}


webhooks = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/api/202412/app/webhooks",
    description="An app's webhook subscriptions. Deliveries carry X-Genstore-Topic, "
    "X-Genstore-Hmac-Sha256 (base64 HMAC-SHA256 of the raw body with the app's client secret) "
    "and X-Genstore-Shop-Domain.",
)


@webhooks.route("", methods=["POST"])
@secured(webhooks, "write_apps")
@webhooks.arguments(s.WebhookCreate)
@webhooks.response(201, s.WebhookOne)
@webhooks.alt_response(409, schema=ErrorSchema, description="Already subscribed")
def create_webhook(body):
    """Subscribe an address to a topic"""
    hook = body["webhook"]
    return surface().webhooks.create(g.principal, hook["address"], hook["topic"])


@webhooks.route("", methods=["GET"])
@secured(webhooks, "write_apps")
@webhooks.arguments(s.WebhookQuery, location="query")
@webhooks.response(200, s.WebhookList)
def list_webhooks(query):
    """The app's subscriptions, a page at a time (Link header: rel=previous, rel=next)"""
    body, link = surface().webhooks.list(
        g.principal,
        query["limit"],
        query.get("pageToken"),
        query.get("sinceId"),
        request.base_url,
    )
    response = Response(dump_json(body), mimetype="application/json")
    if link:
        response.headers["Link"] = link
    return response


@webhooks.route("/count", methods=["GET"])
@secured(webhooks, "write_apps")
@webhooks.response(200, s.WebhookCount)
def count_webhooks():
    """How many subscriptions the app has"""
    return surface().webhooks.count(g.principal)


@webhooks.route("/<int:webhookId>", methods=["GET"])
@secured(webhooks, "write_apps")
@webhooks.response(200, s.WebhookOne)
@webhooks.alt_response(404, schema=ErrorSchema, description="Unknown subscription")
def get_webhook(webhookId):
    """One subscription"""
    return surface().webhooks.get(g.principal, webhookId)


@webhooks.route("/<int:webhookId>", methods=["PUT"])
@secured(webhooks, "write_apps")
@webhooks.arguments(s.WebhookUpdate)
@webhooks.response(200, s.WebhookOne)
@webhooks.alt_response(404, schema=ErrorSchema, description="Unknown subscription")
def update_webhook(body, webhookId):
    """Change a subscription's address or topic (it also starts receiving again)"""
    return surface().webhooks.update(g.principal, webhookId, body["webhook"])


@webhooks.route("/<int:webhookId>", methods=["DELETE"])
@secured(webhooks, "write_apps")
@webhooks.response(200, s.Empty)
@webhooks.alt_response(404, schema=ErrorSchema, description="Unknown subscription")
def delete_webhook(webhookId):
    """Remove a subscription"""
    surface().webhooks.delete(g.principal, webhookId)
    return {}


BLUEPRINTS = (callbacks, transactions, legacy, oauth, webhooks)

"""``/psp/...``: the fake payment app's seven endpoints and its buyer pages."""

from __future__ import annotations

from typing import Any, cast

from flask import Blueprint as FlaskBlueprint
from flask import Response, current_app, redirect, request

from sandbox.errors import invalid
from sandbox.http import Blueprint, ErrorSchema
from sandbox.psp import examples
from sandbox.psp import schemas as s
from sandbox.psp.pages import challenge, done, launched
from sandbox.psp.service import PspService

EXTENSION = "sandbox.psp"

app_calls = Blueprint(
    "payment app",
    __name__,
    url_prefix="/psp",
    description="What a Genstore payment app implements (seed 001). The platform sends each "
    "request; the app answers 200 at once and reports the outcome later through "
    "PUT /api/202412/app/... . The fake app gives each installation (shop) its own URLs, so "
    "it needs nothing but the seed's requests.",
)
INSTALLATION = {
    "in": "path",
    "name": "installation",
    "required": True,
    "schema": {"type": "string", "example": "demo.genmystore.com"},
    "description": "The app's installation: the fake app gives each shop its own URLs (the "
    "shop's domain here), so it needs nothing but the seed's request to know the shop",
}


def psp() -> PspService:
    """The fake payment app, as ``create_app`` wired it."""
    return cast(PspService, current_app.extensions[EXTENSION])


def _documented(description: str, *parameters: dict[str, Any]):
    """Seed 001 answers every request with 200 (what went wrong goes in ``error``); the fake
    app also refuses requests that break the seed's schema (400) and URLs it never gave out
    (404), which the platform never sends."""

    def apply(func):
        func = app_calls.alt_response(
            400, schema=ErrorSchema, description="The request breaks seed 001's schema"
        )(func)
        func = app_calls.alt_response(
            404, schema=ErrorSchema, description="No such installation: a URL the app never gave"
        )(func)
        return app_calls.doc(parameters=[INSTALLATION, *parameters], description=description)(func)

    return apply


@app_calls.route("/i/<installation>/payments", methods=["POST"])
@_documented("Card data arrives encrypted (GENSTORE-V1). The outcome follows the magic values.")
@app_calls.arguments(s.CardPaymentRequest, example=examples.CARD_PAYMENT)
@app_calls.response(
    200, s.CardPaymentAnswer, example={"error": "Payment failed", "threeDsUrl": "http://xxx.com"}
)
def card_payment(body, installation):
    """Credit card payment"""
    return psp().card_payment(installation, body)


@app_calls.route("/i/<installation>/offsite_payments", methods=["POST"])
@_documented("The app answers redirectUrl: the buyer approves or cancels there.")
@app_calls.arguments(s.OffsitePaymentRequest, example=examples.OFFSITE_PAYMENT)
@app_calls.response(
    200,
    s.OffsitePaymentAnswer,
    example={"redirectUrl": "https://www.xxx.com/", "error": "Transaction do not honor"},
)
def offsite_payment(body, installation):
    """Offsite payment"""
    return psp().offsite_payment(installation, body)


@app_calls.route("/i/<installation>/captures", methods=["POST"])
@_documented("Capture an authorized payment, in full or in part (one capture per payment).")
@app_calls.arguments(s.CaptureRequest, example=examples.CAPTURE)
@app_calls.response(
    200, s.CaptureAnswer, example={"channelCaptureId": "3333", "error": "Capture failed"}
)
def capture(body, installation):
    """Capture"""
    return psp().capture(installation, body)


@app_calls.route("/i/<installation>/voids", methods=["POST"])
@_documented("Void (cancel) an authorized payment that was not captured.")
@app_calls.arguments(s.VoidRequest, example=examples.VOID)
@app_calls.response(
    200, s.VoidAnswer, example={"channelVoidId": "xxxx", "error": "Cancel caputue failed"}
)
def void(body, installation):
    """Void"""
    return psp().void(installation, body)


@app_calls.route("/i/<installation>/refunds", methods=["POST"])
@_documented("Refund a captured payment, in part and repeatedly, up to what was captured.")
@app_calls.arguments(s.RefundRequest, example=examples.REFUND)
@app_calls.response(
    200, s.RefundAnswer, example={"channelRefundId": "1111", "error": "Refund failed."}
)
def refund(body, installation):
    """Refund"""
    return psp().refund(installation, body)


def _query_id(name: str, description: str) -> dict[str, Any]:
    return {
        "in": "query",
        "name": name,
        "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": 64},
        "description": f"{description}. Seed 001 lists it under Request Params and shows it as "
        "a JSON body; the platform sends the query parameter, and the fake app takes either.",
    }


def _lookup_id(name: str) -> str:
    """The id a Get payment or Get refund asks about: the query parameter, or the JSON body
    seed 001's example shows."""
    value: Any = request.args.get(name)
    if value is None:
        body = request.get_json(silent=True)
        value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        raise invalid(name, "required: 1 to 64 characters, as a query parameter or in the body")
    return value


@app_calls.route("/i/<installation>/payment", methods=["GET"])
@_documented("The app's view of a payment.", _query_id("paymentId", "The payment to look up"))
@app_calls.response(
    200,
    s.PaymentStatus,
    example={
        "channelPaymentId": "111",
        "error": "Not found payment information.",
        "status": "PROCESSING",
    },
)
def get_payment(installation):
    """Get payment"""
    return psp().payment_status(installation, _lookup_id("paymentId"))


@app_calls.route("/i/<installation>/refund", methods=["GET"])
@_documented("The app's view of a refund.", _query_id("refundId", "The refund to look up"))
@app_calls.response(
    200,
    s.RefundStatus,
    example={"channelRefundId": "1112", "error": "Refund failed", "status": "PROCESSING"},
)
def get_refund(installation):
    """Get refund"""
    return psp().refund_status(installation, _lookup_id("refundId"))


pages = FlaskBlueprint("psp-pages", __name__, url_prefix="/psp")


@pages.route("/<any('3ds', offsite):flow>/<token>", methods=["GET", "POST"])
def buyer_page(flow, token):
    """The page a buyer sees; ``?action=`` (GET) or the form (POST) acts on it."""
    app = psp()
    action = request.form.get("action") if request.method == "POST" else request.args.get("action")
    if action is None:
        session = app.session(token)
        return Response(challenge(session, token), mimetype="text/html")
    target, decision = app.buyer_action(token, action)
    if target:
        return redirect(target, code=303)
    return Response(done(decision), mimetype="text/html")


@pages.route("/launch", methods=["GET"])
def launch():
    """The fake app's admin page: it checks the launch signature as a real app must."""
    shop, valid = psp().verify_launch(dict(request.args))
    return Response(launched(shop, valid), status=200 if valid else 401, mimetype="text/html")


BLUEPRINTS = (app_calls,)

"""The conformance cases: what Genstore expects of a payment app, each from a seed's clause.

A case drives payments through the app under test in the run's shop, over HTTP, and raises
:class:`Failed` (or :class:`Skipped`) with the reason; the journal excerpt that shows it is
gathered by the runner. Cases read the app's behaviour only from what crossed the wire and what
the platform recorded.

A case fails an app only on what its seed clause requires. What the seeds leave open (when
``account_authorize`` is reported, a decline's ``reason``, ``pre_authorize`` or ``payment`` for
an authorization, how fast a result comes, which card numbers an app treats as test cards) is
advice: :meth:`Context.warn` records it with the reason, and only ``verify --strict`` fails on it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests

from sandbox.testing.shop import SandboxShop

SUCCESS_CARD = "4242424242424242"
DECLINE_CARD = "4000000000000002"  # Stripe's generic decline, in the sandbox's magic values too
THREE_DS_CARD = "4000002760003184"


class Failed(Exception):
    """The app did not do what the case expects."""


class Skipped(Exception):
    """The case cannot run against this app (the reason says why)."""


class Advice(Exception):
    """The case cannot go on, for a reason the seeds leave open: a warning, not a failure."""


@dataclass
class Context:
    """What a case works with: the run's shop, the app's name and URLs, the time bound, the
    request shape of the case's payments (None: the shop's), and the advice it gathered."""

    shop: SandboxShop
    app: str
    urls: dict[str, str]
    timeout: float
    payments: list[str]  # every payment a case started: the runner's journal excerpt
    shape: str | None = None
    status_query: str = "query"
    warnings: list[str] = field(default_factory=list)

    def warn(self, advice: str) -> None:
        """Something the seeds do not require, worth knowing: a warning, not a failure."""
        self.warnings.append(advice)

    def checkout(self, **body: Any) -> str:
        if self.shape is not None:
            body.setdefault("requestShape", self.shape)
        payment_id = self.shop.checkout(app=self.app, **body)
        self.payments.append(payment_id)
        return payment_id

    def reach(self, payment_id: str, state: str) -> dict[str, Any]:
        """The payment once it is in ``state``, within the time bound; else the case fails
        (at once when the platform cannot even connect to the app)."""
        deadline = time.monotonic() + self.timeout
        looked = time.monotonic()
        while True:
            self.shop.catch_up()
            detail = self.shop.payment(payment_id)
            if detail["state"] == state:
                return detail
            if detail["transactionStatus"] != "1" or time.monotonic() > deadline:
                violations = detail["violations"]
                raise Failed(
                    f"payment {payment_id} is {detail['state']}, not {state}"
                    + (f" (violations: {violations})" if violations else "")
                )
            if time.monotonic() - looked > 0.5:
                looked = time.monotonic()
                unreachable = self.unreachable(payment_id)
                if unreachable:
                    raise Failed(unreachable)
            time.sleep(0.05)  # the app answers in real time: poll it

    def unreachable(self, payment_id: str | None = None) -> str:
        """Why the platform cannot reach the app, when every request it sent (about the
        payment) failed to connect; else empty."""
        query: dict[str, Any] = {"direction": "outbound", "limit": 50}
        if payment_id:
            query["paymentId"] = payment_id
        sent = [e for e in self.shop.journal(**query) if e["kind"].startswith("app.")]
        failed = [e for e in sent if (e["error"] or "").startswith("connection failed")]
        if not sent or len(failed) != len(sent):
            return ""
        first = failed[-1]
        return f"the app cannot be reached: {first['method']} {first['url']}: {first['error']}"

    def settle(self, payment_id: str, kind: str, operation_id: str) -> dict[str, Any]:
        """The operation once it succeeded, within the time bound."""
        deadline = time.monotonic() + self.timeout
        while True:
            self.shop.catch_up()
            detail = self.shop.payment(payment_id)
            operation = next(o for o in detail["operations"] if o["id"] == operation_id)
            if operation["state"] == "succeeded":
                return detail
            if operation["state"] != "pending" or time.monotonic() > deadline:
                raise Failed(f"{kind} {operation_id} is {operation['state']}, not succeeded")
            time.sleep(0.05)  # the app answers in real time: poll it

    def paid(self, amount: str = "25.00", **body: Any) -> str:
        payment_id = self.checkout(amount=amount, card=SUCCESS_CARD, **body)
        self.reach(payment_id, "paid")
        return payment_id

    def authorized(self, amount: str = "40.00") -> str:
        payment_id = self.checkout(amount=amount, card=SUCCESS_CARD, manualCapture=True)
        self.reach(payment_id, "authorized")
        return payment_id

    def operate(self, payment_id: str, kind: str, amount: str | None = None) -> dict[str, Any]:
        method = {"capture": self.shop.capture, "refund": self.shop.refund}
        try:
            operation_id = (
                self.shop.void(payment_id) if kind == "void" else method[kind](payment_id, amount)
            )
        except AssertionError as exc:
            raise Failed(f"the platform refused the {kind}: {exc}") from None
        return self.settle(payment_id, kind, operation_id)

    def callbacks(
        self, payment_id: str, until: Callable[[list[dict[str, Any]]], bool] = bool
    ) -> list[dict[str, Any]]:
        """The app's result callbacks about a payment, oldest first; read again (within the
        time bound) until ``until`` holds, since each worker writes its journal a moment
        after it answered."""

        def read() -> list[dict[str, Any]]:
            entries = self.shop.journal(paymentId=payment_id, direction="inbound")
            return [e for e in reversed(entries) if e["method"] == "PUT"]

        return self._journal_until(read, until)

    def answers(
        self, payment_id: str, kind: str, until: Callable[[list[dict[str, Any]]], bool] = bool
    ) -> list[dict[str, Any]]:
        """The platform's requests of ``kind`` about a payment and the app's answers."""

        def read() -> list[dict[str, Any]]:
            entries = self.shop.journal(paymentId=payment_id, direction="outbound", kind=kind)
            return list(reversed(entries))

        return self._journal_until(read, until)

    def _journal_until(
        self,
        read: Callable[[], list[dict[str, Any]]],
        until: Callable[[list[dict[str, Any]]], bool],
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + self.timeout
        while True:
            entries = read()
            if until(entries) or time.monotonic() > deadline:
                return entries
            time.sleep(0.05)  # the journal is written a moment after the exchange

    def query(self, request: str, **params: str) -> dict[str, Any]:
        """Ask the app directly, as the platform would (Get payment, Get refund), in the form
        the app was registered with (a query parameter, or seed 001's JSON body)."""
        url = self.urls.get(request)
        if not url:
            raise Failed(f"the app registered no {request} URL")
        body: dict[str, str] | None = None
        if self.status_query == "body":
            target, body = url, params
        else:
            parts = urlsplit(url)
            query = "&".join(q for q in (parts.query, urlencode(params)) if q)
            target = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
        try:
            response = requests.get(target, json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            raise Failed(f"{request}: no answer ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise Failed(f"{request} answered HTTP {response.status_code}")
        try:
            answer: dict[str, Any] = response.json()
        except ValueError:
            raise Failed(f"{request} answered no JSON") from None
        return answer

    def arm(self, **fault: Any) -> None:
        armed = self.shop.sandbox.control(
            "POST", "/faults", json={"shop": self.shop.handle, **fault}
        )
        if armed.status_code != 201:
            raise Failed(f"could not arm a fault: {armed.text}")


# ---- the cases ----------------------------------------------------------------------------

# How far status_query_while_waiting moves the run's shop clock: past the payment machine's
# query_after (60 s in the shipped machines) with room for fixtures that wait longer.
QUERY_WAIT = "1h"

# The largest amount the full shape pays with (seed 001 sets no limit; six digits and cents).
LARGE_AMOUNT = "999999.99"


def card_payment_automatic_capture(ctx: Context) -> None:
    payment_id = ctx.paid(LARGE_AMOUNT if ctx.shape == "full" else "25.00")
    kinds = [c["kind"] for c in ctx.callbacks(payment_id)]
    if "PUT /api/202412/app/payment/<paymentId>" not in kinds:
        raise Failed(f"the result came by {kinds}, not PUT /app/payment (automatic capture)")


def authorize_then_full_capture(ctx: Context) -> None:
    payment_id = ctx.authorized("40.00")
    kinds = [c["kind"] for c in ctx.callbacks(payment_id)]
    if "PUT /api/202412/app/pre_authorize/<paymentId>" not in kinds:
        ctx.warn(
            "the authorization came by PUT /app/payment, not PUT /app/pre_authorize: seed 000 "
            "names pre_authorize for it, but the platform takes either"
        )
    _status_is(ctx, payment_id, "AUTH_SUCCESS", "an authorized payment not yet captured")
    detail = ctx.operate(payment_id, "capture")
    if (detail["state"], detail["capturedAmount"]) != ("paid", "40.00"):
        raise Failed(f"after a full capture: {detail['state']}, {detail['capturedAmount']}")


def authorize_then_partial_capture(ctx: Context) -> None:
    payment_id = ctx.authorized("40.00")
    detail = ctx.operate(payment_id, "capture", "15.00")
    if detail["capturedAmount"] != "15.00":
        raise Failed(f"captured {detail['capturedAmount']}, not 15.00")


def void_of_an_authorization(ctx: Context) -> None:
    payment_id = ctx.authorized("30.00")
    detail = ctx.operate(payment_id, "void")
    if detail["state"] != "voided":
        raise Failed(f"after the void the payment is {detail['state']}")


def full_refund(ctx: Context) -> None:
    payment_id = ctx.paid("20.00")
    detail = ctx.operate(payment_id, "refund")
    if (detail["state"], detail["refundedAmount"]) != ("refunded", "20.00"):
        raise Failed(f"after a full refund: {detail['state']}, {detail['refundedAmount']}")


def partial_refund(ctx: Context) -> None:
    payment_id = ctx.paid("20.00")
    detail = ctx.operate(payment_id, "refund", "5.00")
    if (detail["state"], detail["refundedAmount"]) != ("partially_refunded", "5.00"):
        raise Failed(f"after a partial refund: {detail['state']}, {detail['refundedAmount']}")


def two_partial_refunds(ctx: Context) -> None:
    payment_id = ctx.paid("20.00")
    ctx.operate(payment_id, "refund", "5.00")
    detail = ctx.operate(payment_id, "refund", "15.00")
    if (detail["state"], detail["refundedAmount"]) != ("refunded", "20.00"):
        raise Failed(f"after two refunds: {detail['state']}, {detail['refundedAmount']}")


def small_and_zero_decimal_amounts(ctx: Context) -> None:
    """Amounts as seed 001 sends them, "always using a decimal point": 0.50 USD, and JPY,
    which has no minor unit, as a whole number."""
    for amount, currency in (("0.50", "USD"), ("1000", "JPY")):
        payment_id = ctx.checkout(amount=amount, currency=currency, card=SUCCESS_CARD)
        detail = ctx.reach(payment_id, "paid")
        if (detail["amount"], detail["currency"]) != (amount, currency):
            raise Failed(f"paid {detail['amount']} {detail['currency']}, not {amount} {currency}")


def decline_with_a_reason(ctx: Context) -> None:
    payment_id = ctx.checkout(amount="25.00", card=DECLINE_CARD)
    try:
        ctx.reach(payment_id, "failed")
    except Failed as exc:
        detail = ctx.shop.payment(payment_id)
        if detail["transactionStatus"] == "1":
            raise  # no result at all
        raise Advice(
            f"the app does not decline the test card {DECLINE_CARD} ({exc}): the seeds define "
            "no test cards, so verify cannot ask this app for a decline"
        ) from None
    reasons = [_pay(c).get("reason") for c in ctx.callbacks(payment_id)]
    if not any(reasons):
        ctx.warn("the failure callback gave no reason: seed 000 makes reason optional, but a "
                 "merchant reads it to know why a buyer's payment failed")  # fmt: skip


def three_d_secure(ctx: Context) -> None:
    payment_id = ctx.checkout(amount="25.00", card=THREE_DS_CARD)
    url = _answered_url(ctx, payment_id, "app.payment", "threeDsUrl", THREE_DS_CARD)
    _act_on_page(url, "pass", ctx.timeout)
    ctx.reach(payment_id, "paid")


def offsite_redirect(ctx: Context) -> None:
    if not ctx.urls.get("offsite_payment"):
        raise Skipped("the app registered no offsite_payment URL")
    payment_id = ctx.checkout(amount="25.00", offsite=True)
    url = _answered_url(ctx, payment_id, "app.offsite_payment", "redirectUrl", None)
    _act_on_page(url, "approve", ctx.timeout)
    ctx.reach(payment_id, "paid")


def same_request_twice(ctx: Context) -> None:
    """The platform sends the payment request twice (a duplicated delivery): the app charges
    once (the paymentId identifies the payment action)."""
    ctx.arm(target="app.payment", kind="duplicate", count=1)
    payment_id = ctx.paid()
    answers = ctx.answers(payment_id, "app.payment", until=lambda found: len(found) >= 2)
    if len(answers) < 2:
        raise Failed("the duplicated request was not delivered twice")
    if answers[0]["responseBody"] != answers[1]["responseBody"]:
        ctx.warn(
            f"two answers to one request: {answers[0]['responseBody']} and "
            f"{answers[1]['responseBody']} (the seeds do not say a repeat answers the same)"
        )
    ctx.callbacks(payment_id)
    time.sleep(min(1.0, ctx.timeout / 4))  # a second charge would report a moment later
    found = ctx.callbacks(payment_id)
    channels = {_pay(c).get("channelPaymentId") for c in found}
    if len(channels) != 1:
        raise Failed(f"charged more than once: channel ids {sorted(map(str, channels))}")


def callbacks_retried_after_5xx(ctx: Context) -> None:
    _retried_after(ctx, 503)


def callbacks_retried_after_429(ctx: Context) -> None:
    _retried_after(ctx, 429)


def _retried_after(ctx: Context, status: int) -> None:
    ctx.arm(
        target="platform",
        kind="status",
        status=status,
        count=1,
        path="/api/202412/app/payment/",
        body='{"error": "Injected by genstore-sandbox verify"}',
    )
    payment_id = ctx.checkout(amount="25.00", card=SUCCESS_CARD)
    try:
        ctx.reach(payment_id, "paid")
    except Failed:
        raise Failed(
            f"the app did not report the result again after a {status}: the platform records "
            "a result only when it answers 200 {}"
        ) from None
    found = ctx.callbacks(payment_id, until=lambda entries: len(entries) >= 2)
    statuses = [c["status"] for c in found]
    if status not in statuses:
        raise Failed(f"the injected {status} was never answered (callbacks: {statuses})")


def status_queries_agree(ctx: Context) -> None:
    payment_id = ctx.paid("20.00")
    detail = ctx.operate(payment_id, "refund", "20.00")
    payment = ctx.query("get_payment", paymentId=payment_id)
    if payment.get("status") != "SUCCESS":
        raise Failed(f"Get payment says {payment.get('status')}, the callback said SUCCESS")
    if payment.get("channelPaymentId") != detail["channelPaymentId"]:
        raise Failed(
            f"Get payment's channelPaymentId {payment.get('channelPaymentId')} is not the "
            f"callback's {detail['channelPaymentId']}"
        )
    refund = next(o for o in detail["operations"] if o["kind"] == "refund")
    answer = ctx.query("get_refund", refundId=refund["id"])
    if answer.get("status") != "SUCCESS":
        raise Failed(f"Get refund says {answer.get('status')}, the callback said SUCCESS")
    if answer.get("channelRefundId") != refund["channelId"]:
        raise Failed(f"Get refund's channelRefundId is not the callback's {refund['channelId']}")


def status_query_while_waiting(ctx: Context) -> None:
    """No result a while after the app answered (the buyer has not done 3-D Secure yet): the
    platform asks Get payment, in the form the app registered, and the app says PROCESSING;
    once the buyer passes, the result comes."""
    if not ctx.urls.get("get_payment"):
        raise Skipped("the app registered no get_payment URL")
    payment_id = ctx.checkout(amount="25.00", card=THREE_DS_CARD)
    url = _answered_url(ctx, payment_id, "app.payment", "threeDsUrl", THREE_DS_CARD)
    ctx.shop.advance(QUERY_WAIT)  # past the payment machine's query_after, on this shop's clock
    answers = ctx.answers(payment_id, "app.get_payment")
    if not answers:
        raise Failed("the platform sent no Get payment")
    answer = answers[-1]
    if answer["status"] != 200:
        raise Failed(
            f"the platform's Get payment was answered {answer['status'] or answer['error']}"
        )
    body = answer.get("responseBody")
    status = body.get("status") if isinstance(body, dict) else None
    if status != "PROCESSING":
        raise Failed(
            f"Get payment says {status} for a payment waiting on 3-D Secure, not PROCESSING"
        )
    _act_on_page(url, "pass", ctx.timeout)
    ctx.reach(payment_id, "paid")


def ids_and_amounts_echoed(ctx: Context) -> None:
    """Every id the app reports back is the one it was sent, and any amount it echoes is the
    one it was asked for, to the cent."""
    payment_id = ctx.authorized("40.00")
    detail = ctx.operate(payment_id, "capture", "12.34")
    detail = ctx.operate(payment_id, "refund", "2.34")
    for callback in ctx.callbacks(payment_id):
        pay, path_id = _pay(callback), callback["path"].rsplit("/", 1)[-1]
        ids = {value for key, value in pay.items() if key.endswith("Id") and "channel" not in key}
        if path_id != "account_authorize" and ids != {path_id}:
            raise Failed(f"a callback for {path_id} reported ids {sorted(ids)}")
    for kind, amount in (("app.capture", "12.34"), ("app.refund", "2.34")):
        for answer in ctx.answers(payment_id, kind):
            body = answer.get("responseBody")
            echoed = body.get("amount") if isinstance(body, dict) else None
            if echoed is not None and echoed != amount:
                raise Failed(f"the {kind} answer echoed amount {echoed}, asked {amount}")
    if detail["refundedAmount"] != "2.34":
        raise Failed(f"refunded {detail['refundedAmount']}, not 2.34")


def required_answer_fields(ctx: Context) -> None:
    """The app's answers to every request carry the fields seed 001 requires, typed."""
    payment_id = ctx.authorized("30.00")
    ctx.operate(payment_id, "capture", "30.00")
    ctx.operate(payment_id, "refund", "1.00")
    found = [v for v in ctx.shop.violations() if v["paymentId"] in ctx.payments]
    if found:
        raise Failed(
            "; ".join(f"{v['request']}: {v['field']}: {v['rule']}" for v in found[:5])
            + (f" (and {len(found) - 5} more)" if len(found) > 5 else "")
        )


# A result slower than this is worth a warning: a buyer waits at checkout. The seeds set no
# bound (Genstore's docs say transactions settle within 5 days); the sandbox's own advice.
ADVISED_SECONDS = 5.0


def result_within_time_bound(ctx: Context) -> None:
    started = time.monotonic()
    payment_id = ctx.checkout(amount="25.00", card=SUCCESS_CARD)
    try:
        ctx.reach(payment_id, "paid")
    except Failed:
        raise Failed(
            f"no result reported within {ctx.timeout:g}s (how long verify waits; --timeout "
            "gives a slow app longer)"
        ) from None
    elapsed = time.monotonic() - started
    if elapsed > min(ADVISED_SECONDS, ctx.timeout):
        ctx.warn(
            f"the result took {elapsed:.1f}s: the seeds set no bound, but a buyer waits at "
            f"checkout (advice: under {ADVISED_SECONDS:g}s)"
        )


def account_authorize_reported(ctx: Context) -> None:
    """The app reports the merchant's account ready, at a moment of its choosing (the run
    opens its signed launch URL, as the merchant does, and then waits); a report the
    platform refuses (a body against seed 000) fails."""
    launch = ctx.shop.sandbox.control(
        "GET", f"/apps/{ctx.app}/launch", params={"shop": ctx.shop.handle}
    )
    if launch.status_code == 200:
        # The app may answer its page slowly or not at all; what counts is the call it makes.
        with contextlib.suppress(requests.RequestException):
            requests.get(launch.json()["url"], timeout=ctx.timeout)
    deadline = time.monotonic() + ctx.timeout
    while True:
        ctx.shop.catch_up()
        calls = ctx.shop.journal(kind="PUT /api/202412/app/account_authorize")
        refused = [c for c in calls if c["status"] is not None and 400 <= c["status"] < 500]
        if refused:
            raise Failed(
                f"PUT /app/account_authorize was refused: {refused[0]['status']} "
                f"{refused[0].get('responseBody')}"
            )
        if any(_pay(c).get("ready") in (True, "true") and c["status"] == 200 for c in calls):
            return
        if time.monotonic() > deadline:
            ctx.warn(
                "the app never reported PUT /app/account_authorize ready: true during the run: "
                "seed 000 defines the call but not when an app makes it; until it does, Genstore "
                "does not offer the app at checkout"
            )
            return
        time.sleep(0.05)  # waiting on the app, in real time


# ---- helpers ------------------------------------------------------------------------------


def _pay(entry: dict[str, Any]) -> dict[str, Any]:
    body = entry.get("requestBody")
    pay = body.get("pay") if isinstance(body, dict) else None
    return pay if isinstance(pay, dict) else {}


def _status_is(ctx: Context, payment_id: str, expected: str, what: str) -> None:
    """Get payment's status for the payment, when the app registered Get payment."""
    if not ctx.urls.get("get_payment"):
        ctx.warn(f"the app registered no get_payment URL: its status for {what} is unchecked")
        return
    try:
        status = ctx.query("get_payment", paymentId=payment_id).get("status")
    except Failed as exc:  # status_queries_agree judges Get payment itself
        ctx.warn(f"its status for {what} is unchecked: {exc}")
        return
    if status != expected:
        raise Failed(f"Get payment says {status} for {what}; seed 001's status is {expected}")


def _answered_url(
    ctx: Context, payment_id: str, kind: str, field_name: str, test_card: str | None
) -> str:
    deadline = time.monotonic() + ctx.timeout
    while True:
        ctx.shop.catch_up()
        answers = ctx.answers(payment_id, kind)
        for answer in answers:
            body = answer.get("responseBody")
            found = body.get(field_name) if isinstance(body, dict) else None
            if isinstance(found, str) and found:
                return found
        settled = ctx.shop.payment(payment_id)["transactionStatus"] != "1"
        if (settled or time.monotonic() > deadline) and test_card and answers:
            raise Advice(
                f"the app answered the test card {test_card} without {field_name}: the seeds "
                "define no test cards, so verify cannot ask this app for 3-D Secure"
            )
        if time.monotonic() > deadline:
            raise Failed(f"the app's answer gave no {field_name}")
        time.sleep(0.05)  # the request may still be on its way


def _act_on_page(url: str, action: str, timeout: float) -> None:
    """Do what the buyer does on the app's page (the sandbox's pages take ``?action=``)."""
    try:
        requests.get(url, params={"action": action}, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        raise Failed(f"the buyer's page at {url} did not answer ({type(exc).__name__})") from None


@dataclass(frozen=True)
class Case:
    name: str
    title: str
    seed: str  # which seed says so
    clause: str  # what it says, that the case enforces
    run: Callable[[Context], None]
    # Run once in each request shape (minimal, full): the case starts payments whose
    # requests differ by shape. Else once, in the shop's shape.
    shaped: bool = False


RECORDED_ON_200 = "000 each PUT's response: 'HTTP/1.1 200 OK {}'; no 200, no result recorded"
CASES = (
    Case("card_payment_automatic_capture", "Card payment with automatic capture", "001, 000",
         "001 Credit card payment (manualCapture: 'true for automatic capture'); 000 PUT "
         "/app/payment/{paymentId} (pay.result, paymentId, channelPaymentId)",
         card_payment_automatic_capture, shaped=True),
    Case("authorize_then_full_capture", "Authorize, then capture in full", "001, 000",
         "001 manualCapture ('false for manual capture'), Get payment status AUTH_SUCCESS, "
         "Capture operation; 000 PUT /app/capture/{captureId}",
         authorize_then_full_capture, shaped=True),
    Case("authorize_then_partial_capture", "Authorize, then capture in part", "001",
         "001 Capture operation: amount 'the amount to be captured'",
         authorize_then_partial_capture),
    Case("void_of_an_authorization", "Void an authorization", "001, 000",
         "001 Void operation ('the authorized payment that is to be voided'); 000 PUT "
         "/app/void/{voidId}", void_of_an_authorization),
    Case("full_refund", "Refund in full", "001, 000",
         "001 Refund operation; 000 PUT /app/refund/{refundId}", full_refund),
    Case("partial_refund", "Refund in part", "001",
         "001 Refund operation: amount 'the amount to be refunded'", partial_refund),
    Case("two_partial_refunds", "Two partial refunds", "001",
         "001 Refund operation: refundId 'the unique identifier for the refund attempt'",
         two_partial_refunds),
    Case("small_and_zero_decimal_amounts", "0.50 USD and a zero-decimal currency (JPY)", "001",
         "001 amount: 'always sent using a decimal point as a separator'; currency: "
         "'three-letter ISO 4217 currency code'", small_and_zero_decimal_amounts, shaped=True),
    Case("decline_with_a_reason", "A decline reported as a failure", "000",
         "000 PUT /app/payment/{paymentId}: pay.result false (reason optional)",
         decline_with_a_reason, shaped=True),
    Case("three_d_secure", "3-D Secure URL, then the result after the challenge", "001",
         "001 Credit card payment answer: threeDsUrl 'URL returned when payment requires "
         "3D-Secure verification'", three_d_secure, shaped=True),
    Case("offsite_redirect", "Offsite redirect, then the result", "001",
         "001 Offsite payment answer: redirectUrl 'the payment address returned by the payment "
         "provider' (required)", offsite_redirect, shaped=True),
    Case("same_request_twice", "The same request twice: one charge", "001",
         "001 paymentId: 'unique identifier for the payment action'", same_request_twice),
    Case("callbacks_retried_after_5xx", "Callbacks retried after a 5xx", "000",
         RECORDED_ON_200,
         callbacks_retried_after_5xx),
    Case("callbacks_retried_after_429", "Callbacks retried after a 429", "000",
         RECORDED_ON_200,
         callbacks_retried_after_429),
    Case("status_queries_agree", "Get payment and Get refund agree with the callbacks", "001",
         "001 Get payment / Get refund: status (PROCESSING/SUCCESS/...), channelPaymentId, "
         "channelRefundId", status_queries_agree),
    Case("status_query_while_waiting", "Get payment from the platform while a result is awaited",
         "001", "001 Get payment: status PROCESSING 'the payment status'; the platform calls it "
         "to reconcile a payment it has no result for", status_query_while_waiting),
    Case("ids_and_amounts_echoed", "Ids and amounts echoed exactly", "000, 001",
         "000 paymentId / captureId / refundId: 'Genstore' ids, reported as sent",
         ids_and_amounts_echoed),
    Case("required_answer_fields", "Answers carry the fields the seed requires", "001",
         "001 Response Data: the fields marked required, as strings", required_answer_fields),
    Case("result_within_time_bound", "A result is reported", "000",
         "000 PUT /app/payment/{paymentId}: 'returns the payment result'",
         result_within_time_bound),
    Case("account_authorize_reported", "account_authorize reported", "000",
         "000 PUT /app/account_authorize: pay.ready (boolean, required)",
         account_authorize_reported),
)  # fmt: skip

"""The fake payment app's decisions and the callbacks it schedules, through its service."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from sandbox.core import crypto
from sandbox.errors import Conflict
from sandbox.psp import operations
from sandbox.psp.reports import Report
from sandbox.store import outbox as messages
from sandbox.store.psp import PspPayment
from sandbox.store.seed import builtin_public_key
from tests.unit.conftest import START

DOMAIN = "demo.genmystore.com"


def _card_request(payment_id: str, pan: str, amount: str = "25.00", manual=False, holder=None):
    card = {"pan": pan, "month": 12, "year": 2030, "verificationValue": "123"}
    if holder:
        card["fullName"] = holder
    data = crypto.encrypt_card(card, builtin_public_key())
    return {
        "paymentId": payment_id,
        "amount": amount,
        "currency": "USD",
        "test": True,
        "manualCapture": not manual,  # seed 001: true for automatic capture
        "paymentMethod": {"data": data},
    }


def _callbacks(services, payment_id):
    found = messages.list_messages(
        services.db.read(), messages.MessageFilter(payment_id=payment_id)
    )
    return [(m.kind, json.loads(m.body or "{}")["pay"], m.due_at) for m in reversed(found)]


def test_a_plain_card_is_approved_and_reported_through_the_outbox(services):
    answer = services.psp.card_payment(DOMAIN, _card_request("PI-u1", "4242424242424242"))
    assert answer == {"error": ""}
    ((kind, pay, _due),) = _callbacks(services, "PI-u1")
    assert kind == "psp.payment_result"
    assert pay["result"] == "true" and pay["paymentId"] == "PI-u1"
    assert pay["channelPaymentId"].startswith("psp_pay_")


def test_manual_capture_reports_through_pre_authorize(services):
    services.psp.card_payment(DOMAIN, _card_request("PI-u2", "4242424242424242", manual=True))
    assert [kind for kind, _, _ in _callbacks(services, "PI-u2")] == ["psp.pre_authorize_result"]


def test_a_decline_answers_and_reports_its_reason(services):
    answer = services.psp.card_payment(DOMAIN, _card_request("PI-u3", "4000000000000002"))
    ((_, pay, _),) = _callbacks(services, "PI-u3")
    assert answer["error"] and pay["result"] == "false" and pay["reason"] == answer["error"]


def test_a_delayed_result_is_due_later(services):
    services.psp.card_payment(DOMAIN, _card_request("PI-u4", "4000000000000077"))
    ((_, pay, due),) = _callbacks(services, "PI-u4")
    assert pay["result"] == "true" and due > START.isoformat()


def test_three_d_secure_waits_for_the_buyer(services):
    answer = services.psp.card_payment(DOMAIN, _card_request("PI-u5", "4000002760003184"))
    assert answer["threeDsUrl"].rsplit("/", 1)[0].endswith("/psp/3ds")
    assert _callbacks(services, "PI-u5") == []
    token = answer["threeDsUrl"].rsplit("/", 1)[1]
    assert services.psp.buyer_action(token, "pass")[1] == "SUCCESS"
    ((_, pay, _),) = _callbacks(services, "PI-u5")
    assert pay["result"] == "true"
    with pytest.raises(Conflict):
        services.psp.buyer_action(token, "fail")


def test_the_same_request_twice_is_answered_once(services):
    request = _card_request("PI-u6", "4242424242424242")
    first = services.psp.card_payment(DOMAIN, request)
    assert services.psp.card_payment(DOMAIN, _card_request("PI-u6", "4242424242424242")) == first
    assert len(_callbacks(services, "PI-u6")) == 1
    other = services.psp.card_payment(DOMAIN, _card_request("PI-u6", "4242424242424242", "26.00"))
    assert "different parameters" in other["error"]  # seed 001 answers 200, with the error
    assert len(_callbacks(services, "PI-u6")) == 1


def test_unreadable_card_data_is_declined_at_once(services):
    request = _card_request("PI-u7", "4242424242424242")
    request["paymentMethod"]["data"]["cipherText"] = "bm90IGl0"
    answer = services.psp.card_payment(DOMAIN, request)
    assert answer["error"]
    ((_, pay, _),) = _callbacks(services, "PI-u7")
    assert pay["result"] == "false"


def _record(**changes) -> PspPayment:
    base = dict(
        shop_domain=DOMAIN, payment_id="P", channel_payment_id="c", kind="card",
        fingerprint="f", amount="100.00", currency="USD", manual_capture=True,
        decision="AUTH_SUCCESS", reason=None, decided_at=START.isoformat(), captured="0",
        refunded="0", answer="{}", created_at=START.isoformat(),
    )  # fmt: skip
    return PspPayment(**{**base, **changes})


def test_operation_rules():
    now = START + timedelta(seconds=1)
    authorized = _record()
    assert operations.judge("capture", authorized, "60.00", now) == (Decimal("60.00"), None)
    assert "exceeds the authorized" in operations.judge("capture", authorized, "101", now)[1]
    assert operations.judge("void", authorized, None, now)[1] is None
    assert "not been captured" in operations.judge("refund", authorized, "1", now)[1]
    captured = _record(captured="60.00", refunded="50.00")
    assert operations.status(captured, now) == "SUCCESS"
    assert "multiple captures" in operations.judge("capture", captured, "1", now)[1]
    assert "left to refund (10.00)" in operations.judge("refund", captured, "10.01", now)[1]
    assert operations.judge("refund", captured, "10.00", now)[1] is None
    assert operations.status(_record(voided=True), now) == "FAILURE"
    assert operations.status(_record(decided_at=(now + timedelta(1)).isoformat()), now) == (
        "PROCESSING"
    )
    assert operations.judge("capture", None, "1", now) == (None, "Payment not found")


@pytest.mark.parametrize(
    ("kind", "id_field", "channel_field"),
    [
        ("payment", "paymentId", "channelPaymentId"),
        ("pre_authorize", "paymentId", "channelPaymentId"),
        ("capture", "captureId", "channelCaptureId"),
        ("void", "voidId", "channelVoidId"),
        ("refund", "refundId", "channelRefundId"),
    ],
)
def test_the_callback_field_table(kind, id_field, channel_field):
    body = Report(kind, "X1", "P1", False, "why", "ch1").body()
    assert body == {
        "pay": {"result": "false", id_field: "X1", channel_field: "ch1", "reason": "why"}
    }
    assert "reason" not in Report(kind, "X1", "P1", True, None, "ch1").body()["pay"]


def test_an_operation_is_answered_and_reported_once(services):
    services.psp.card_payment(DOMAIN, _card_request("PI-u8", "4242424242424242", manual=True))
    advance_past = START + timedelta(seconds=1)
    from tests.unit.conftest import set_clock

    set_clock(services, advance_past)
    body = {"captureId": "CA-u8", "paymentId": "PI-u8", "amount": "25.00", "test": True}
    answer = services.psp.capture(DOMAIN, body)
    assert answer["channelCaptureId"].startswith("psp_cap_") and "error" not in answer
    assert services.psp.capture(DOMAIN, dict(body)) == answer
    kinds = [kind for kind, _, _ in _callbacks(services, "PI-u8")]
    assert kinds == ["psp.pre_authorize_result", "psp.capture_result"]
    assert services.psp.payment_status(DOMAIN, "PI-u8")["status"] == "SUCCESS"

"""Manual capture, partial capture, void, partial and repeated refunds, refusals and idempotent
replays, across both sides over real HTTP."""

import requests

from sandbox.core import crypto
from tests.conftest import FIXTURES

PUBLIC_KEY = (FIXTURES / "keys" / "sandbox-psp.public.b64").read_text().strip()


def authorized(driver, amount="80.00"):
    payment_id = driver.checkout(amount=amount, manualCapture=True)
    driver.drain()
    assert driver.status(payment_id)["status"] == "4"
    return payment_id


def test_manual_capture_uses_pre_authorize_then_partial_capture(driver):
    payment_id = authorized(driver)
    [callback] = driver.callbacks(payment_id)
    assert "/api/202412/app/pre_authorize/" in callback["url"]
    assert driver.psp("payment", paymentId=payment_id).json()["status"] == "AUTH_SUCCESS"
    response = driver.operation(payment_id, "capture", amount="50.00")
    assert response.status_code == 201
    capture_id = response.json()["id"]
    driver.drain()
    payment = driver.status(payment_id)
    assert (payment["status"], payment["amount"]) == ("2", "50.00")
    operations = driver.detail(payment_id)["operations"]
    assert [(o["id"], o["state"]) for o in operations] == [(capture_id, "succeeded")]
    assert driver.psp("payment", paymentId=payment_id).json()["status"] == "SUCCESS"


def test_void_an_authorization(driver):
    payment_id = authorized(driver)
    assert driver.operation(payment_id, "void").status_code == 201
    driver.drain()
    assert driver.status(payment_id)["status"] == "3"
    # nothing can be captured or voided any more
    assert driver.operation(payment_id, "capture").status_code == 409
    assert driver.operation(payment_id, "void").status_code == 409


def test_partial_and_repeated_refunds_up_to_what_was_captured(driver):
    payment_id = driver.checkout(amount="60.00")
    driver.drain()
    first = driver.operation(payment_id, "refund", amount="20.00").json()
    driver.drain()
    assert driver.detail(payment_id)["state"] == "partially_refunded"
    assert driver.psp("refund", refundId=first["id"]).json()["status"] == "SUCCESS"
    too_much = driver.operation(payment_id, "refund", amount="40.01")
    assert too_much.status_code == 400 and "40.00" in too_much.json()["error"]
    driver.operation(payment_id, "refund", amount="15.00")
    driver.operation(payment_id, "refund")  # the rest: 25.00
    driver.drain()
    detail = driver.detail(payment_id)
    assert (detail["state"], detail["refundedAmount"]) == ("refunded", "60.00")
    assert [o["amount"] for o in detail["operations"]] == ["20.00", "15.00", "25.00"]
    assert driver.status(payment_id)["status"] == "2"
    assert driver.operation(payment_id, "refund").status_code == 409


def test_the_platform_refuses_what_makes_no_sense(driver):
    payment_id = driver.checkout(amount="10.00")
    driver.drain()
    assert driver.operation(payment_id, "capture").status_code == 409  # already captured
    assert driver.operation(payment_id, "void").status_code == 409
    declined = driver.checkout(magic="generic_decline")
    driver.drain()
    assert driver.operation(declined, "refund").status_code == 409
    assert driver.operation("PI_NOPE", "refund").status_code == 404


def _psp_post(driver, path, body):
    domain = f"{driver.shop.handle}.genmystore.com"
    return requests.post(f"{driver.url}/psp/i/{domain}/{path}", json=body, timeout=10)


def _card_request(payment_id, amount="30.00", manual=False, pan="4242424242424242"):
    card = {"pan": pan, "month": 12, "year": 2099, "verificationValue": "123", "fullName": "A B"}
    return {
        "paymentId": payment_id,
        "amount": amount,
        "currency": "USD",
        "test": "true",
        # Seed 001: "true for automatic capture, false for manual capture".
        "manualCapture": "false" if manual else "true",
        "customer": {"email": "a@b.c"},
        "clientDetails": {"ipAddress": "127.0.0.1"},
        "paymentMethod": {"data": crypto.encrypt_card(card, PUBLIC_KEY)},
    }


def test_the_fake_app_refuses_invalid_operations_with_a_reason(driver):
    """A platform (yours) calling the fake app directly gets its refusals, and their callbacks."""
    assert _psp_post(driver, "payments", _card_request("PX-1", manual=True)).json() == {"error": ""}
    refused = _psp_post(
        driver,
        "captures",
        {"captureId": "C1", "paymentId": "PX-1", "amount": "99.00", "test": True},
    )
    assert refused.json()["error"] == "Capture amount 99.00 exceeds the authorized 30.00"
    assert refused.json()["channelCaptureId"]
    ok = _psp_post(
        driver,
        "captures",
        {"captureId": "C2", "paymentId": "PX-1", "amount": "10.00", "test": True},
    )
    assert "error" not in ok.json()
    second = _psp_post(
        driver, "captures", {"captureId": "C3", "paymentId": "PX-1", "amount": "5.00", "test": True}
    )
    assert second.json()["error"] == "Payment do not support multiple captures"
    void = _psp_post(driver, "voids", {"voidId": "V1", "paymentId": "PX-1", "test": "true"})
    assert void.json()["error"].startswith("Only an authorized payment can be voided")
    refund = _psp_post(
        driver,
        "refunds",
        {"refundId": "R1", "paymentId": "PX-1", "amount": "10.01", "test": "true"},
    )
    assert refund.json()["error"].startswith("Refund amount 10.01 exceeds what is left to refund")
    assert (
        _psp_post(
            driver,
            "refunds",
            {"refundId": "R2", "paymentId": "PX-1", "amount": "4.00", "test": "true"},
        )
        .json()
        .get("error")
        is None
    )
    unknown = _psp_post(
        driver, "refunds", {"refundId": "R3", "paymentId": "NOPE", "amount": "1", "test": "true"}
    )
    assert unknown.json()["error"] == "Payment not found"
    assert driver.psp("refund", refundId="R1").json()["status"] == "FAILURE"
    assert driver.psp("refund", refundId="R2").json()["status"] == "SUCCESS"


def test_idempotent_replays_return_the_first_answer_and_cause_nothing_new(driver):
    body = _card_request("PX-2", pan="4000000000000002")
    first = _psp_post(driver, "payments", body)
    replay = _psp_post(
        driver, "payments", {**body, "paymentMethod": _card_request("PX-2")["paymentMethod"]}
    )
    assert first.json() == replay.json() == {"error": "Your card was declined"}
    other = _psp_post(driver, "payments", {**body, "amount": "31.00"})  # seed 001 answers 200
    assert other.status_code == 200 and "different parameters" in other.json()["error"]
    _psp_post(driver, "payments", _card_request("PX-3"))
    refund = {"refundId": "R9", "paymentId": "PX-3", "amount": "5.00", "test": "true"}
    assert (
        _psp_post(driver, "refunds", refund).json() == _psp_post(driver, "refunds", refund).json()
    )
    conflict = _psp_post(driver, "refunds", {**refund, "amount": "6.00"})
    assert conflict.status_code == 200 and "different parameters" in conflict.json()["error"]
    outbox = driver.sandbox.control("GET", "/outbox", params={"shop": driver.shop.handle}).json()
    callbacks = [m for m in outbox["messages"] if m["side"] == "psp"]
    assert sorted(m["kind"] for m in callbacks) == [
        "psp.payment_result",
        "psp.payment_result",
        "psp.refund_result",
    ]


def test_the_fake_app_checks_what_it_receives(driver):
    assert (
        _psp_post(driver, "payments", {**_card_request("PX-4"), "test": "false"}).status_code == 400
    )
    missing = _psp_post(driver, "payments", {"paymentId": "PX-5"})
    assert missing.status_code == 400 and "amount" in missing.json()["details"]
    url = f"{driver.url}/psp/i/nowhere.example/payments"
    no_shop = requests.post(url, json=_card_request("PX-6"), timeout=10)
    assert no_shop.status_code == 404 and "nowhere.example" in no_shop.json()["error"]
    tampered = _card_request("PX-7")
    tampered["paymentMethod"]["data"]["suit"] = "GENSTORE-V0"
    answer = _psp_post(driver, "payments", tampered).json()
    assert "unsupported suit" in answer["error"]
    assert driver.psp("payment", paymentId="PX-7").json()["status"] == "FAILURE"


def test_card_numbers_never_leave_whole(driver):
    payment_id = driver.checkout(card="4000000000009995")
    driver.drain()
    text = str(driver.timeline(payment_id)) + str(driver.detail(payment_id))
    text += driver.sandbox.control("GET", "/outbox").text
    assert "4000000000009995" not in text
    assert driver.detail(payment_id)["cardLast4"] == "9995"

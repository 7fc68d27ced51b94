"""Every magic outcome across both sides, over real HTTP: checkout -> encrypted request to the
fake payment app -> asynchronous callback -> platform state -> merchant query."""

import pytest
import requests

DECLINES = [
    ("generic_decline", {}, "Your card was declined"),
    ("insufficient_funds", {}, "Insufficient funds"),
    ("expired_card", {}, "Expired card"),
    ("incorrect_cvc", {}, "Incorrect CVC"),
    ("processing_error", {}, "Processing error"),
    ("invalid_number", {}, "Invalid card number"),
    ("holder_declined", {}, "Your card was declined"),
    ("holder_not_enough_balance", {}, "Insufficient funds"),
    ("processor_declined", {"amount": "2001.00"}, "Processor declined (2001)"),
    ("processor_failed", {}, "Processor network unavailable (3000)"),
]


def test_success(driver):
    payment_id = driver.checkout(card="4242424242424242", amount="25.00")
    driver.drain()
    states = [e["to"] for e in driver.timeline(payment_id) if e["type"] == "state"]
    assert states[:2] == ["created", "paid"]  # processing until the app's callback came
    payment = driver.status(payment_id)
    assert payment["status"] == "2"
    assert payment["channelTrxNo"].startswith("psp_pay_")
    assert driver.detail(payment_id)["appAnswer"] == {"error": ""}
    app_view = driver.psp("payment", paymentId=payment_id).json()
    assert app_view == {"channelPaymentId": payment["channelTrxNo"], "status": "SUCCESS"}


@pytest.mark.parametrize(("magic", "extra", "reason"), DECLINES)
def test_declines_carry_their_reason_to_both_sides(driver, magic, extra, reason):
    payment_id = driver.checkout(magic=magic, **extra)
    driver.drain()
    assert driver.status(payment_id)["status"] == "9"
    assert driver.detail(payment_id)["appAnswer"] == {"error": reason}
    [callback] = driver.callbacks(payment_id)
    assert callback["requestBody"]["pay"]["result"] == "false"
    assert callback["requestBody"]["pay"]["reason"] == reason
    assert driver.psp("payment", paymentId=payment_id).json()["error"] == reason


def test_a_card_number_alone_selects_the_outcome(driver):
    payment_id = driver.checkout(card="4000000000009995")
    driver.drain()
    assert driver.detail(payment_id)["appAnswer"]["error"] == "Insufficient funds"


def test_three_ds_pass_through_the_page(driver):
    payment_id = driver.checkout(magic="three_ds_required")
    driver.drain()
    detail = driver.detail(payment_id)
    assert detail["state"] == "created" and detail["nextAction"]["type"] == "three_ds"
    page_url = detail["nextAction"]["url"]
    page = requests.get(page_url, timeout=10)
    assert page.status_code == 200 and 'value="pass"' in page.text and 'value="fail"' in page.text
    assert "····" in page.text  # the last four digits, never the whole number
    assert "4000002760003184" not in page.text
    clicked = requests.post(page_url, data={"action": "pass"}, allow_redirects=False, timeout=10)
    assert clicked.status_code == 303
    assert f"paymentId={payment_id}" in clicked.headers["Location"]
    driver.drain()
    assert driver.status(payment_id)["status"] == "2"
    again = requests.post(page_url, data={"action": "fail"}, allow_redirects=False, timeout=10)
    assert again.status_code == 409


def test_three_ds_fail_through_the_page(driver):
    payment_id = driver.checkout(magic="three_ds2_required")
    driver.drain()
    page_url = driver.detail(payment_id)["nextAction"]["url"]
    requests.post(page_url, data={"action": "fail"}, allow_redirects=False, timeout=10)
    driver.drain()
    assert driver.status(payment_id)["status"] == "9"
    assert driver.callbacks(payment_id)[0]["requestBody"]["pay"]["reason"] == (
        "3-D Secure authentication failed"
    )


def test_three_ds_headless_by_query_parameter(driver):
    payment_id = driver.checkout(magic="three_ds_required", manualCapture=True)
    driver.drain()
    url = driver.detail(payment_id)["nextAction"]["url"]
    assert (
        requests.get(url, params={"action": "pass"}, allow_redirects=False, timeout=10).status_code
        == 303
    )
    driver.drain()
    assert driver.status(payment_id)["status"] == "4"


def test_offsite_approve_returns_the_buyer_to_return_url(driver):
    payment_id = driver.checkout(offsite=True, amount="40.00")
    driver.drain()
    detail = driver.detail(payment_id)
    assert detail["nextAction"]["type"] == "redirect"
    page = requests.get(detail["nextAction"]["url"], timeout=10)
    assert 'value="approve"' in page.text and 'value="cancel"' in page.text
    clicked = requests.post(
        detail["nextAction"]["url"], data={"action": "approve"}, allow_redirects=False, timeout=10
    )
    assert clicked.status_code == 303
    assert "cancelled" not in clicked.headers["Location"]
    driver.drain()
    assert driver.status(payment_id)["status"] == "2"
    shop_page = requests.get(clicked.headers["Location"], timeout=10)
    assert '<b id="state">paid</b>' in shop_page.text


def test_offsite_cancel_returns_the_buyer_to_cancel_url(driver):
    payment_id = driver.checkout(offsite=True)
    driver.drain()
    url = driver.detail(payment_id)["nextAction"]["url"]
    clicked = requests.get(url, params={"action": "cancel"}, allow_redirects=False, timeout=10)
    assert "cancelled=true" in clicked.headers["Location"]
    driver.drain()
    assert driver.status(payment_id)["status"] == "9"
    assert driver.callbacks(payment_id)[0]["requestBody"]["pay"]["reason"] == (
        "Buyer cancelled the payment"
    )


def test_delayed_result_arrives_when_the_clock_reaches_it(driver):
    payment_id = driver.checkout(magic="delayed_result")
    driver.drain()
    assert driver.status(payment_id)["status"] == "1"
    assert driver.psp("payment", paymentId=payment_id).json()["status"] == "PROCESSING"
    driver.advance("29s")
    assert driver.status(payment_id)["status"] == "1"
    driver.advance("2s")
    assert driver.status(payment_id)["status"] == "2"
    assert driver.psp("payment", paymentId=payment_id).json()["status"] == "SUCCESS"


def test_failing_callback_is_retried_with_backoff(driver):
    payment_id = driver.checkout(magic="callback_retried")
    driver.drain()
    assert [c["error"] is not None for c in driver.callbacks(payment_id)] == [True]
    driver.advance("1.5s")  # first retry after 1 s, stretched by up to half (the jitter)
    assert len(driver.callbacks(payment_id)) == 2
    assert driver.status(payment_id)["status"] == "1"
    driver.advance("1.9s")  # the second retry waits 2 s or more: not yet
    assert len(driver.callbacks(payment_id)) == 2
    driver.advance("1.1s")  # and under 3 s
    callbacks = driver.callbacks(payment_id)
    assert [(c["attempt"], c["status"]) for c in callbacks] == [(1, None), (2, None), (3, 200)]
    assert driver.status(payment_id)["status"] == "2"


def test_magic_values_are_listed(frozen_live):
    magic = frozen_live.control("GET", "/magic").json()["magic"]
    names = {m["name"] for m in magic}
    assert {
        "success",
        "generic_decline",
        "three_ds_required",
        "delayed_result",
        "callback_retried",
        "invalid_number",
        "processor_declined",
    } <= names
    delayed = next(m for m in magic if m["name"] == "delayed_result")
    assert delayed["delaySeconds"] == 30 and delayed["match"] == {"card": "4000000000000077"}


def test_unknown_magic_name_is_refused(driver):
    response = driver.sandbox.control(
        "POST", "/checkouts", json={"shop": driver.shop.handle, "magic": "nope"}
    )
    assert response.status_code == 400 and "unknown magic value 'nope'" in response.json()["error"]

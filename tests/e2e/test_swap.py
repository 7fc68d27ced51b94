"""Either side can be the system under test: a developer's own payment app, registered through
the control API, is driven through a payment, a capture and a refund as Genstore would."""

import socket

import requests

from sandbox.testing.live import LiveSandbox
from tests.e2e.independent_app import IndependentApp


def register(driver, app: IndependentApp) -> dict:
    response = driver.sandbox.control(
        "POST",
        "/apps",
        json={
            "shop": driver.shop.handle,
            "name": "my-app",
            "urls": app.urls(),
            "publicKey": app.public_key,
        },
    )
    assert response.status_code == 201, response.text
    registered = response.json()
    app.platform_url, app.token = driver.url, registered["accessToken"]
    ready = requests.put(  # as a real app does once the merchant's account is set up
        f"{driver.url}/api/202412/app/account_authorize",
        json={"pay": {"ready": True}},
        headers={"X-Genstore-Access-Token": registered["accessToken"]},
        timeout=10,
    )
    assert ready.status_code == 200, ready.text
    return registered


def test_a_real_app_is_driven_through_payment_capture_and_refund(driver):
    with IndependentApp() as app:
        register(driver, app)
        payment_id = driver.checkout(
            app="my-app",
            amount="70.00",
            manualCapture=True,
            card="4242424242424242",
            holder="Ada Lovelace",
        )
        driver.drain()
        [received] = app.received
        assert "X-Genstore-Shop-Domain" not in received["headers"]  # not in Genstore's docs
        body = received["body"]
        assert (body["paymentId"], body["amount"], body["currency"]) == (payment_id, "70.00", "USD")
        # Seed 001: manualCapture "true for automatic capture, false for manual capture".
        assert (body["test"], body["manualCapture"]) == ("true", "false")
        assert body["paymentMethod"]["data"]["suit"] == "GENSTORE-V1"
        assert set(body) >= {"customer", "clientDetails", "purchaseInfo"}
        card = app.cards[payment_id]
        assert (card["pan"], card["fullName"]) == ("4242424242424242", "Ada Lovelace")
        assert set(card) == {"pan", "month", "year", "verificationValue", "fullName"}

        assert app.send_callbacks() == [200]
        assert driver.status(payment_id)["status"] == "4"

        assert driver.operation(payment_id, "capture", amount="70.00").status_code == 201
        driver.drain()
        assert app.received[-1]["body"]["amount"] == "70.00"
        assert app.send_callbacks() == [200]
        assert driver.status(payment_id)["status"] == "2"

        refund = driver.operation(payment_id, "refund", amount="30.00").json()
        driver.drain()
        assert app.received[-1]["body"] == {
            "refundId": refund["id"],
            "paymentId": payment_id,
            "amount": "30.00",
            "test": "true",
        }
        assert app.send_callbacks() == [200]
        detail = driver.detail(payment_id)
        assert (detail["state"], detail["refundedAmount"]) == ("partially_refunded", "30.00")
        assert detail["channelPaymentId"] == f"ind-{payment_id}"


def test_app_5xx_answers_are_retried_with_backoff(driver):
    with IndependentApp() as app:
        register(driver, app)
        app.fail_next = 2
        payment_id = driver.checkout(app="my-app")
        driver.drain()
        driver.advance("1.5s")  # a backoff of 1 s, stretched by up to half (the jitter)
        requests_seen = [e for e in driver.timeline(payment_id) if e["type"] == "request"]
        assert [r["status"] for r in requests_seen] == [503, 503]
        driver.advance("3s")
        requests_seen = [e for e in driver.timeline(payment_id) if e["type"] == "request"]
        assert [r["status"] for r in requests_seen] == [503, 503, 200]
        assert len(app.received) == 3
        assert app.send_callbacks() == [200]
        assert driver.status(payment_id)["status"] == "2"


def test_a_restart_resends_what_was_due_and_not_delivered(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on yet
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    key_holder = IndependentApp()  # its key and URL shape; the app itself listens later
    urls = {
        name: url.replace(key_holder.url, f"http://127.0.0.1:{port}")
        for name, url in key_holder.urls().items()
    }
    app_body = {
        "name": "later",
        "urls": urls,
        "publicKey": key_holder.public_key,
        "activated": True,
    }
    key_holder.close()
    with LiveSandbox(data_dir=tmp_path, workers=1) as sandbox:
        sandbox.control("POST", "/clock", json={"frozen": True})
        assert sandbox.control("POST", "/apps", json=app_body).status_code == 201
        checkout = sandbox.control("POST", "/checkouts", json={"app": "later"})
        payment_id = checkout.json()["paymentId"]
        sandbox.control("POST", "/outbox/drain")
        messages = sandbox.control("GET", "/outbox", params={"paymentId": payment_id}).json()
        [message] = messages["messages"]
        assert message["state"] == "pending" and "Connection refused" in message["lastError"]
    app = IndependentApp(port=port, key=key_holder.private_key)
    with app, LiveSandbox(data_dir=tmp_path, workers=1) as sandbox:
        sandbox.control("POST", "/clock", json={"advance": "1.5s"})  # backoff and jitter
        assert [r["body"]["paymentId"] for r in app.received] == [payment_id]
        messages = sandbox.control("GET", "/outbox", params={"paymentId": payment_id}).json()
        by_kind = {m["kind"]: m for m in messages["messages"]}
        assert (by_kind["app.payment"]["state"], by_kind["app.payment"]["attempts"]) == (
            "delivered",
            2,
        )
        # No result yet: the platform will ask the app (Get payment) a while later.
        assert by_kind["app.get_payment"]["state"] == "pending"


def test_an_app_that_does_not_answer_in_time_is_retried(tmp_path):
    env = {"GENSTORE_SANDBOX_OUTBOX_TIMEOUT": "1"}
    with IndependentApp() as app, LiveSandbox(data_dir=tmp_path, workers=1, env=env) as sandbox:
        sandbox.control("POST", "/clock", json={"frozen": True})
        body = {"name": "slow", "urls": app.urls(), "publicKey": app.public_key, "activated": True}
        assert sandbox.control("POST", "/apps", json=body).status_code == 201
        app.hang_next = 1
        payment_id = sandbox.control("POST", "/checkouts", json={"app": "slow"}).json()["paymentId"]
        sandbox.control("POST", "/outbox/drain")  # the first attempt times out after 1 s
        app.release()
        sandbox.control("POST", "/clock", json={"advance": "1.5s"})  # backoff and jitter
        timeline = sandbox.control("GET", f"/payments/{payment_id}/timeline").json()["timeline"]
        attempts = [(e["status"], e["error"]) for e in timeline if e["type"] == "request"]
        assert attempts == [(None, "timed out after 1s"), (200, None)]


def test_registering_an_app_checks_its_key_and_name(driver):
    bad = driver.sandbox.control(
        "POST",
        "/apps",
        json={"shop": driver.shop.handle, "name": "x", "urls": {}, "publicKey": "bm9wZQ=="},
    )
    assert bad.status_code == 400 and "publicKey" in bad.json()["details"]
    with IndependentApp() as app:
        register(driver, app)
        again = driver.sandbox.control(
            "POST", "/apps", json={"shop": driver.shop.handle, "name": "my-app", "urls": {}}
        )
        assert again.status_code == 409

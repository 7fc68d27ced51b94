"""The sandbox never lets a wrong app pass: manualCapture as published, account_authorize,
nothing invented required, every answer checked, and results reconciled with Get payment and
Get refund. Real HTTP, a live server, the sandbox clock frozen."""

from __future__ import annotations

import requests

from sandbox.store.seed import builtin_public_key
from tests.e2e.conftest import Driver
from tests.e2e.independent_app import IndependentApp


def _journal(driver: Driver, **query) -> list[dict]:
    params = {"shop": driver.shop.handle, "limit": 100, **query}
    return driver.sandbox.control("GET", "/journal", params=params).json()["entries"]


def _register(driver: Driver, app: IndependentApp, **extra) -> dict:
    body = {"shop": driver.shop.handle, "name": "my-app", "urls": app.urls()}
    body |= {"publicKey": app.public_key, "activated": True, **extra}
    response = driver.sandbox.control("POST", "/apps", json=body)
    assert response.status_code == 201, response.text
    registered = response.json()
    app.platform_url, app.token = driver.url, registered["accessToken"]
    return registered


def _history(driver: Driver, payment_id: str) -> list[tuple[str, str, str]]:
    entries = driver.sandbox.control(
        "GET", f"/payments/{payment_id}/history", params={"shop": driver.shop.handle}
    ).json()["history"]
    return [(h["kind"], h["event"], h["cause"]) for h in entries]


# ---- manualCapture, as seed 001 publishes it, and the other reading ------------------------


def test_manual_capture_is_sent_as_published_and_the_fake_app_reads_it_so(driver):
    authorize_only = driver.checkout(manualCapture=True)
    automatic = driver.checkout()
    driver.drain()
    sent = {
        e["paymentId"]: e["requestBody"]["manualCapture"]
        for e in _journal(driver, kind="app.payment")
    }
    # Seed 001: "true for automatic capture, false for manual capture".
    assert (sent[authorize_only], sent[automatic]) == ("false", "true")
    assert driver.detail(authorize_only)["state"] == "authorized"
    assert driver.detail(automatic)["state"] == "paid"


def test_an_app_may_read_manual_capture_by_its_name(driver):
    """The setting for teams who learn that the live platform behaves by the field's name: the
    fake app, installed again to read it so, behind an app registered with that reading."""
    domain = f"{driver.shop.handle}.genmystore.com"
    urls = {
        kind: f"{driver.url}/psp/i/{domain}/{path}"
        for kind, path in (
            ("payment", "payments"),
            ("capture", "captures"),
            ("get_payment", "payment"),
        )
    }
    registered = driver.sandbox.control(
        "POST",
        "/apps",
        json={
            "shop": driver.shop.handle,
            "name": "by-name",
            "urls": urls,
            "publicKey": builtin_public_key(),
            "captureFlag": "by_name",
            "activated": True,
        },
    )
    assert registered.status_code == 201, registered.text
    installed = driver.sandbox.control(
        "POST",
        "/psp/installations",
        json={
            "shopDomain": domain,
            "platformUrl": driver.url,
            "accessToken": registered.json()["accessToken"],
            "captureFlag": "by_name",
        },
    )
    assert installed.status_code == 201 and installed.json()["urls"]["payment"] == urls["payment"]
    authorize_only = driver.checkout(app="by-name", manualCapture=True)
    automatic = driver.checkout(app="by-name")
    driver.drain()
    sent = {
        e["paymentId"]: e["requestBody"]["manualCapture"]
        for e in _journal(driver, kind="app.payment")
    }
    assert (sent[authorize_only], sent[automatic]) == ("true", "false")
    assert driver.detail(authorize_only)["state"] == "authorized"
    assert driver.detail(automatic)["state"] == "paid"


# ---- account_authorize ---------------------------------------------------------------------


def test_an_app_that_has_not_reported_ready_is_not_offered(driver):
    with IndependentApp() as app:
        registered = _register(driver, app, activated=False)
        refused = driver.sandbox.control(
            "POST", "/checkouts", json={"shop": driver.shop.handle, "app": "my-app"}
        )
        assert refused.status_code == 409 and "account_authorize" in refused.json()["error"]

        def ready(value: bool) -> None:
            response = requests.put(
                f"{driver.url}/api/202412/app/account_authorize",
                json={"pay": {"ready": value}},
                headers={"X-Genstore-Access-Token": registered["accessToken"]},
                timeout=10,
            )
            assert response.status_code == 200

        ready(True)
        assert driver.checkout(app="my-app")
        ready(False)
        again = driver.sandbox.control(
            "POST", "/checkouts", json={"shop": driver.shop.handle, "app": "my-app"}
        )
        assert again.status_code == 409


# ---- nothing invented is required ----------------------------------------------------------


def test_the_shop_domain_header_is_an_opt_in_extension(frozen_live):
    shop = frozen_live.new_shop(shopDomainHeader=True)
    driver = Driver(frozen_live, shop)
    with IndependentApp() as app:
        _register(driver, app)
        driver.checkout(app="my-app")
        driver.drain()
        [received] = [r for r in app.received if r["call"] == "payment"]
        assert received["headers"]["X-Genstore-Shop-Domain"] == f"{shop.handle}.genmystore.com"


# ---- every answer is checked ---------------------------------------------------------------


def _violations(driver: Driver, **query) -> list[dict]:
    params = {"shop": driver.shop.handle, **query}
    response = driver.sandbox.control("GET", "/violations", params=params)
    assert response.status_code == 200, response.text
    return response.json()["violations"]


def test_an_empty_answer_to_a_card_payment_is_a_recorded_violation(driver):
    with IndependentApp() as app:
        _register(driver, app)
        app.answers["payment"] = {}
        payment_id = driver.checkout(app="my-app")
        driver.drain()
        [violation] = _violations(driver, paymentId=payment_id)
        assert (violation["request"], violation["field"]) == ("app.payment", "error")
        assert "required" in violation["rule"]
        detail = driver.detail(payment_id)
        assert detail["violations"] == [violation] and detail["state"] == "created"
        assert any(e["type"] == "violation" for e in driver.timeline(payment_id))
        [sent] = _journal(driver, paymentId=payment_id, kind="app.payment")
        assert sent["violation"].startswith("error: required")


def test_answers_are_checked_field_by_field(driver):
    with IndependentApp() as app:
        _register(driver, app)
        app.answers["offsite_payment"] = {"error": 5}
        offsite = driver.checkout(app="my-app", offsite=True)
        driver.drain()
        found = {(v["field"], v["rule"]) for v in _violations(driver, paymentId=offsite)}
        assert ("redirectUrl", "required by seed 001") in found
        assert ("error", "must be a string, got int") in found


def test_a_strict_shop_treats_a_non_conforming_answer_as_a_failed_request(frozen_live):
    driver = Driver(frozen_live, frozen_live.new_shop(strict=True))
    with IndependentApp() as app:
        _register(driver, app)
        app.answers["payment"] = {"threeDsUrl": 42}
        payment_id = driver.checkout(app="my-app")
        driver.drain()
        assert driver.detail(payment_id)["state"] == "failed"
        assert ("payment", "fail", "app.payment answer (strict)") in _history(driver, payment_id)
        assert {v["field"] for v in _violations(driver)} == {"threeDsUrl", "error"}
        # The result is final: a late success callback cannot change it.
        app.answers.clear()
        late = requests.put(
            f"{driver.url}/api/202412/app/payment/{payment_id}",
            json={"pay": {"result": "true", "paymentId": payment_id, "channelPaymentId": "c"}},
            headers={"X-Genstore-Access-Token": app.token},
            timeout=10,
        )
        assert late.status_code == 409


# ---- the platform asks the app --------------------------------------------------------------


def test_without_a_callback_the_platform_asks_get_payment_and_applies_it(driver):
    with IndependentApp() as app:
        _register(driver, app)
        payment_id = driver.checkout(app="my-app")
        driver.drain()
        app.callbacks.clear()  # this app never calls back
        app.statuses[payment_id] = "SUCCESS"
        driver.advance("59s")
        assert not [r for r in app.received if r["call"] == "get_payment"]
        driver.advance("1s")
        [query] = [r for r in app.received if r["call"] == "get_payment"]
        assert query["query"] == {"paymentId": payment_id}
        detail = driver.detail(payment_id)
        assert (detail["state"], detail["channelPaymentId"]) == ("paid", f"ind-{payment_id}")
        assert ("payment", "succeed", "Get payment: SUCCESS") in _history(driver, payment_id)
        outbound = _journal(driver, paymentId=payment_id, direction="outbound")
        assert outbound[0]["kind"] == "app.get_payment"  # newest first


def test_processing_means_ask_again_later(driver):
    with IndependentApp() as app:
        _register(driver, app)
        payment_id = driver.checkout(app="my-app", manualCapture=True)
        driver.drain()
        app.callbacks.clear()
        driver.advance("60s")  # PROCESSING: asked again after twice the wait
        assert driver.detail(payment_id)["state"] == "created"
        app.statuses[payment_id] = "AUTH_SUCCESS"
        driver.advance("119s")
        assert len([r for r in app.received if r["call"] == "get_payment"]) == 1
        driver.advance("1s")
        assert len([r for r in app.received if r["call"] == "get_payment"]) == 2
        assert driver.detail(payment_id)["state"] == "authorized"


def test_a_callback_and_a_query_end_in_one_transition(driver):
    with IndependentApp() as app:
        _register(driver, app)
        payment_id = driver.checkout(app="my-app")
        driver.drain()
        app.statuses[payment_id] = "SUCCESS"
        driver.advance("60s")  # the query settles it first
        assert app.send_callbacks() == [200]  # the same result again: accepted, no change
        events = [event for kind, event, _ in _history(driver, payment_id) if kind == "payment"]
        assert events.count("succeed") == 1
        # And once a callback settled a payment, no query goes out at all.
        second = driver.checkout(app="my-app")
        driver.drain()
        assert app.send_callbacks() == [200]
        driver.advance("10m")
        assert not [r for r in app.received if r.get("query") == {"paymentId": second}]


def test_a_query_that_contradicts_the_result_is_a_violation(driver):
    with IndependentApp() as app:
        _register(driver, app)
        app.answers["get_payment"] = {"channelPaymentId": "x", "status": "DONE"}
        payment_id = driver.checkout(app="my-app")
        driver.drain()
        app.callbacks.clear()
        driver.advance("60s")
        [violation] = _violations(driver, paymentId=payment_id)
        assert (violation["request"], violation["field"]) == ("app.get_payment", "status")
        assert driver.detail(payment_id)["state"] == "created"


def test_get_refund_reconciles_a_refund(driver):
    with IndependentApp() as app:
        _register(driver, app)
        payment_id = driver.checkout(app="my-app", amount="40.00")
        driver.drain()
        assert app.send_callbacks() == [200]
        refund = driver.operation(payment_id, "refund", amount="15.00").json()
        driver.drain()
        app.callbacks.clear()  # the refund's callback never comes
        app.statuses[refund["id"]] = "SUCCESS"
        driver.advance("60s")
        [query] = [r for r in app.received if r["call"] == "get_refund"]
        assert query["query"] == {"refundId": refund["id"]}
        detail = driver.detail(payment_id)
        assert (detail["state"], detail["refundedAmount"]) == ("partially_refunded", "15.00")


def test_status_queries_are_fault_targets(driver):
    with IndependentApp() as app:
        _register(driver, app)
        payment_id = driver.checkout(app="my-app")
        driver.drain()
        app.callbacks.clear()
        app.statuses[payment_id] = "FAILURE"
        fault = driver.sandbox.control(
            "POST",
            "/faults",
            json={"shop": driver.shop.handle, "target": "app.get_payment", "kind": "status"},
        )
        assert fault.status_code == 201
        driver.advance("60s")
        assert driver.detail(payment_id)["state"] == "created"  # the 503 is retried
        driver.advance("1.5s")  # the backoff, stretched by up to half (jitter)
        assert driver.detail(payment_id)["state"] == "failed"
        statuses = [e["status"] for e in _journal(driver, kind="app.get_payment")]
        assert sorted(statuses) == [200, 503]


def test_the_fake_app_answers_get_payment_by_query_or_json_body(driver):
    payment_id = driver.checkout()
    driver.drain()
    domain = f"{driver.shop.handle}.genmystore.com"
    url = f"{driver.url}/psp/i/{domain}/payment"
    by_query = requests.get(url, params={"paymentId": payment_id}, timeout=10).json()
    by_body = requests.get(url, json={"paymentId": payment_id}, timeout=10).json()
    assert by_query == by_body and by_query["status"] == "SUCCESS"
    unknown = requests.get(url, params={"paymentId": "PI-nope"}, timeout=10)
    assert unknown.status_code == 200
    assert unknown.json() == {
        "channelPaymentId": "",
        "error": "Not found payment information.",
        "status": "PROCESSING",
    }
    missing = requests.get(url, timeout=10)
    assert missing.status_code == 400 and "paymentId" in missing.json()["details"]

"""Webhooks over real HTTP, with a real receiver that checks every signature."""

import base64
import hashlib
import hmac
import threading

import pytest
import requests
from flask import Flask, request
from werkzeug.serving import make_server


class Receiver:
    """A webhook endpoint as an app writes one: verify the HMAC, then accept."""

    def __init__(self, secret: str):
        self.secret = secret
        self.received: list[dict] = []
        self.answer = 200
        app = Flask("receiver")

        @app.post("/hooks")
        def hooks():
            raw = request.get_data()
            expected = base64.b64encode(
                hmac.new(self.secret.encode(), raw, hashlib.sha256).digest()
            )
            valid = hmac.compare_digest(
                expected.decode(), request.headers["X-Genstore-Hmac-Sha256"]
            )
            self.received.append(
                {
                    "topic": request.headers["X-Genstore-Topic"],
                    "valid": valid,
                    "shop": request.headers["X-Genstore-Shop-Domain"],
                    "body": request.get_json(),
                }
            )
            if self.answer == 302:
                return "", 302, {"Location": "/elsewhere"}
            return ("", self.answer) if valid else ("bad signature", 401)

        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hooks"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def topics(self) -> list[str]:
        return [r["topic"] for r in self.received]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver(driver):
    secret = driver.shop.apps[0]["clientSecret"]
    hooks = Receiver(secret)
    yield hooks
    hooks.close()


def api(driver, method, path="", **kwargs):
    return requests.request(
        method,
        f"{driver.url}/api/202412/app/webhooks{path}",
        headers=driver.shop.headers("write_apps"),
        timeout=10,
        **kwargs,
    )


def subscribe(driver, address, topic):
    response = api(driver, "POST", json={"webhook": {"address": address, "topic": topic}})
    assert response.status_code == 201, response.text
    return response.json()["webhook"]


def test_events_are_delivered_signed_for_every_topic(driver, receiver):
    for topic in (
        "orders/create",
        "orders/paid",
        "payments/create",
        "payments/update",
        "refunds/create",
        "refunds/update",
    ):
        subscribe(driver, receiver.url, topic)
    payment_id = driver.checkout(amount="30.00")
    driver.drain()
    driver.operation(payment_id, "refund", amount="10.00")
    driver.drain()
    assert sorted(receiver.topics()) == sorted(
        [
            "orders/create",
            "payments/create",
            "payments/update",
            "orders/paid",
            "refunds/create",
            "payments/update",
            "refunds/update",
        ]
    )
    assert all(r["valid"] for r in receiver.received)
    assert {r["shop"] for r in receiver.received} == {f"{driver.shop.handle}.genmystore.com"}
    paid = next(r["body"] for r in receiver.received if r["topic"] == "orders/paid")
    assert paid["order"]["paymentId"] == payment_id and paid["order"]["financialStatus"] == "paid"
    update = [r["body"] for r in receiver.received if r["topic"] == "payments/update"]
    assert [u["payment"]["status"] for u in update] == ["2", "2"]
    refund = next(r["body"] for r in receiver.received if r["topic"] == "refunds/update")
    assert refund["refund"]["status"] == "SUCCESS" and refund["refund"]["amount"] == "10.00"


def test_subscriptions_crud_count_and_errors(driver, receiver):
    hook = subscribe(driver, receiver.url, "payments/update")
    assert set(hook) == {"id", "address", "topic", "createTime", "updateTime"}
    assert api(driver, "GET", "/count").json() == {"count": 1}
    assert api(driver, "GET", f"/{hook['id']}").json()["webhook"]["topic"] == "payments/update"
    changed = api(driver, "PUT", f"/{hook['id']}", json={"webhook": {"topic": "orders/paid"}})
    assert changed.json()["webhook"]["topic"] == "orders/paid"
    duplicate = api(
        driver, "POST", json={"webhook": {"address": receiver.url, "topic": "orders/paid"}}
    )
    assert duplicate.status_code == 409
    bad = api(driver, "POST", json={"webhook": {"address": "ftp://x", "topic": "nope/never"}})
    assert bad.status_code == 400
    unknown = api(
        driver, "POST", json={"webhook": {"address": receiver.url, "topic": "nope/never"}}
    )
    assert "unknown topic" in unknown.json()["error"]
    assert api(driver, "DELETE", f"/{hook['id']}").json() == {}
    assert api(driver, "GET", f"/{hook['id']}").status_code == 404
    merchant = requests.get(
        f"{driver.url}/api/202412/app/webhooks",
        headers=driver.shop.headers("read_payments_transaction"),
        timeout=10,
    )
    assert merchant.status_code == 403


def test_pagination_with_link_headers_and_since_id(driver, receiver):
    ids = [subscribe(driver, f"{receiver.url}?n={n}", "payments/update")["id"] for n in range(5)]
    first = api(driver, "GET", params={"limit": 2})
    assert [w["id"] for w in first.json()["webhooks"]] == ids[:2]
    assert 'rel="next"' in first.headers["Link"] and 'rel="previous"' not in first.headers["Link"]
    next_url = first.links["next"]["url"]
    second = requests.get(next_url, headers=driver.shop.headers("write_apps"), timeout=10)
    assert [w["id"] for w in second.json()["webhooks"]] == ids[2:4]
    assert {"next", "previous"} <= set(second.links)
    back = requests.get(
        second.links["previous"]["url"], headers=driver.shop.headers("write_apps"), timeout=10
    )
    assert [w["id"] for w in back.json()["webhooks"]] == ids[:2]
    last = requests.get(
        second.links["next"]["url"], headers=driver.shop.headers("write_apps"), timeout=10
    )
    assert [w["id"] for w in last.json()["webhooks"]] == ids[4:]
    assert "next" not in last.links
    since = api(driver, "GET", params={"sinceId": ids[2]})
    assert [w["id"] for w in since.json()["webhooks"]] == ids[3:]
    assert api(driver, "GET", params={"pageToken": "garbage!"}).status_code == 400


@pytest.mark.parametrize("answer", [500, 302])
def test_failures_are_retried_and_eight_in_a_row_stop_the_subscription(driver, receiver, answer):
    receiver.answer = answer
    hook = subscribe(driver, receiver.url, "payments/update")
    payment_id = driver.checkout()
    driver.drain()
    for seconds in (1, 2, 4, 8, 16, 32, 64):  # the backoff after each failed attempt
        driver.advance(f"{seconds * 1.5:g}s")  # stretched by up to half (the jitter)
    assert len(receiver.received) == 8
    deliveries = driver.sandbox.control("GET", "/deliveries", params={"shop": driver.shop.handle})
    [delivery] = deliveries.json()["deliveries"]
    assert (delivery["state"], delivery["attempts"], delivery["webhookId"]) == (
        "failed",
        8,
        hook["id"],
    )
    # the subscription no longer receives
    driver.operation(payment_id, "refund")
    driver.drain()
    assert len(receiver.received) == 8
    # a redelivery, once the receiver is fixed, goes out with the same signed body
    receiver.answer = 200
    again = driver.sandbox.control("POST", f"/deliveries/{delivery['id']}/redeliver").json()
    assert again["id"] != delivery["id"]
    driver.drain()
    assert len(receiver.received) == 9 and receiver.received[-1]["valid"]
    assert receiver.received[-1]["body"] == delivery["body"]
    # updating the subscription brings it back
    api(driver, "PUT", f"/{hook['id']}", json={"webhook": {"address": receiver.url}})
    before = len(receiver.received)
    driver.checkout()
    driver.drain()
    assert len(receiver.received) == before + 1
    assert receiver.topics()[-1] == "payments/update"


def test_topics_are_listed(frozen_live):
    topics = frozen_live.control("GET", "/webhooks/topics").json()["topics"]
    assert set(topics) == {
        "orders/create",
        "orders/paid",
        "payments/create",
        "payments/update",
        "refunds/create",
        "refunds/update",
    }

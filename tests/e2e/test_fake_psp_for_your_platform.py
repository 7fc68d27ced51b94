"""The other swap: a developer's own platform drives the fake payment app and receives its
signed-by-token callbacks."""

import threading

import requests
from flask import Flask, request
from werkzeug.serving import make_server

from sandbox.core import crypto
from tests.conftest import FIXTURES

PUBLIC_KEY = (FIXTURES / "keys" / "sandbox-psp.public.b64").read_text().strip()


class YourPlatform:
    """Stands in for the developer's platform: records the PUT callbacks it receives."""

    def __init__(self):
        self.received = []
        app = Flask("your-platform")

        @app.put("/api/202412/app/<kind>/<object_id>")
        def callback(kind, object_id):
            self.received.append(
                {
                    "kind": kind,
                    "id": object_id,
                    "token": request.headers.get("X-Genstore-Access-Token"),
                    "body": request.get_json(),
                }
            )
            return {}

        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self):
        self._server.shutdown()
        self._server.server_close()


def test_the_fake_app_calls_back_your_platform(frozen_live):
    platform = YourPlatform()
    try:
        installed = frozen_live.control(
            "POST",
            "/psp/installations",
            json={
                "shopDomain": "mine.example",
                "platformUrl": platform.url,
                "accessToken": "tok-123",
            },
        )
        assert installed.status_code == 201
        card = {
            "pan": "4000000000000002",
            "month": 1,
            "year": 2099,
            "verificationValue": "1",
            "fullName": "Me",
        }
        body = {
            "paymentId": "MY-1",
            "amount": "12.00",
            "currency": "EUR",
            "test": True,
            "manualCapture": True,  # seed 001: true for automatic capture
            "customer": {},
            "clientDetails": {},
            "paymentMethod": {"data": crypto.encrypt_card(card, PUBLIC_KEY)},
        }
        assert installed.json()["urls"]["payment"] == (
            f"{frozen_live.url}/psp/i/mine.example/payments"
        )
        answer = requests.post(installed.json()["urls"]["payment"], json=body, timeout=10)
        assert answer.json() == {"error": "Your card was declined"}
        frozen_live.control("POST", "/outbox/drain")
        [received] = platform.received
        assert (received["kind"], received["id"], received["token"]) == (
            "payment",
            "MY-1",
            "tok-123",
        )
        assert received["body"]["pay"]["result"] == "false"
        assert received["body"]["pay"]["reason"] == "Your card was declined"
        assert received["body"]["pay"]["channelPaymentId"].startswith("psp_pay_")
    finally:
        platform.close()


def test_installation_needs_an_http_url(frozen_live):
    response = frozen_live.control(
        "POST",
        "/psp/installations",
        json={"shopDomain": "x", "platformUrl": "ftp://x", "accessToken": "t"},
    )
    assert response.status_code == 400 and "platformUrl" in response.json()["details"]

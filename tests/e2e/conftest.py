"""Shops with a frozen clock of their own on the session's one live sandbox, for tests that
move time themselves."""

from __future__ import annotations

import pytest
import requests

from sandbox.testing.live import LiveSandbox, ShopCredentials


@pytest.fixture(scope="session")
def frozen_live(live):
    """The session's live sandbox: tests that move time do it on their own shop's clock
    (``Driver``), so they share the one server."""
    return live


@pytest.fixture
def driver(frozen_live):
    """A fresh shop with its own frozen clock, with helpers to drive payments through it."""
    return Driver(frozen_live, frozen_live.new_shop())


class Driver:
    def __init__(self, sandbox: LiveSandbox, shop: ShopCredentials):
        self.sandbox = sandbox
        self.shop = shop
        self.url = sandbox.url
        frozen = sandbox.control("POST", "/clock", json={"shop": shop.handle, "frozen": True})
        assert frozen.ok, frozen.text

    def now(self) -> str:
        """The shop's clock."""
        return self.sandbox.control("GET", "/clock", params={"shop": self.shop.handle}).json()[
            "now"
        ]

    def checkout(self, **body) -> str:
        response = self.sandbox.control(
            "POST", "/checkouts", json={"shop": self.shop.handle, **body}
        )
        assert response.status_code == 201, response.text
        return response.json()["paymentId"]

    def operation(self, payment_id: str, kind: str, **body) -> requests.Response:
        return self.sandbox.control(
            "POST", f"/payments/{payment_id}/{kind}s", json={"shop": self.shop.handle, **body}
        )

    def drain(self) -> dict:
        return self.sandbox.control("POST", "/outbox/drain").json()

    def advance(self, by) -> dict:
        response = self.sandbox.control(
            "POST", "/clock", json={"shop": self.shop.handle, "advance": by}
        )
        assert response.ok, response.text
        return response.json()

    def detail(self, payment_id: str) -> dict:
        response = self.sandbox.control(
            "GET", f"/payments/{payment_id}", params={"shop": self.shop.handle}
        )
        assert response.ok, response.text
        return response.json()

    def timeline(self, payment_id: str) -> list[dict]:
        response = self.sandbox.control(
            "GET", f"/payments/{payment_id}/timeline", params={"shop": self.shop.handle}
        )
        return response.json()["timeline"]

    def status(self, payment_id: str) -> dict:
        response = requests.get(
            f"{self.url}/api/202412/payment/{payment_id}",
            headers=self.shop.headers("read_payments_transaction"),
            timeout=10,
        )
        assert response.ok, response.text
        return response.json()["payment"]

    def psp(self, path: str, **params) -> requests.Response:
        domain = f"{self.shop.handle}.genmystore.com"
        return requests.get(f"{self.url}/psp/i/{domain}/{path}", params=params, timeout=10)

    def callbacks(self, payment_id: str) -> list[dict]:
        return [e for e in self.timeline(payment_id) if e["type"] == "callback"]

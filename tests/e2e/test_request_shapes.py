"""The shapes of the platform's payment requests (minimal, full, varied) and the JSON-body form
of status queries reach an app, and the built-in fake app takes every one."""

from __future__ import annotations

import pytest

from sandbox.core.ids import Ids
from sandbox.core.shapes import MAX_NAME, SENT_SHAPES
from sandbox.testing.shop import SandboxShop
from tests.conftest import FIXTURES

pytestmark = pytest.mark.e2e


def _sent(shop: SandboxShop, payment_id: str) -> dict:
    """The body of the platform's payment request, as the journal kept it."""
    entries = [e for e in shop.journal(paymentId=payment_id, direction="outbound")
               if e["kind"] in ("app.payment", "app.offsite_payment")]  # fmt: skip
    assert entries, f"no request sent for {payment_id}"
    return entries[-1]["requestBody"]


@pytest.fixture
def frozen_shop(live):
    def make(**body) -> SandboxShop:
        return SandboxShop(live, live.new_shop(**body))

    return make


def test_the_minimal_shape_sends_only_what_seed_001_requires(frozen_shop):
    shop = frozen_shop(requestShape="minimal")
    card = shop.checkout(amount="10.00")
    offsite = shop.checkout(amount="10.00", offsite=True)
    assert shop.wait_for(card, "paid")
    body = _sent(shop, card)
    assert set(body) == {"paymentId", "amount", "currency", "test", "manualCapture",
                         "customer", "paymentMethod", "clientDetails"}  # fmt: skip
    assert body["customer"] == {"email": "xxx@gmail.com"}
    assert set(body["clientDetails"]) == {"ipAddress"}
    offsite_body = _sent(shop, offsite)
    assert offsite_body["purchaseInfo"] == {"itemTotal": "10.00"}
    assert "clientDetails" not in offsite_body
    assert shop.payment(card)["violations"] == []


def test_the_full_shape_fills_every_optional_field(frozen_shop):
    shop = frozen_shop(requestShape="full")
    payment_id = shop.checkout(amount="999999.99")
    assert shop.wait_for(payment_id, "paid")["capturedAmount"] == "999999.99"
    body = _sent(shop, payment_id)
    items = body["purchaseInfo"]["items"]
    assert len(items) == 3 and max(len(item["name"]) for item in items) == MAX_NAME
    assert body["customer"]["shippingAddress"]["givenName"] == "Zoë"
    assert {"line2", "company"} <= set(body["customer"]["billingAddress"])
    assert set(body["clientDetails"]) == {"acceptLanguage", "ipAddress", "userAgent"}
    jpy = shop.checkout(amount="1000", currency="JPY")
    assert shop.wait_for(jpy, "paid")
    assert _sent(shop, jpy)["purchaseInfo"]["itemTotal"] == "1000"


def test_a_checkout_picks_its_shape_and_varied_varies(frozen_shop):
    shop = frozen_shop(requestShape="varied")
    seen = set()
    for _ in range(12):
        made = shop.sandbox.control(
            "POST", "/checkouts", json={"shop": shop.handle, "amount": "5.00"}
        ).json()
        seen.add(made["requestShape"])
        shop.wait_for(made["paymentId"], "paid")
    assert seen <= set(SENT_SHAPES) and len(seen) > 1
    full = shop.sandbox.control(
        "POST", "/checkouts", json={"shop": shop.handle, "requestShape": "full"}
    )
    assert full.json()["requestShape"] == "full"
    wrong = shop.sandbox.control(
        "POST", "/checkouts", json={"shop": shop.handle, "requestShape": "huge"}
    )
    assert wrong.status_code == 400 and "requestShape" in wrong.json()["details"]


def test_varied_is_repeatable_with_a_seed():
    first, second = Ids(7), Ids(7)
    assert [first.pick(SENT_SHAPES) for _ in range(20)] == [
        second.pick(SENT_SHAPES) for _ in range(20)
    ]


def test_status_queries_in_the_json_body_form(live, frozen_shop):
    """An app registered with statusQuery: body is asked Get payment with the id in a JSON
    body (seed 001's example); the fake app answers it, and the coverage shows the form."""
    shop = frozen_shop()
    described = live.control("GET", f"/shops/{shop.handle}").json()
    urls = described["apps"][0]["urls"]
    key = (FIXTURES / "keys" / "sandbox-psp.public.b64").read_text().strip()
    registered = live.control(
        "POST",
        "/apps",
        json={
            "shop": shop.handle,
            "name": "psp-body",
            "urls": urls,
            "publicKey": key,
            "statusQuery": "body",
            "activated": True,
        },
    )
    assert registered.status_code == 201, registered.text
    payment_id = shop.checkout(app="psp-body", card="4000000000000077")  # its result: 30 s on
    shop.drain()
    shop.advance("61s")  # past query_after: the platform asks the app
    asked = shop.journal(paymentId=payment_id, kind="app.get_payment")
    assert asked and asked[0]["requestBody"] == {"paymentId": payment_id}
    assert "?" not in asked[0]["url"] and asked[0]["status"] == 200
    assert asked[0]["responseBody"]["status"] in ("PROCESSING", "SUCCESS")
    coverage = live.control("GET", "/coverage", params={"shop": shop.handle}).json()
    items = {item["id"]: item for item in coverage["items"]}
    assert items["request.get_payment.body"]["passed"] >= 1
    assert items["request.get_payment.query"]["exercised"] == 0


def test_a_cancelled_status_query_is_listed_as_its_document_says(live, frozen_shop):
    """A status query a result made needless is cancelled; the control document's outbox
    state enum has that state (issue 20.2)."""
    import yaml

    from tests.conftest import ROOT

    shop = frozen_shop()
    payment_id = shop.checkout(card="4000000000000077")  # its result: 30 s on
    shop.drain()  # answered: a Get payment is scheduled for 60 s on
    shop.advance("30s")  # the result comes first: the query is cancelled
    shop.wait_for(payment_id, "paid")
    listed = live.control("GET", "/outbox", params={"shop": shop.handle, "paymentId": payment_id})
    states = {(m["kind"], m["state"]) for m in listed.json()["messages"]}
    assert ("app.get_payment", "cancelled") in states
    document = yaml.safe_load((ROOT / "openapi" / "control.yaml").read_text(encoding="utf-8"))
    enum = document["components"]["schemas"]["OutboxMessage"]["properties"]["state"]["enum"]
    assert {state for _, state in states} <= set(enum)

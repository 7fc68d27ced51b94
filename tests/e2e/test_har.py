"""The journal as an HTTP Archive (HAR 1.2), read back with an independent reader
(haralyzer): over HTTP and through the CLI, with the journal's filters, card data masked."""

from __future__ import annotations

import json

import pytest
from haralyzer import HarEntry, HarParser

from sandbox.testing.shop import SandboxShop
from tests.e2e.test_cli import run

pytestmark = pytest.mark.e2e


def test_a_payment_as_har_read_by_an_independent_reader(live, tmp_path):
    shop = SandboxShop(live, live.new_shop())
    payment_id = shop.checkout(amount="12.50", card="4242424242424242", manualCapture=True)
    shop.wait_for(payment_id, "authorized")
    capture = shop.capture(payment_id, "12.50")
    shop.wait_for(payment_id, "paid")
    assert capture

    served = live.control(
        "GET", "/journal", params={"shop": shop.handle, "paymentId": payment_id, "format": "har"}
    )
    assert served.status_code == 200, served.text
    parser = HarParser(served.json())
    assert parser.version == "1.2" and parser.creator["name"] == "genstore-sandbox"
    entries = [HarEntry(raw) for raw in parser.har_data["entries"]]
    started = [entry.startTime for entry in entries]
    assert started == sorted(started)  # oldest first
    by_kind = {raw["_kind"]: HarEntry(raw) for raw in parser.har_data["entries"]}
    request = by_kind["app.payment"]
    assert request.request.method == "POST" and request.response.status == 200
    body = json.loads(request.request.text)
    assert body["paymentId"] == payment_id and "cipherText" in body["paymentMethod"]["data"]
    callback = next(e for kind, e in by_kind.items() if kind.startswith("PUT /api/202412/app/"))
    assert callback.response.status == 200 and callback.response.text == "{}"
    assert "app.capture" in by_kind
    assert "4242424242424242" not in served.text  # card data stays masked

    path = tmp_path / "payment.har"
    wrote = run(
        "journal", "--url", live.url, "--shop", shop.handle, "--payment", payment_id,
        "--direction", "outbound", "--har", str(path),
    )  # fmt: skip
    assert wrote.returncode == 0, wrote.stderr
    assert "HAR 1.2" in wrote.stdout
    from_file = HarParser.from_file(str(path))
    directions = {raw["_direction"] for raw in from_file.har_data["entries"]}
    assert directions == {"outbound"} and len(from_file.har_data["entries"]) >= 2
    wrong = live.control("GET", "/journal", params={"format": "xml"})
    assert wrong.status_code == 400 and "format" in wrong.json()["details"]

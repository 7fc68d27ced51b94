"""After every operation the three views of a payment follow one rule (docs/state-machines.md):

- app status: the payment machine's ``app_status`` view, and the fake app's own Get payment;
- transaction (seed 002): the state's code; ``amount`` what was captured (the authorized amount
  while nothing is), ``fee`` the shop's rule on what was captured, ``net`` captured minus fee;
- legacy payment (seed 003): pending / paid / expired; ``exipired_at`` creation plus two days,
  never in the future next to ``expired``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import requests

from tests.e2e.conftest import Driver

FEE_PERCENT, FEE_FIXED = Decimal("2.9"), Decimal("0.30")  # the demo shop's "standard" rule


def _fee(captured: Decimal) -> Decimal:
    if captured <= 0:
        return Decimal("0.00")
    return (captured * FEE_PERCENT / 100 + FEE_FIXED).quantize(Decimal("0.01"))


def _views(driver: Driver, payment_id: str) -> tuple[str, str | None, dict, dict]:
    domain = f"{driver.shop.handle}.genmystore.com"
    app = requests.get(
        f"{driver.url}/psp/i/{domain}/payment", params={"paymentId": payment_id}, timeout=10
    ).json()
    transaction = driver.status(payment_id)
    detail = driver.detail(payment_id)
    legacy = requests.get(
        f"{driver.url}/orders/{detail['orderId']}/payments",
        headers=driver.shop.headers("read_orders"),
        timeout=10,
    ).json()["payments"][0]
    return detail["state"], app.get("status"), transaction, legacy


def _check(driver, payment_id, state, app_status, code, legacy_status, captured, authorized):
    now = datetime.fromisoformat(driver.now())
    seen_state, fake_app, transaction, legacy = _views(driver, payment_id)
    assert seen_state == state
    if app_status is not None:
        assert fake_app == app_status
    assert transaction["status"] == code
    fee = _fee(captured)
    gross = captured if captured > 0 else authorized
    net = captured - fee if captured > 0 else Decimal("0.00")
    assert (Decimal(transaction["amount"]), Decimal(transaction["fee"])) == (gross, fee)
    assert Decimal(transaction["net"]) == net
    assert legacy["status"] == legacy_status
    expiry = datetime.fromisoformat(legacy["exipired_at"])
    if legacy_status == "expired":
        assert expiry <= now
    created = datetime.fromisoformat(legacy["created_at"])
    assert (expiry - created).total_seconds() <= 2 * 86400


def test_every_operation_keeps_the_three_views_in_step(driver):
    d = Decimal
    # Automatic capture, then a partial and a full refund.
    paid = driver.checkout(amount="100.00")
    driver.drain()
    _check(driver, paid, "paid", "SUCCESS", "2", "paid", d("100.00"), d("100.00"))
    assert driver.operation(paid, "refund", amount="30.00").status_code == 201
    driver.drain()
    _check(driver, paid, "partially_refunded", "SUCCESS", "2", "paid", d("100.00"), d("100.00"))
    assert driver.operation(paid, "refund").status_code == 201
    driver.drain()
    _check(driver, paid, "refunded", "SUCCESS", "2", "paid", d("100.00"), d("100.00"))

    # Authorize, then capture part of it.
    partial = driver.checkout(amount="80.00", manualCapture=True)
    driver.drain()
    _check(driver, partial, "authorized", "AUTH_SUCCESS", "4", "pending", d(0), d("80.00"))
    assert driver.operation(partial, "capture", amount="50.00").status_code == 201
    driver.drain()
    _check(driver, partial, "paid", "SUCCESS", "2", "paid", d("50.00"), d("80.00"))

    # Authorize, then capture it all.
    full = driver.checkout(amount="20.00", manualCapture=True)
    driver.drain()
    assert driver.operation(full, "capture").status_code == 201
    driver.drain()
    _check(driver, full, "paid", "SUCCESS", "2", "paid", d("20.00"), d("20.00"))

    # Authorize, then void.
    voided = driver.checkout(amount="15.00", manualCapture=True)
    driver.drain()
    assert driver.operation(voided, "void").status_code == 201
    driver.drain()
    _check(driver, voided, "voided", "FAILURE", "3", "expired", d(0), d("15.00"))

    # A decline.
    failed = driver.checkout(amount="12.00", card="4000000000000002")
    driver.drain()
    _check(driver, failed, "failed", "FAILURE", "9", "expired", d(0), d("12.00"))

    # No result ever (3-D Secure never passed): the payment expires after two days.
    stuck = driver.checkout(amount="9.00", card="4000002760003184")
    driver.drain()
    _check(driver, stuck, "created", "PROCESSING", "1", "pending", d(0), d("9.00"))
    driver.advance("2d")
    _check(driver, stuck, "expired", None, "9", "expired", d(0), d("9.00"))

"""Concurrency across the live server's worker processes (issue 10.15): fifty requests at
once on one payment, through two gunicorn workers sharing the store. Captures and refunds
never take more than the payment has; of fifty first results, exactly one wins."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from sandbox.testing.live import LiveSandbox
from tests.e2e.conftest import Driver
from tests.helpers import at_once, result_body

AT_ONCE = 50


@pytest.fixture
def unlimited(frozen_live):
    """A shop without a rate limit: fifty calls at once must reach the platform."""
    return Driver(frozen_live, frozen_live.new_shop(rateLimit={"enabled": False}))


def test_fifty_concurrent_captures_take_one_capture_within_the_authorization(unlimited):
    payment_id = unlimited.checkout(amount="100.00", manualCapture=True)
    unlimited.drain()
    assert unlimited.detail(payment_id)["state"] == "authorized"
    answers = at_once(
        lambda amount: unlimited.operation(payment_id, "capture", amount=amount).status_code,
        [f"{n % 7 + 10}.00" for n in range(AT_ONCE)],
    )
    assert answers.count(201) == 1 and set(answers) == {201, 409}, answers
    unlimited.drain()
    detail = unlimited.detail(payment_id)
    captures = [op for op in detail["operations"] if op["kind"] == "capture"]
    assert len(captures) == 1
    assert Decimal(detail["capturedAmount"]) == Decimal(captures[0]["amount"]) <= Decimal("100")


def test_fifty_concurrent_refunds_never_exceed_what_was_captured(unlimited):
    payment_id = unlimited.checkout(amount="100.00")
    unlimited.drain()
    assert unlimited.detail(payment_id)["state"] == "paid"
    answers = at_once(
        lambda _: unlimited.operation(payment_id, "refund", amount="7.00").status_code,
        range(AT_ONCE),
    )
    # 14 x 7 fit in 100; the rest are refused (400: more than is left to refund)
    assert answers.count(201) == 14 and set(answers) == {201, 400}, answers
    unlimited.drain()
    detail = unlimited.detail(payment_id)
    refunds = [op for op in detail["operations"] if op["kind"] == "refund"]
    assert len(refunds) == 14
    assert Decimal(detail["refundedAmount"]) == Decimal("98.00")
    assert detail["state"] == "partially_refunded"


def test_of_fifty_concurrent_first_results_exactly_one_wins(unlimited):
    payment_id = unlimited.checkout(magic="delayed_result")  # the app's own result waits 30 s
    unlimited.drain()
    url = f"{unlimited.url}/api/202412/app/payment/{payment_id}"
    headers = unlimited.shop.headers("write_payment")

    def report(result: bool) -> tuple[bool, int]:
        body = result_body("payment", payment_id, result="true" if result else "false")
        return result, requests.put(url, json=body, headers=headers, timeout=30).status_code

    answers = at_once(report, [n % 2 == 0 for n in range(AT_ONCE)])
    winners = {result for result, status in answers if status == 200}
    assert len(winners) == 1, answers  # one result was taken; every same one is 200 again
    [winner] = winners
    assert all(status == 409 for result, status in answers if result != winner), answers
    assert unlimited.status(payment_id)["status"] == ("2" if winner else "9")
    settled = [
        e for e in unlimited.timeline(payment_id) if e["type"] == "state" and e["from"] == "created"
    ]
    assert len(settled) == 1  # one transition out of created, not one per request


def test_concurrent_checkouts_in_one_second_get_distinct_ids(tmp_path):
    """Two workers started with the same --seed draw the same random digits, and the clock is
    frozen on one second: every checkout still gets an id of its own (not a 500)."""
    with LiveSandbox(data_dir=tmp_path, extra_args=("--seed", "7", "--rate-limit", "off")) as sb:
        sb.control("POST", "/clock", json={"frozen": True})

        def checkout(_):
            response = sb.http.post(sb.url + "/_sandbox/checkouts", json={}, timeout=30)
            return response.status_code, response.json().get("paymentId")

        answers = at_once(checkout, range(AT_ONCE))
    assert {status for status, _ in answers} == {201}, answers
    assert len({payment_id for _, payment_id in answers}) == AT_ONCE

"""Results are never lost to the rate limit (issue 10.5): the fake app's result callbacks
count against the shop's bucket like any app's calls; refused with 429, they come back no
sooner than the answer's Retry-After, spread by jitter, and never give up while the payment
can still take them. A burst of checkouts in a rate-limited shop settles every payment by its
own callback once enough sandbox time has passed."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest

from tests.e2e.conftest import Driver

pytestmark = pytest.mark.proof


@pytest.fixture
def limited(frozen_live):
    # A small bucket: more rounds of refusals than the 8 attempts other messages get.
    shop = frozen_live.new_shop(rateLimit={"size": 10, "perSecond": 2})
    return Driver(frozen_live, shop)


def _results(driver: Driver, state: str | None = None, limit: int = 1000) -> list[dict]:
    params = {"shop": driver.shop.handle, "kind": "psp.payment_result", "limit": limit}
    if state is not None:
        params["state"] = state
    response = driver.sandbox.control("GET", "/outbox", params=params)
    assert response.ok, response.text
    return response.json()["messages"]


def test_a_burst_of_checkouts_in_a_rate_limited_shop_all_settle(limited, proof):
    count = 500 if proof else 150
    with ThreadPoolExecutor(8) as pool:
        payment_ids = list(pool.map(lambda _: limited.checkout(), range(count)))
    limited.drain()
    first = _results(limited)
    assert len(first) == count
    assert sum(m["state"] == "delivered" for m in first) == 10  # the bucket's size, no more

    # 2 a second refill the bucket: 5 s of sandbox time fill it again.
    for _ in range(1000):
        if not _results(limited, "pending", limit=1):
            break
        limited.advance("5s")
    results = _results(limited)
    assert {m["state"] for m in results} == {"delivered"}, "a result was abandoned"
    assert all(m["maxAttempts"] is None for m in results)  # results never give up

    states = {limited.detail(payment_id)["state"] for payment_id in payment_ids}
    assert states == {"paid"}
    # Every payment settled by its own callback: each has a delivered one.
    assert {m["paymentId"] for m in results} == set(payment_ids)


def test_a_refused_result_waits_for_retry_after(limited):
    """No retry of a 429 goes out before the Retry-After it was given, and the retries of
    results refused together do not come back together."""
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: limited.checkout(), range(60)))
    limited.drain()
    for _ in range(10):
        limited.advance("1s")
    entries = limited.sandbox.control(
        "GET",
        "/journal",
        params={"shop": limited.shop.handle, "kind": "psp.payment_result", "limit": 500},
    ).json()["entries"]
    by_message: dict[int, list[dict]] = {}
    for entry in sorted(entries, key=lambda e: e["seq"]):
        by_message.setdefault(entry["messageId"], []).append(entry)
    refused = [attempts for attempts in by_message.values() if attempts[0]["status"] == 429]
    assert len(refused) == 50
    retried_at = set()
    for attempts in refused:
        for before, after in itertools.pairwise(attempts):
            if before["status"] != 429:
                continue
            waited = _at(after) - _at(before)
            assert waited >= int(before["responseHeaders"]["Retry-After"])
            retried_at.add(after["at"])
    assert len(retried_at) > 1  # not all in lockstep


def _at(entry: dict) -> float:
    return datetime.fromisoformat(entry["at"]).timestamp()

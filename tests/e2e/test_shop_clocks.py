"""A clock per shop: two shops on one server move through time independently; expiry, the
outbox's schedule and rate-limit buckets read the shop's clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import requests

from tests.e2e.conftest import Driver


def _clock(driver: Driver, **change) -> dict:
    response = driver.sandbox.control("POST", "/clock", json={"shop": driver.shop.handle, **change})
    assert response.status_code == 200, response.text
    return response.json()


def _transaction_status(driver: Driver, payment_id: str) -> str:
    return driver.status(payment_id)["status"]


def test_two_shops_move_through_time_independently(frozen_live):
    one = Driver(frozen_live, frozen_live.new_shop())
    other = Driver(frozen_live, frozen_live.new_shop())
    before = other.now()
    moved = _clock(one, advance="3d")
    assert moved["own"] and moved["shop"] == one.shop.handle and moved["now"] > before
    assert other.now() == before
    assert frozen_live.control("GET", "/clock").json()["now"] < moved["now"]  # the global
    # A fixture payment waiting for its result expires after two days, in one shop only.
    waiting = "PI0020261101000000002"
    assert _transaction_status(one, waiting) == "9"
    assert _transaction_status(other, waiting) == "1"


def test_the_outbox_schedule_follows_each_shops_clock(frozen_live):
    one = Driver(frozen_live, frozen_live.new_shop())
    other = Driver(frozen_live, frozen_live.new_shop())
    late_one = one.checkout(card="4000000000000077")  # its result comes 30 s later
    late_other = other.checkout(card="4000000000000077")
    one.drain()
    _clock(one, advance="30s")
    assert one.detail(late_one)["state"] == "paid"
    assert other.detail(late_other)["state"] == "created"
    _clock(other, advance="30s")
    assert other.detail(late_other)["state"] == "paid"


def test_rate_limit_buckets_refill_on_the_shops_clock(frozen_live):
    one = Driver(frozen_live, frozen_live.new_shop(rateLimit={"size": 2, "perSecond": 1}))
    url = f"{frozen_live.url}/api/202412/payment/PI0020261101000000001"
    headers = one.shop.headers("read_payments_transaction")
    codes = [requests.get(url, headers=headers, timeout=10).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    other = Driver(frozen_live, frozen_live.new_shop())
    _clock(other, advance="10s")  # another shop's time passes
    assert requests.get(url, headers=headers, timeout=10).status_code == 429
    _clock(one, advance="1s")
    assert requests.get(url, headers=headers, timeout=10).status_code == 200


def test_a_shop_can_follow_the_global_clock_again(frozen_live):
    one = Driver(frozen_live, frozen_live.new_shop())
    _clock(one, advance="1h")
    back = _clock(one, own=False)
    assert back["own"] is False
    global_now = datetime.fromisoformat(frozen_live.control("GET", "/clock").json()["now"])
    assert abs(datetime.fromisoformat(back["now"]) - global_now) < timedelta(minutes=1)
    refused = frozen_live.control("POST", "/clock", json={"own": False})
    assert refused.status_code == 400 and "own" in refused.json()["details"]


def test_online_tokens_expire_on_the_shops_clock(frozen_live):
    one = Driver(frozen_live, frozen_live.new_shop())
    app = next(a for a in one.shop.apps if a["name"] == "sandbox-psp")
    session = frozen_live.control("POST", "/session_tokens", json={"shop": one.shop.handle}).json()[
        "sessionToken"
    ]
    exchanged = requests.post(
        f"{frozen_live.url}/oauth2/token",
        json={
            "clientId": app["clientId"],
            "clientSecret": app["clientSecret"],
            "grantType": "token-exchange",
            "subjectToken": session,
            "requestedTokenType": "online-access-token",
        },
        timeout=10,
    )
    assert exchanged.status_code == 200, exchanged.text
    headers = {"X-Genstore-Access-Token": exchanged.json()["accessToken"]}
    scopes = f"{frozen_live.url}/api/202412/oauth2/access_scopes"
    assert requests.get(scopes, headers=headers, timeout=10).status_code == 200
    _clock(one, advance="1d")
    expired = requests.get(scopes, headers=headers, timeout=10)
    assert expired.status_code == 401 and "expired" in expired.json()["error"]

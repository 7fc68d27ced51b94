"""The journal over real HTTP: every exchange, both directions, masked, filtered, bounded."""

import requests

from sandbox.testing.live import LiveSandbox


def test_a_checkout_shows_in_the_journal_in_both_directions(driver):
    payment_id = driver.checkout(card="4242424242424242")
    driver.drain()
    driver.status(payment_id)
    page = driver.sandbox.control(
        "GET", "/journal", params={"shop": driver.shop.handle, "paymentId": payment_id}
    ).json()
    kinds = [(e["direction"], e["kind"]) for e in page["entries"]]
    assert kinds == [
        ("inbound", "GET /api/202412/payment/<paymentId>"),
        ("inbound", "PUT /api/202412/app/payment/<paymentId>"),
        ("outbound", "psp.payment_result"),
        ("inbound", "POST /psp/i/<installation>/payments"),
        ("outbound", "app.payment"),
    ]
    newest = page["entries"][0]
    assert newest["status"] == 200 and newest["durationMs"] >= 0
    assert newest["responseBody"]["payment"]["paymentId"] == payment_id
    callback = page["entries"][1]
    assert callback["requestHeaders"]["X-Genstore-Access-Token"].startswith("****")
    token = driver.shop.token("write_payment")
    assert callback["requestHeaders"]["X-Genstore-Access-Token"] == "****" + token[-4:]
    assert token not in str(page)


def test_filters_count_and_pagination(driver):
    payment_id = driver.checkout(amount="80.00", manualCapture=True)
    driver.drain()
    driver.operation(payment_id, "capture", amount="10.00")
    driver.drain()
    query = {"shop": driver.shop.handle, "paymentId": payment_id}
    captures_received = driver.sandbox.control(
        "GET", "/journal/count", params={**query, "kind": "POST /psp/i/<installation>/captures"}
    ).json()
    assert captures_received == {"count": 1}
    sent = driver.sandbox.control(
        "GET", "/journal/count", params={**query, "direction": "outbound"}
    ).json()["count"]
    assert sent == 4  # payment request, pre_authorize callback, capture request, its callback
    first = driver.sandbox.control("GET", "/journal", params={**query, "limit": 3}).json()
    assert len(first["entries"]) == 3 and first["nextBefore"] == first["entries"][-1]["seq"]
    rest = driver.sandbox.control(
        "GET", "/journal", params={**query, "limit": 50, "before": first["nextBefore"]}
    ).json()
    seqs = [e["seq"] for e in first["entries"] + rest["entries"]]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == len(seqs)
    assert rest["nextBefore"] is None
    by_path = driver.sandbox.control("GET", "/journal", params={**query, "path": "/psp/"}).json()
    domain = f"{driver.shop.handle}.genmystore.com"
    assert {e["path"] for e in by_path["entries"]} == {
        f"/psp/i/{domain}/payments",
        f"/psp/i/{domain}/captures",
    }


def test_errors_and_unknown_routes_are_journaled(driver):
    requests.get(f"{driver.url}/api/202412/payment/NOPE", headers=driver.shop.headers(
        "read_payments_transaction"), timeout=10)  # fmt: skip
    requests.get(f"{driver.url}/api/202412/nowhere", timeout=10)
    entries = driver.sandbox.control("GET", "/journal", params={"limit": 5}).json()["entries"]
    assert (entries[0]["kind"], entries[0]["status"]) == ("GET (no route)", 404)
    assert entries[1]["status"] == 404 and entries[1]["paymentId"] == "NOPE"


def test_card_numbers_and_secrets_are_masked_even_when_sent_in_clear(driver):
    body = {
        "pan": "4111111111111111",
        "note": "card 4000056655665556 here",
        "clientSecret": "s3cr3t-value",
    }
    headers = {"Authorization": "Bearer abcdefgh"}
    requests.post(f"{driver.url}/psp/i/x/payments", json=body, timeout=10, headers=headers)
    [entry] = driver.sandbox.control("GET", "/journal", params={"limit": 1}).json()["entries"]
    text = str(entry)
    for secret in ("4111111111111111", "4000056655665556", "s3cr3t-value", "abcdefgh"):
        assert secret not in text
    assert entry["requestBody"]["pan"] == "****1111"
    assert "****5556" in entry["requestBody"]["note"]


def test_the_journal_is_bounded_oldest_first(tmp_path):
    env = {"GENSTORE_SANDBOX_JOURNAL_MAX_ENTRIES": "50", "GENSTORE_SANDBOX_RATE_LIMIT": "off"}
    with LiveSandbox(data_dir=tmp_path, workers=1, env=env) as sandbox:
        headers = {"X-Genstore-Access-Token": "gst_demo_merchant_read"}
        for _ in range(160):
            requests.get(f"{sandbox.url}/api/202412/payment/PI0020261101000000001", headers=headers,
                         timeout=10)  # fmt: skip
        total = sandbox.control("GET", "/journal/count").json()["count"]
        assert 50 <= total < 160
        entries = sandbox.control("GET", "/journal", params={"limit": 500}).json()["entries"]
        ids = sorted(e["id"] for e in entries)
        assert ids[-1] - ids[0] == total - 1  # a window of the newest


def test_the_journal_can_be_switched_off(tmp_path):
    with LiveSandbox(data_dir=tmp_path, workers=1, extra_args=("--journal", "off")) as sandbox:
        requests.get(f"{sandbox.url}/api/202412/payment/PI0020261101000000001", timeout=10)
        assert sandbox.control("GET", "/journal/count").json()["count"] == 0

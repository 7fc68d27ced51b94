"""Every fault kind over real HTTP, and what each did in the journal."""

import pytest
import requests

from sandbox.testing.live import LiveSandbox
from tests.helpers import result_body


def arm(driver, **spec):
    response = driver.sandbox.control("POST", "/faults", json={"shop": driver.shop.handle, **spec})
    assert response.status_code == 201, response.text
    return response.json()


def journal(driver, **query):
    params = {"shop": driver.shop.handle, "limit": 100, **query}
    return driver.sandbox.control("GET", "/journal", params=params).json()["entries"]


@pytest.fixture(autouse=True)
def clear_faults(frozen_live):
    yield
    frozen_live.control("DELETE", "/faults")


def test_status_on_an_app_call_is_retried(driver):
    fault = arm(driver, target="app.payment", kind="status", status=503)
    payment_id = driver.checkout()
    driver.drain()
    [sent] = journal(driver, paymentId=payment_id, direction="outbound")
    assert (sent["status"], sent["fault"]) == (503, f"status (fault {fault['id']})")
    assert (
        journal(driver, paymentId=payment_id, kind="POST /psp/i/<installation>/payments") == []
    )  # never sent
    driver.advance("1.5s")  # the backoff, stretched by up to half (jitter)
    assert driver.status(payment_id)["status"] == "2"
    [listed] = [
        f
        for f in driver.sandbox.control("GET", "/faults").json()["faults"]
        if f["id"] == fault["id"]
    ]
    assert (listed["fired"], listed["remaining"]) == (1, 0)


def test_latency_on_a_platform_endpoint(driver):
    arm(driver, target="platform", kind="latency", latencyMs=300, path="/api/202412/payment/")
    payment = requests.get(
        f"{driver.url}/api/202412/payment/PI0020261101000000001",
        headers=driver.shop.headers("read_payments_transaction"),
        timeout=10,
    )
    assert payment.status_code == 200
    [entry] = journal(driver, kind="GET /api/202412/payment/<paymentId>")
    assert entry["durationMs"] >= 300 and entry["fault"].startswith("latency")


def test_drop_on_a_platform_endpoint_processes_nothing(driver):
    arm(driver, target="platform", kind="drop", path="/api/202412/app/payment/")
    url = f"{driver.url}/api/202412/app/payment/PI0020261101000000002"
    body = result_body("payment", "PI0020261101000000002")
    with pytest.raises(requests.RequestException):  # the body promised never comes
        requests.put(url, json=body, headers=driver.shop.headers("write_payment"), timeout=1)
    assert driver.status("PI0020261101000000002")["status"] == "1"
    [entry] = journal(driver, kind="PUT /api/202412/app/payment/<paymentId>")
    assert entry["fault"].startswith("drop")
    retry = requests.put(url, json=body, headers=driver.shop.headers("write_payment"), timeout=10)
    assert retry.status_code == 200 and driver.status("PI0020261101000000002")["status"] == "2"


def test_commit_lost_on_a_platform_endpoint_commits_but_the_answer_is_lost(driver):
    arm(driver, target="platform", kind="commit_lost", path="/api/202412/app/payment/")
    url = f"{driver.url}/api/202412/app/payment/PI0020261101000000002"
    body = result_body("payment", "PI0020261101000000002")
    with pytest.raises(requests.RequestException):
        requests.put(url, json=body, headers=driver.shop.headers("write_payment"), timeout=1)
    assert driver.status("PI0020261101000000002")["status"] == "2"  # it was committed
    again = requests.put(url, json=body, headers=driver.shop.headers("write_payment"), timeout=10)
    assert again.status_code == 200  # the app's retry is idempotent


def test_commit_lost_on_an_app_call_makes_the_app_see_a_retry(driver):
    arm(driver, target="app.payment", kind="commit_lost")
    payment_id = driver.checkout()
    driver.drain()
    [lost] = journal(driver, paymentId=payment_id, direction="outbound", kind="app.payment")
    assert lost["status"] is None and lost["error"] == "answer lost after a 200 (fault)"
    driver.advance("1.5s")  # the backoff, stretched by up to half (jitter)
    received = journal(driver, paymentId=payment_id, kind="POST /psp/i/<installation>/payments")
    assert len(received) == 2  # the fake app saw the request twice ...
    assert driver.sandbox.control(
        "GET",
        "/journal/count",
        params={
            "shop": driver.shop.handle,
            "paymentId": payment_id,
            "kind": "PUT /api/202412/app/payment/<paymentId>",
        },
    ).json() == {"count": 1}  # ... and, being idempotent, reported once
    assert driver.status(payment_id)["status"] == "2"


def test_duplicated_callback(driver):
    arm(driver, target="callbacks", kind="duplicate")
    payment_id = driver.checkout()
    driver.drain()
    received = journal(driver, paymentId=payment_id, kind="PUT /api/202412/app/payment/<paymentId>")
    assert [r["status"] for r in received] == [200, 200]
    sent = journal(driver, paymentId=payment_id, direction="outbound", kind="psp.payment_result")
    assert [s["fault"] is not None for s in sent] == [False, True]
    assert driver.status(payment_id)["status"] == "2"


def test_callbacks_out_of_order(driver):
    # Armed before the first checkout (the shop's first callback), so the outbox thread cannot
    # deliver that callback before the fault exists.
    arm(driver, target="callbacks", kind="reorder", count=1, delaySeconds=5)
    first = driver.checkout(amount="11.00")
    driver.drain()
    second = driver.checkout(amount="22.00")
    driver.drain()
    assert driver.status(first)["status"] == "1" and driver.status(second)["status"] == "2"
    driver.advance("5s")
    assert driver.status(first)["status"] == "2"
    puts = journal(driver, kind="PUT /api/202412/app/payment/<paymentId>")
    assert [p["paymentId"] for p in reversed(puts)] == [second, first]
    held = journal(driver, paymentId=first, direction="outbound", kind="psp.payment_result")
    assert held[-1]["error"] == "held back 5s" and held[-1]["fault"].startswith("reorder")


def test_probabilistic_faults_repeat_under_a_seed(driver):
    spec = {
        "target": "platform",
        "kind": "status",
        "status": 500,
        "probability": 0.5,
        "seed": 42,
        "path": "/api/202412/payment/",
    }
    url = f"{driver.url}/api/202412/payment/PI0020261101000000001"
    headers = driver.shop.headers("read_payments_transaction")

    def run():
        fault = arm(driver, **spec)
        codes = [requests.get(url, headers=headers, timeout=10).status_code for _ in range(12)]
        driver.sandbox.control("DELETE", f"/faults/{fault['id']}")
        return codes

    first, second = run(), run()
    assert first == second and set(first) == {200, 500}


def test_fault_validation(driver):
    bad = driver.sandbox.control("POST", "/faults", json={"target": "moon", "kind": "status"})
    assert bad.status_code == 400 and "target" in bad.json()["details"]
    bad = driver.sandbox.control(
        "POST", "/faults", json={"target": "platform", "kind": "duplicate"}
    )
    assert bad.status_code == 400
    assert driver.sandbox.control("DELETE", "/faults/99999").status_code == 404


def test_a_seed_makes_ids_repeat_run_to_run(tmp_path):
    def one_run(directory):
        env = {"GENSTORE_SANDBOX_SEED": "7"}
        with LiveSandbox(data_dir=directory, workers=1, env=env) as sandbox:
            sandbox.control("POST", "/clock", json={"frozen": True, "now": "2030-01-01T00:00:00Z"})
            shop = sandbox.new_shop()
            payment = sandbox.control("POST", "/checkouts", json={"shop": shop.handle}).json()
            return shop.handle, [t["token"] for t in shop.tokens], payment["paymentId"]

    assert one_run(tmp_path / "a") == one_run(tmp_path / "b")

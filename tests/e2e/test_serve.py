"""End to end: the real ``serve`` (gunicorn, several workers) over real HTTP on a free port."""

import re
from concurrent.futures import ThreadPoolExecutor

import requests

from sandbox.testing.live import LiveSandbox
from tests.helpers import result_body

PAYMENT = "PI0020261101000000002"


def test_health_and_a_production_server(live):
    response = requests.get(live.url + "/_sandbox/health", timeout=5)
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert response.headers.get("Server", "").startswith("gunicorn")


def test_the_banner_prints_urls_and_the_demo_tokens(live):
    output = "".join(live.output)
    assert f"listening on {live.url}" in output
    assert f"{live.url}/openapi/platform.yaml" in output and f"{live.url}/docs" in output
    for token in ("gst_demo_app_write_payment", "gst_demo_merchant_read"):
        assert token in output


def test_every_url_the_banner_prints_answers(live):
    """The banner tells the truth: each URL it prints answers 200 (the Try line with its
    token), and the base URL leads to the docs and every API's document."""
    banner = "".join(live.output).split("[INFO] Booting worker")[0]
    urls = set(re.findall(re.escape(live.url) + r"[^\s)]*", banner))
    assert {live.url, live.url + "/_sandbox/ui", live.url + "/docs"} <= urls and len(urls) >= 6
    token = re.search(r"X-Genstore-Access-Token: (\S+)'", banner).group(1)
    for url in sorted(urls):
        answer = requests.get(url, headers={"X-Genstore-Access-Token": token}, timeout=5)
        assert answer.status_code == 200, url
    home = requests.get(live.url + "/", timeout=5).text
    for link in (
        "/docs",
        "/openapi/platform.yaml",
        "/openapi/payment-app.yaml",
        "/openapi/control.yaml",
    ):
        assert f'href="{link}"' in home


def test_workers_share_one_store(live):
    """A write through one worker is seen by every worker."""
    shop = live.new_shop(rateLimit={"enabled": False})
    pids = _answering_workers(live.url, wanted=2)
    assert len(pids) >= 2, "expected several worker processes to answer"

    url = f"{live.url}/api/202412/payment/{PAYMENT}"
    headers = shop.headers("read_payments_transaction")
    with ThreadPoolExecutor(8) as pool:  # every worker reads (and remembers) it first
        before = list(pool.map(lambda _: _fresh_get(url, headers), range(64)))
    assert {b["payment"]["status"] for b in before} == {"1"}
    path = f"{live.url}/api/202412/app/payment/{PAYMENT}"
    response = requests.put(
        path, json=result_body("payment", PAYMENT), headers=shop.headers("write_payment")
    )
    assert response.status_code == 200
    with ThreadPoolExecutor(8) as pool:
        seen = list(pool.map(lambda _: _fresh_get(url, headers), range(64)))
    assert {s["payment"]["status"] for s in seen} == {"2"}


def test_fresh_shops_are_isolated(live):
    first, second = live.new_shop(), live.new_shop()
    path = f"{live.url}/api/202412/app/payment/{PAYMENT}"
    assert requests.put(
        path, json=result_body("payment", PAYMENT, False), headers=first.headers("write_payment")
    ).ok
    for shop, expected in ((first, "9"), (second, "1")):
        url = f"{live.url}/api/202412/payment/{PAYMENT}"
        body = requests.get(url, headers=shop.headers("read_payments_transaction")).json()
        assert body["payment"]["status"] == expected


def test_callbacks_and_queries_over_http(live, shop):
    app = shop.headers("write_payment")
    capture = f"{live.url}/api/202412/app/capture/CA0020261101000000003"
    assert (
        requests.put(
            capture, json=result_body("capture", "CA0020261101000000003"), headers=app
        ).json()
        == {}
    )
    again = requests.put(
        capture, json=result_body("capture", "CA0020261101000000003", False), headers=app
    )
    assert again.status_code == 409 and "cannot change" in again.json()["error"]
    admin = shop.headers("read_orders")
    payment = requests.get(f"{live.url}/orders/1003/payments/303", headers=admin).json()["payment"]
    assert (payment["status"], payment["is_available"]) == ("paid", True)


def test_errors_over_http_are_json(live):
    response = requests.post(live.url + "/api/202412/payment/x")
    assert response.status_code == 405 and "error" in response.json()
    response = requests.put(
        live.url + "/api/202412/app/payment/x",
        data=b"{" * 100,
        headers={"X-Genstore-Access-Token": "gst_demo_app_write_payment"},
    )
    assert response.status_code == 400 and "not valid JSON" in response.json()["error"]


def test_state_survives_a_restart_and_reset_reseeds(tmp_path):
    headers = {"X-Genstore-Access-Token": "gst_demo_merchant_read"}
    app_token = {"X-Genstore-Access-Token": "gst_demo_app_write_payment"}
    with LiveSandbox(data_dir=tmp_path, workers=1) as sandbox:
        url = f"{sandbox.url}/api/202412/app/payment/{PAYMENT}"
        assert requests.put(url, json=result_body("payment", PAYMENT), headers=app_token).ok
        created = sandbox.new_shop(handle="kept")
    with LiveSandbox(data_dir=tmp_path, workers=1) as sandbox:
        body = requests.get(f"{sandbox.url}/api/202412/payment/{PAYMENT}", headers=headers).json()
        assert body["payment"]["status"] == "2"
        kept = sandbox.control("GET", "/shops/kept").json()
        assert kept["tokens"] == created.tokens
    with LiveSandbox(data_dir=tmp_path, workers=1, extra_args=("--reset",)) as sandbox:
        body = requests.get(f"{sandbox.url}/api/202412/payment/{PAYMENT}", headers=headers).json()
        assert body["payment"]["status"] == "1"
        assert sandbox.control("GET", "/shops/kept").status_code == 404


def test_clock_is_shared_by_all_workers(tmp_path):
    with LiveSandbox(data_dir=tmp_path, workers=2) as sandbox:
        sandbox.control("POST", "/clock", json={"frozen": True, "now": "2031-02-03T04:05:06Z"})
        assert len(_answering_workers(sandbox.url, wanted=2)) == 2
        with ThreadPoolExecutor(8) as pool:
            answers = list(
                pool.map(lambda _: _fresh_get(sandbox.url + "/_sandbox/health"), range(32))
            )
        assert {a["now"] for a in answers} == {"2031-02-03T04:05:06+00:00"}


def _answering_workers(url, wanted, attempts=40):
    """Pids of the workers that answer fresh connections; a worker may still be booting, so
    keep asking (bounded) until ``wanted`` have answered."""
    pids: set[int] = set()
    with ThreadPoolExecutor(8) as pool:
        for _ in range(attempts):
            pids |= set(
                pool.map(lambda _: _fresh_get(url + "/_sandbox/health")["worker"], range(16))
            )
            if len(pids) >= wanted:
                break
    return pids


def _fresh_get(url, headers=None):
    """A new connection per call, so requests spread over the workers."""
    with requests.Session() as session:
        response = session.get(url, headers=headers, timeout=10)
        response.raise_for_status()
        return response.json()

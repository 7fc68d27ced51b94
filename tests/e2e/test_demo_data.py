"""The demo data works both ways: the fixture payments exist at the fake app too, so captures,
voids and refunds on them succeed end to end, and waiting operations complete when their
callbacks arrive. Through the README's CLI verbs and over HTTP."""

from __future__ import annotations

import requests

from tests.e2e.test_cli import run
from tests.helpers import result_body


def _app_status(live, shop, payment_id: str) -> str:
    domain = f"{shop.handle}.genmystore.com"
    answer = requests.get(
        f"{live.url}/psp/i/{domain}/payment", params={"paymentId": payment_id}, timeout=10
    ).json()
    return answer["status"]


def test_the_cli_verbs_succeed_on_the_demo_payments(live):
    shop = live.new_shop()
    common = ("--url", live.url, "--shop", shop.handle)
    captured = run("capture", "PI0020261101000000014", "--amount", "40.00", *common)
    assert captured.returncode == 0, captured.stderr
    assert "Final state: paid" in captured.stdout
    voided = run("void", "PI0020261101000000015", *common)
    assert voided.returncode == 0 and "Final state: voided" in voided.stdout
    refunded = run("refund", "PI0020261101000000001", "--amount", "23.23", *common)
    assert refunded.returncode == 0 and "Final state: partially_refunded" in refunded.stdout
    rest = run("refund", "PI0020261101000000006", *common)  # what is left after 9.90
    assert rest.returncode == 0 and "Final state: refunded" in rest.stdout
    assert _app_status(live, shop, "PI0020261101000000014") == "SUCCESS"
    assert _app_status(live, shop, "PI0020261101000000015") == "FAILURE"


def test_waiting_demo_operations_complete_when_their_callbacks_arrive(live):
    shop = live.new_shop()
    app = shop.headers("write_payment")
    capture = requests.put(
        f"{live.url}/api/202412/app/capture/CA0020261101000000003",
        json=result_body("capture", "CA0020261101000000003"),
        headers=app,
        timeout=10,
    )
    assert capture.status_code == 200, capture.text
    detail = live.control(
        "GET", "/payments/PI0020261101000000003", params={"shop": shop.handle}
    ).json()
    assert (detail["state"], detail["capturedAmount"]) == ("paid", "50.00")
    assert _app_status(live, shop, "PI0020261101000000003") == "SUCCESS"  # both sides agree
    refund = requests.put(
        f"{live.url}/api/202412/app/refund/RE0020261101000000005",
        json=result_body("refund", "RE0020261101000000005"),
        headers=app,
        timeout=10,
    )
    assert refund.status_code == 200
    domain = f"{shop.handle}.genmystore.com"
    at_app = requests.get(
        f"{live.url}/psp/i/{domain}/refund",
        params={"refundId": "RE0020261101000000005"},
        timeout=10,
    ).json()
    assert at_app["status"] == "SUCCESS"

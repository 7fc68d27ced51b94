import pytest

from tests.conftest import ADMIN_TOKEN, APP_TOKEN, READ_TOKEN
from tests.helpers import result_body

PAYMENT = "PI0020261101000000002"
ENDPOINTS = [
    ("PUT", "/api/202412/app/account_authorize", {"pay": {"ready": True}}),
    ("PUT", f"/api/202412/app/payment/{PAYMENT}", result_body("payment", PAYMENT)),
    ("PUT", f"/api/202412/app/pre_authorize/{PAYMENT}", result_body("pre_authorize", PAYMENT)),
    ("PUT", "/api/202412/app/capture/CA1", result_body("capture", "CA1")),
    ("PUT", "/api/202412/app/void/VO1", result_body("void", "VO1")),
    ("PUT", "/api/202412/app/refund/RE1", result_body("refund", "RE1")),
    ("GET", f"/api/202412/payment/{PAYMENT}", None),
    ("GET", "/orders/1001/payments", None),
    ("GET", "/orders/1001/payments/count", None),
    ("GET", "/orders/1001/payments/301", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_missing_token_is_401(client, method, path, body):
    response = client.open(path, method=method, json=body)
    assert response.status_code == 401
    assert "X-Genstore-Access-Token" in response.json["error"]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_unknown_token_is_401(client, method, path, body):
    headers = {"X-Genstore-Access-Token": "gst_not_a_real_token"}
    response = client.open(path, method=method, json=body, headers=headers)
    assert response.status_code == 401
    assert response.json == {"error": "Invalid access token"}


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS[:6])
def test_callbacks_need_write_payment(client, method, path, body):
    for token in (READ_TOKEN, ADMIN_TOKEN):
        response = client.open(path, method=method, json=body, headers=token)
        assert response.status_code == 403
        assert "write_payment" in response.json["error"]


def test_transaction_query_accepts_read_or_write_transaction_scope(client):
    path = f"/api/202412/payment/{PAYMENT}"
    assert client.get(path, headers=READ_TOKEN).status_code == 200
    assert client.get(path, headers=ADMIN_TOKEN).status_code == 200  # write_payments_transaction
    response = client.get(path, headers=APP_TOKEN)
    assert response.status_code == 403
    assert "read_payments_transaction" in response.json["error"]


def test_legacy_orders_need_an_orders_scope(client):
    assert client.get("/orders/1001/payments", headers=ADMIN_TOKEN).status_code == 200
    response = client.get("/orders/1001/payments", headers=READ_TOKEN)
    assert response.status_code == 403
    assert "read_orders" in response.json["error"]


def test_auth_is_checked_before_the_body(client):
    response = client.put(f"/api/202412/app/payment/{PAYMENT}", data="{not json")
    assert response.status_code == 401

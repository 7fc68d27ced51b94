"""The legacy Order Payment API (seed 003)."""

from datetime import datetime, timedelta

from tests.conftest import ADMIN_TOKEN

SEED_FIELDS = {
    "amount",
    "bank_code",
    "created_at",
    "exipired_at",
    "gateway_payment_no",
    "id",
    "is_available",
    "mode",
    "payment_method",
    "pay_by_other",
    "status",
    "updated_at",
}


def get(client, path):
    return client.get(path, headers=ADMIN_TOKEN)


def test_list_has_the_seed_fields_and_one_available_payment(client):
    payments = get(client, "/orders/1008/payments").json["payments"]
    assert [p["id"] for p in payments] == [308, 309]
    assert all(set(p) == SEED_FIELDS for p in payments)
    assert [(p["status"], p["is_available"]) for p in payments] == [
        ("expired", False),
        ("paid", True),
    ]
    assert payments[1]["gateway_payment_no"] == "ch_demo_1008"
    assert payments[0]["gateway_payment_no"] is None
    assert payments[1]["amount"] == 35 and isinstance(payments[1]["amount"], int)
    assert payments[1]["payment_method"]["payment_method_type"] == "online"


def test_online_payments_expire_two_days_after_creation(client):
    payment = get(client, "/orders/1002/payments/302").json["payment"]
    created = datetime.fromisoformat(payment["created_at"])
    assert datetime.fromisoformat(payment["exipired_at"]) - created == timedelta(days=2)
    assert payment["created_at"].endswith("+08:00") and "." in payment["created_at"]


def test_expiry_follows_the_sandbox_clock(client, frozen):
    assert get(client, "/orders/1002/payments/302").json["payment"]["status"] == "pending"
    frozen("47h")
    assert get(client, "/orders/1002/payments/302").json["payment"]["status"] == "pending"
    frozen("2h")
    payment = get(client, "/orders/1002/payments/302").json["payment"]
    assert payment["status"] == "expired"
    assert payment["is_available"] is False
    history = client.get("/_sandbox/payments/PI0020261101000000002/history").json["history"]
    assert (history[-1]["event"], history[-1]["cause"]) == ("expire", "timeout")


def test_an_expired_payment_refuses_a_late_result(client, frozen):
    frozen("3d")
    body = {"pay": {"result": True, "paymentId": "PI0020261101000000002", "channelPaymentId": "c"}}
    response = client.put(
        "/api/202412/app/payment/PI0020261101000000002",
        json=body,
        headers={"X-Genstore-Access-Token": "gst_demo_app_write_payment"},
    )
    assert response.status_code == 409
    assert "expired" in response.json["error"]


def test_offline_payments_have_no_expiry_and_never_expire(client, frozen):
    frozen("30d")
    payment = get(client, "/orders/1009/payments/310").json["payment"]
    assert "exipired_at" not in payment
    assert (payment["status"], payment["mode"]) == ("pending", "offline")
    assert payment["is_available"] is True


def test_fields_selects_response_fields(client):
    payments = get(client, "/orders/1001/payments?fields=id,status").json["payments"]
    assert payments == [{"id": 301, "status": "paid"}]
    one = get(client, "/orders/1001/payments/301?fields=amount, exipired_at").json["payment"]
    assert set(one) == {"amount", "exipired_at"}


def test_unknown_fields_are_400(client):
    response = get(client, "/orders/1001/payments?fields=id,colour")
    assert response.status_code == 400
    assert "colour" in response.json["error"]


def test_count(client):
    assert get(client, "/orders/1008/payments/count").json == {"count": 2}
    assert get(client, "/orders/1001/payments/count").json == {"count": 1}


def test_unknown_order_or_payment_is_404(client):
    assert get(client, "/orders/4242/payments").status_code == 404
    assert get(client, "/orders/4242/payments/count").json == {"error": "Order 4242 not found"}
    response = get(client, "/orders/1001/payments/999")
    assert response.json == {"error": "Payment 999 not found in order 1001"}
    assert get(client, "/orders/abc/payments").status_code == 404

"""The six PUT /api/202412/app/... endpoints against the demo fixtures."""

import pytest

from tests.conftest import APP_TOKEN, READ_TOKEN
from tests.helpers import result_body

CREATED = "PI0020261101000000002"  # automatic capture, waiting for a result
AUTHORIZED_WITH_CAPTURE = "PI0020261101000000003"  # 80.00, capture CA...3 of 50.00 pending
AUTHORIZED_WITH_VOID = "PI0020261101000000004"
PAID_WITH_REFUNDS = "PI0020261101000000005"  # 60.00, refunds of 20.00 and 40.00 pending
MANUAL_CREATED = "PI0020261101000000013"  # manual capture, waiting for authorization


def put(client, kind, object_id, body=None, **kwargs):
    body = body if body is not None else result_body(kind, object_id, **kwargs)
    return client.put(f"/api/202412/app/{kind}/{object_id}", json=body, headers=APP_TOKEN)


def status(client, payment_id):
    response = client.get(f"/api/202412/payment/{payment_id}", headers=READ_TOKEN)
    assert response.status_code == 200, response.json
    return response.json["payment"]


def test_payment_success_makes_an_automatic_capture_payment_paid(client):
    assert status(client, CREATED)["status"] == "1"
    response = put(client, "payment", CREATED, channel="ch_777")
    assert (response.status_code, response.json) == (200, {})
    payment = status(client, CREATED)
    assert payment["status"] == "2"
    assert payment["channelTrxNo"] == "ch_777"
    assert "successPaymentTime" in payment


def test_payment_failure_makes_it_failed(client):
    assert (
        put(client, "payment", CREATED, result="false", reason="Insufficient balance").status_code
        == 200
    )
    assert status(client, CREATED)["status"] == "9"


def test_a_result_is_final_same_again_is_200_different_is_409(client):
    assert put(client, "payment", CREATED, result=True).status_code == 200
    assert put(client, "payment", CREATED, result="true").status_code == 200
    response = put(client, "payment", CREATED, result=False)
    assert response.status_code == 409
    assert "already true and cannot change" in response.json["error"]
    assert status(client, CREATED)["status"] == "2"


def test_a_payment_that_moved_on_refuses_a_late_result(client):
    assert put(client, "void", "VO0020261101000000004").status_code == 200
    response = put(client, "payment", AUTHORIZED_WITH_VOID)
    assert response.status_code == 409
    assert "is voided and cannot take 'succeed'" in response.json["error"]


def test_pre_authorize_authorizes_a_manual_capture_payment(client):
    assert put(client, "pre_authorize", MANUAL_CREATED).status_code == 200
    assert status(client, MANUAL_CREATED)["status"] == "4"
    assert "successPaymentTime" not in status(client, MANUAL_CREATED)


def test_payment_result_true_on_manual_capture_means_authorized(client):
    assert put(client, "payment", MANUAL_CREATED).status_code == 200
    assert status(client, MANUAL_CREATED)["status"] == "4"
    # pre_authorize and payment report the one result: the same again is fine, not another
    assert put(client, "pre_authorize", MANUAL_CREATED).status_code == 200
    assert put(client, "pre_authorize", MANUAL_CREATED, result=False).status_code == 409


def test_pre_authorize_on_an_automatic_capture_payment_is_refused(client):
    response = put(client, "pre_authorize", CREATED)
    assert response.status_code == 409
    assert "manual_capture" in response.json["error"]


def test_partial_capture_makes_the_payment_paid_with_the_captured_amount(client):
    capture_id = "CA0020261101000000003"
    assert status(client, AUTHORIZED_WITH_CAPTURE)["status"] == "4"
    assert put(client, "capture", capture_id, channel="chc_1").status_code == 200
    payment = status(client, AUTHORIZED_WITH_CAPTURE)
    assert (payment["status"], payment["amount"]) == ("2", "50.00")
    assert payment["fee"] == "1.75" and payment["net"] == "48.25"  # 2.9% + 0.30


def test_failed_capture_leaves_the_payment_authorized(client):
    assert put(client, "capture", "CA0020261101000000003", result=False).status_code == 200
    assert status(client, AUTHORIZED_WITH_CAPTURE)["status"] == "4"


def test_void_makes_the_payment_auth_void(client):
    assert put(client, "void", "VO0020261101000000004").status_code == 200
    assert status(client, AUTHORIZED_WITH_VOID)["status"] == "3"


def test_refunds_partial_then_full(client):
    assert put(client, "refund", "RE0020261101000000005").status_code == 200
    assert _state(client, PAID_WITH_REFUNDS) == "partially_refunded"
    assert status(client, PAID_WITH_REFUNDS)["status"] == "2"
    assert put(client, "refund", "RE0020261101000000015").status_code == 200
    assert _state(client, PAID_WITH_REFUNDS) == "refunded"


def test_a_refund_beyond_what_was_captured_is_refused_and_nothing_changes(client):
    # 60.00 captured; refund 40.00 first, then a fixture refund of 20.00 fits, but a second
    # 40.00 refund would not: fire events by hand to reach 40 refunded, then try 40 more.
    assert put(client, "refund", "RE0020261101000000015").status_code == 200
    response = client.post(
        f"/_sandbox/payments/{PAID_WITH_REFUNDS}/events",
        json={"event": "refund", "amount": "40.00"},
    )
    assert response.status_code == 409
    assert "guard not met" in response.json["error"]
    assert _state(client, PAID_WITH_REFUNDS) == "partially_refunded"


def test_unknown_ids_are_404(client):
    for kind in ("payment", "pre_authorize", "capture", "void", "refund"):
        response = put(client, kind, "NOPE")
        assert response.status_code == 404, kind
        assert "NOPE not found" in response.json["error"]


def test_body_id_must_match_the_path(client):
    response = put(client, "payment", CREATED, body=result_body("payment", "OTHER"))
    assert response.status_code == 400
    assert "pay.paymentId" in response.json["details"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "pay"),
        ({"pay": {}}, "pay.result"),
        ({"pay": {"result": "yes", "paymentId": CREATED, "channelPaymentId": "c"}}, "pay.result"),
        ({"pay": {"result": True, "paymentId": CREATED}}, "pay.channelPaymentId"),
        ({"pay": {"result": True, "paymentId": 5, "channelPaymentId": "c"}}, "pay.paymentId"),
        ({"pay": {"result": True, "paymentId": CREATED, "channelPaymentId": "c", "x": 1}}, "pay.x"),
        ({"pay": "true"}, "pay"),
        ([], "body"),
    ],
)
def test_invalid_bodies_name_the_field(client, body, field):
    response = put(client, "payment", CREATED, body=body)
    assert response.status_code == 400
    assert field in response.json["details"], response.json
    assert field in response.json["error"]
    assert status(client, CREATED)["status"] == "1"  # nothing half-written


def test_account_authorize_activates_the_app_for_the_shop(client):
    response = client.put(
        "/api/202412/app/account_authorize", json={"pay": {"ready": "false"}}, headers=APP_TOKEN
    )
    assert response.status_code == 200
    assert client.get("/_sandbox/shops/demo").json["apps"][0]["activated"] is False
    client.put(
        "/api/202412/app/account_authorize", json={"pay": {"ready": True}}, headers=APP_TOKEN
    )
    assert client.get("/_sandbox/shops/demo").json["apps"][0]["activated"] is True


def test_history_records_every_change_with_its_cause(client):
    put(client, "payment", CREATED)
    history = client.get(f"/_sandbox/payments/{CREATED}/history").json["history"]
    assert [(h["event"], h["from"], h["to"]) for h in history] == [
        ("fixture", None, "created"),
        ("succeed", "created", "paid"),
    ]
    assert history[-1]["cause"] == f"PUT /api/202412/app/payment/{CREATED}"


def _state(client, payment_id):
    return client.get(f"/_sandbox/payments/{payment_id}").json["state"]

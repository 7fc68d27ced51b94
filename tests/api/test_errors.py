"""Every error is JSON {"error": ...}; no input, however malformed, gets a 500."""

import json

import pytest

from tests.conftest import ADMIN_TOKEN, APP_TOKEN, READ_TOKEN

PUT_PATHS = [
    "/api/202412/app/account_authorize",
    "/api/202412/app/payment/PI0020261101000000002",
    "/api/202412/app/pre_authorize/PI0020261101000000013",
    "/api/202412/app/capture/CA0020261101000000003",
    "/api/202412/app/void/VO0020261101000000004",
    "/api/202412/app/refund/RE0020261101000000005",
]
POST_CONTROL = [
    "/_sandbox/shops",
    "/_sandbox/reset",
    "/_sandbox/clock",
    "/_sandbox/payments/PI0020261101000000002/events",
]
MALFORMED = [
    b"",
    b"{",
    b"null",
    b"[]",
    b"42",
    b'"text"',
    b"true",
    b"\xff\xfe\x00",
    b'{"pay": null}',
    b'{"pay": []}',
    b'{"pay": {"result": {}}}',
    b'{"pay": {"result": [true]}}',
    b'{"pay": {"ready": 1e999}}',
    b'{"pay": {"result": true, "paymentId": "' + b"x" * 5000 + b'"}}',
    b'{"pay": {"result": true, "paymentId": null, "channelPaymentId": null}}',
    b'{"pay": {"reason": 5, "result": "TRUE"}}',
    b'{"' + b"a" * 10000 + b'": 1}',
    b'{"pay": {"ready": "\\ud800"}}',
    b"[" * 5000 + b"]" * 5000,
    b'{"frozen": "perhaps"}',
    b'{"advance": "-3d"}',
    b'{"advance": {}}',
    b'{"now": "yesterday"}',
    b'{"template": 5}',
    b'{"handle": "Not A Handle!"}',
    b'{"shop": ["x"]}',
    b'{"event": ""}',
    b'{"event": "refund", "amount": "lots"}',
    b'{"event": "nope"}',
]


@pytest.mark.parametrize("body", MALFORMED)
def test_malformed_bodies_get_a_4xx_json_error_never_a_500(client, body):
    for path in PUT_PATHS:
        response = client.put(path, data=body, headers=APP_TOKEN)
        _assert_error(response, path, body)
    for path in POST_CONTROL:
        response = client.post(path, data=body, headers={"Content-Type": "application/json"})
        if response.status_code < 400:
            continue  # e.g. an empty body is a valid "reset everything"
        _assert_error(response, path, body)


def _assert_error(response, path, body):
    assert 400 <= response.status_code < 500, (path, body[:60], response.status_code, response.data)
    assert response.is_json, (path, body[:60])
    assert isinstance(response.json["error"], str) and response.json["error"]


def test_a_huge_body_is_413(client):
    response = client.put(
        PUT_PATHS[1], data=b"{" + b" " * (2 * 1024 * 1024) + b"}", headers=APP_TOKEN
    )
    assert response.status_code == 413
    assert "too large" in response.json["error"]


def test_unknown_route_and_wrong_method(client):
    response = client.get("/api/202412/unknown")
    assert (response.status_code, response.json) == (
        404,
        {"error": "Not found: GET /api/202412/unknown"},
    )
    response = client.delete("/api/202412/payment/PI0020261101000000001", headers=READ_TOKEN)
    assert response.status_code == 405
    assert "allowed: GET" in response.json["error"]
    assert "GET" in response.headers["Allow"]


def test_body_without_json_content_type_is_still_parsed(client):
    body = json.dumps({"pay": {"ready": True}})
    response = client.put(
        PUT_PATHS[0], data=body, headers={**APP_TOKEN, "Content-Type": "text/plain"}
    )
    assert response.status_code == 200


def test_query_strings_that_are_garbage_are_handled(client):
    for query in ("fields=", "fields=%00", "fields=" + "a," * 2000, "fields=id&fields=status"):
        response = client.get(f"/orders/1001/payments?{query}", headers=ADMIN_TOKEN)
        assert response.status_code in (200, 400), query
        assert response.is_json


def test_validation_errors_say_which_field_and_why(client):
    body = {"pay": {"result": "maybe", "paymentId": "PI0020261101000000002"}}
    response = client.put(PUT_PATHS[1], json=body, headers=APP_TOKEN)
    assert response.status_code == 400
    assert response.json["details"] == {
        "pay.result": ["Not a valid boolean: use true or false."],
        "pay.channelPaymentId": ["Missing data for required field."],
    }
    assert response.json["error"].startswith("Invalid request: pay.channelPaymentId: Missing")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/psp/i/demo.genmystore.com/payments", 413),
        ("POST", "/oauth2/token", 413),
        ("PUT", "/api/202412/app/payment/PI0020261101000000002", 413),
        ("POST", "/api/202412/app/payment/PI0020261101000000002", 405),  # wrong method too
        ("POST", "/_sandbox/checkouts", 413),
    ],
)
def test_a_body_over_the_limit_is_a_4xx_on_every_surface(client, method, path, status):
    big = b'{"x": "' + b"a" * (1024 * 1024 + 10) + b'"}'
    headers = {"Content-Type": "application/json", **APP_TOKEN}
    response = client.open(path, method=method, data=big, headers=headers)
    assert response.status_code == status
    assert "error" in response.json


@pytest.mark.parametrize("amount", ["1e400", "9" * 400, "١٢", " 12.00", "12.00 "])
def test_one_money_parser_refuses_odd_amounts_with_a_400(client, amount):
    response = client.post("/_sandbox/checkouts", json={"amount": amount})
    assert response.status_code == 400 and "amount" in response.json["details"]


BIG = "9" * 25  # far beyond 2^63-1, what the store keeps


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", f"/api/202412/app/webhooks/{BIG}", APP_TOKEN),
        ("GET", f"/api/202412/app/webhooks?sinceId={BIG}", APP_TOKEN),
        ("GET", f"/orders/{BIG}/payments", ADMIN_TOKEN),
        ("GET", f"/orders/1001/payments/{BIG}", ADMIN_TOKEN),
        ("GET", f"/_sandbox/journal?before={BIG}", {}),
        ("GET", f"/_sandbox/journal?status={BIG}", {}),
        ("DELETE", f"/_sandbox/faults/{BIG}", {}),
        ("POST", f"/_sandbox/deliveries/{BIG}/redeliver", {}),
    ],
)
def test_integers_the_store_cannot_keep_are_400(client, method, path, headers):
    response = client.open(path, method=method, headers=headers)
    assert response.status_code == 400, response.json
    assert "9223372036854775807" in response.json["error"]

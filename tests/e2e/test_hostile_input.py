"""Malformed input found by probing as an attacker would (issue 20): each gets a 4xx in
Genstore's error shape naming what is wrong, over real HTTP, never a 500."""

from __future__ import annotations

import json

import pytest
import requests

from sandbox.protocol import TOKEN_HEADER

pytestmark = pytest.mark.e2e

JSON = {"Content-Type": "application/json"}
LONE = b'"\\ud800"'


def _with_lone_surrogate(document: object) -> bytes:
    """JSON text of ``document`` with every "LONE" a lone UTF-16 surrogate (escaped, as a
    client would send it)."""
    return json.dumps(document).replace('"LONE"', LONE.decode()).encode()


def _surfaces(shop) -> list[tuple[str, str, bytes, dict[str, str]]]:
    """(method, path, body, headers): one change on every surface, with a lone surrogate."""
    app = {TOKEN_HEADER: shop.token("write_payment"), **JSON}
    payment = "PI0020261101000000002"
    installation = f"/psp/i/{shop.handle}.genmystore.com"
    operation = {"paymentId": "P", "amount": "1.00", "test": "true"}
    pay = {"result": "true", "paymentId": payment, "channelPaymentId": "LONE"}
    cases = [
        ("POST", "/_sandbox/shops", {"name": "LONE"}, JSON),
        ("POST", "/_sandbox/faults", {"target": "LONE", "kind": "status"}, JSON),
        ("POST", "/_sandbox/psp/installations",
         {"shopDomain": "x", "platformUrl": "LONE", "accessToken": "t"}, JSON),
        ("POST", "/api/202412/app/webhooks",
         {"webhook": {"address": "LONE", "topic": "orders/create"}}, app),
        ("POST", "/oauth2/token", {"clientId": "LONE"}, JSON),
        ("PUT", f"/api/202412/app/payment/{payment}", {"pay": pay}, app),
        ("POST", f"{installation}/refunds", {"refundId": "LONE", **operation}, JSON),
        ("POST", f"{installation}/captures", {"captureId": "c", **operation, "x": ["LONE"]}, JSON),
    ]  # fmt: skip
    return [(m, path, _with_lone_surrogate(body), h) for m, path, body, h in cases]


def test_a_lone_surrogate_is_a_400_naming_the_field_on_every_surface(live, shop):
    for method, path, body, headers in _surfaces(shop):
        answer = requests.request(method, live.url + path, data=body, headers=headers, timeout=10)
        assert answer.status_code == 400, (path, answer.status_code, answer.text)
        assert "lone UTF-16 surrogate" in answer.json()["error"], path
        assert answer.json()["details"], path
    named = requests.post(live.url + "/_sandbox/shops", data=b'{"name": ' + LONE + b"}",
                          headers=JSON, timeout=10).json()  # fmt: skip
    assert named["details"] == {"name": ["contains a lone UTF-16 surrogate (\\ud800-\\udfff)"]}
    # A whole pair is a character, and welcome.
    pair = requests.post(live.url + "/_sandbox/shops", data=b'{"name": "\\ud83d\\ude00 shop"}',
                         headers=JSON, timeout=10)  # fmt: skip
    assert pair.status_code == 201 and pair.json()["name"] == "\U0001f600 shop"


def test_an_oversized_chunked_body_is_a_413_like_any_other(live):
    def chunks():
        yield b'{"name": "'
        for _ in range(160):
            yield b"x" * 65536  # 10 MiB, no Content-Length
        yield b'"}'

    answer = requests.post(live.url + "/_sandbox/shops", data=chunks(), headers=JSON, timeout=30)
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"].startswith("Request body too large")
    small = requests.post(
        live.url + "/_sandbox/shops", data=iter([b'{"name": ', b'"chunked"}']), headers=JSON,
        timeout=10,
    )  # fmt: skip
    assert small.status_code == 201 and small.json()["name"] == "chunked"


def test_digits_are_ascii_digits_everywhere(live, shop):
    orders = {TOKEN_HEADER: shop.token("read_orders")}
    arabic, full_width = "\u0661\u0660\u0660\u0661", "\uff14\uff12\uff14\uff12"  # 1001, 4242
    assert requests.get(f"{live.url}/orders/1001/payments", headers=orders, timeout=10).ok
    found = requests.get(f"{live.url}/orders/{arabic}/payments", headers=orders, timeout=10)
    assert found.status_code == 404, found.text
    advance = live.control("POST", "/clock", json={"shop": shop.handle, "advance": arabic + "s"})
    assert advance.status_code == 400 and "advance" in advance.json()["details"]
    card = live.control("POST", "/checkouts", json={"shop": shop.handle, "card": full_width * 4})
    assert card.status_code == 400 and "card" in card.json()["details"]
    limit = live.control("GET", "/journal", params={"shop": shop.handle, "limit": arabic[:2]})
    assert limit.status_code == 400 and "limit" in limit.json()["details"]


def test_control_characters_never_reach_a_url_a_header_or_a_token(live, shop):
    app = {TOKEN_HEADER: shop.token("write_apps")}
    injected = "http://127.0.0.1:9/x\r\nX-Injected: 1"
    hook = requests.post(
        f"{live.url}/api/202412/app/webhooks", headers=app, timeout=10,
        json={"webhook": {"address": injected, "topic": "orders/create"}},
    )  # fmt: skip
    assert hook.status_code == 400 and "address" in str(hook.json()["details"]), hook.text
    for field, value in (("platformUrl", injected), ("accessToken", "tok\r\nX: 1")):
        body = {"shopDomain": "x.example", "platformUrl": "http://127.0.0.1:9",
                "accessToken": "tok", field: value}  # fmt: skip
        answer = live.control("POST", "/psp/installations", json=body)
        assert answer.status_code == 400 and field in answer.json()["details"], answer.text
    registered = live.control(
        "POST", "/apps", json={"shop": shop.handle, "name": "crlf", "urls": {},
                               "accessToken": "tok-crlf\nX: 1"},
    )  # fmt: skip
    assert registered.status_code == 400 and "accessToken" in registered.json()["details"]

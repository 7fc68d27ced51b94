"""Every status the documents promise is one the sandbox gives (issue 10.13): the answers
that sit in front of every operation (the control API's guard, the platform's tokens and rate
limit, ids the store cannot keep) walked over every operation, and the few rarer ones by
hand. With the rest of the suite and the fuzzer, the session's final check finds nothing
documented that nobody reached (tests/conftest.py)."""

from __future__ import annotations

import base64
import re

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sandbox.app import create_app
from tests.conftest import ADMIN_TOKEN, APP_TOKEN, READ_TOKEN, ROOT
from tests.contract import ContractClient
from tests.helpers import result_body, store_settings

LARGEST = 2**63 - 1
CHANGES = ("post", "put", "patch", "delete")


def _operations(name: str) -> list[tuple[str, str, dict]]:
    spec = yaml.safe_load((ROOT / "openapi" / f"{name}.yaml").read_text(encoding="utf-8"))
    found = []
    for path, operations in spec["paths"].items():
        parameters = operations.get("parameters", [])
        for method, operation in operations.items():
            if method != "parameters":
                found.append((method, path, {"parameters": parameters, **operation}))
    return found


def _concrete(path: str, integer: int = 1) -> str:
    """The path with a sample value for each parameter (integers where the path wants one)."""
    path = re.sub(r"\{(webhookId|faultId|deliveryId|orderId|id)\}", str(integer), path)
    path = path.replace("{kind}", "payments").replace("{installation}", "demo.genmystore.com")
    return re.sub(r"\{[^}]+\}", "x", path)


CONTROL = _operations("control")
PLATFORM = [op for op in _operations("platform") if op[2].get("security")]
WITH_INT_PATH = [
    op
    for name in ("platform", "control")
    for op in _operations(name)
    if any(p["in"] == "path" and p["schema"].get("type") == "integer" for p in op[2]["parameters"])
]


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    app = create_app(
        store_settings(data_dir=tmp_path_factory.mktemp("g") / "d", control_token="t0k")
    )
    app.test_client_class = ContractClient
    return app.test_client()


@pytest.mark.parametrize(("method", "path", "operation"), CONTROL, ids=lambda v: str(v)[:40])
def test_the_control_guard_answers_on_every_operation(client, guarded, method, path, operation):
    target = _concrete(path)
    foreign = client.open(target, method=method.upper(), headers={"Host": "evil.example"})
    assert foreign.status_code == 403
    no_token = guarded.open(target, method=method.upper(), json={})
    assert no_token.status_code == 401
    if method in CHANGES:
        plain = client.open(target, method=method.upper(), data="{}", content_type="text/plain")
        assert plain.status_code == 415


def _lacking(path: str) -> dict[str, str]:
    """A demo token without the scopes the operation needs."""
    return APP_TOKEN if path.startswith(("/orders/", "/api/202412/payment/")) else READ_TOKEN


def _having(path: str) -> dict[str, str]:
    if path.startswith(("/api/202412/app/", "/api/202412/oauth2/")):
        return APP_TOKEN
    return READ_TOKEN if path.startswith("/api/202412/payment/") else ADMIN_TOKEN


@pytest.mark.parametrize(("method", "path", "operation"), PLATFORM, ids=lambda v: str(v)[:40])
def test_tokens_and_the_rate_limit_answer_on_every_platform_operation(
    client, frozen, method, path, operation
):
    target = _concrete(path)
    body = {"pay": {"ready": "true"}} if "account_authorize" in path else _body_for(path)
    unknown = client.open(
        target, method=method.upper(), json=body, headers={"X-Genstore-Access-Token": "gst_nope"}
    )
    assert unknown.status_code == 401
    if "access_scopes" not in path:  # any valid token may ask which scopes it has
        lacking = client.open(target, method=method.upper(), json=body, headers=_lacking(path))
        assert lacking.status_code == 403, lacking.json
    token = _having(path)
    for _ in range(40):  # the demo shop's bucket: 40, refilled on the frozen clock (never)
        client.get("/api/202412/oauth2/access_scopes", headers=token)
    limited = client.open(target, method=method.upper(), json=body, headers=token)
    assert limited.status_code == 429
    assert "Retry-After" in limited.headers


def _body_for(path: str):
    match = re.match(r"/api/202412/app/(payment|pre_authorize|capture|void|refund)/", path)
    if match:
        return result_body(match.group(1), "x")
    if path.startswith("/api/202412/app/webhooks"):
        return {"webhook": {"address": "https://example.com/hooks", "topic": "orders/paid"}}
    return None


@pytest.mark.parametrize(("method", "path", "operation"), WITH_INT_PATH, ids=lambda v: str(v)[:40])
def test_an_id_beyond_what_the_store_keeps_is_a_400(client, method, path, operation):
    response = client.open(
        _concrete(path, LARGEST + 1),
        method=method.upper(),
        json={},
        headers={"X-Genstore-Access-Token": "gst_demo_app_write_payment"},
    )
    assert response.status_code == 400
    assert str(LARGEST) in response.json["error"]


@pytest.mark.parametrize(("kind", "object_id"), [("void", "VO0020261101000000004"),
                                                  ("refund", "RE0020261101000000005")])  # fmt: skip
def test_a_void_or_refund_result_cannot_change(client, kind, object_id):
    first = client.put(
        f"/api/202412/app/{kind}/{object_id}",
        json=result_body(kind, object_id, result=True),
        headers=APP_TOKEN,
    )
    assert first.status_code == 200
    other = client.put(
        f"/api/202412/app/{kind}/{object_id}",
        json=result_body(kind, object_id, result=False),
        headers=APP_TOKEN,
    )
    assert other.status_code == 409 and "cannot change" in other.json["error"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_sandbox/clock", {"shop": "ghost", "frozen": True}),
        ("/_sandbox/faults", {"shop": "ghost", "target": "platform", "kind": "drop"}),
    ],
)
def test_changes_for_an_unknown_shop_are_404(client, path, body):
    response = client.post(path, json=body)
    assert response.status_code == 404 and "ghost" in response.json["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/_sandbox/payments/PI0020261101000000001/history",
        "/_sandbox/payments/PI0020261101000000001/timeline",
        "/_sandbox/snapshots",
    ],
)
def test_an_unknown_query_parameter_of_the_control_api_is_a_400(client, path):
    response = client.get(path, query_string={"shopp": "demo"})
    assert response.status_code == 400 and "shopp" in response.json["details"]


def test_a_snapshot_with_other_state_machines_is_a_409(client):
    text = client.get("/_sandbox/snapshots", query_string={"shop": "demo"}).get_data(as_text=True)
    machines = (ROOT / "fixtures" / "state_machines.yaml").read_text(encoding="utf-8")
    other = machines.replace("query_after: 60s", "query_after: 5m", 1)
    assert other != machines
    response = client.post(
        "/_sandbox/snapshots",
        data=text + "\n" + other,
        headers={"Content-Type": "application/yaml"},
    )
    assert response.status_code == 409 and "state machines" in response.json["error"]


def test_an_app_without_urls_has_no_launch_url(client):
    registered = client.post(
        "/_sandbox/apps",
        json={"name": "headless", "urls": {}, "publicKey": _public_key()},
    )
    assert registered.status_code == 201
    response = client.get("/_sandbox/apps/headless/launch")
    assert response.status_code == 409 and "no launch URL" in response.json["error"]


def _public_key() -> str:
    spki = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return base64.b64encode(spki).decode()


def _query_names(operation: dict) -> set[str]:
    return {p["name"] for p in operation["parameters"] if p["in"] == "query"}


CONTROL_READS_WITH_QUERY = [op for op in CONTROL if op[0] == "get" and _query_names(op[2])]
SHOP_SCOPED = [
    op
    for op in CONTROL
    if "404" in op[2]["responses"] and "shop" in _query_names(op[2]) and op[0] == "get"
]


@pytest.mark.parametrize(
    ("method", "path", "operation"), CONTROL_READS_WITH_QUERY, ids=lambda v: str(v)[:40]
)
def test_every_control_read_refuses_an_unknown_query_parameter(client, method, path, operation):
    response = client.get(_concrete(path), query_string={"shopp": "demo"})
    assert response.status_code == 400 and "shopp" in response.json["details"]


@pytest.mark.parametrize(("method", "path", "operation"), SHOP_SCOPED, ids=lambda v: str(v)[:40])
def test_every_shop_scoped_control_read_names_an_unknown_shop(client, method, path, operation):
    target = _concrete(path).replace("/apps/x/", "/apps/sandbox-psp/")
    response = client.get(target, query_string={"shop": "ghost"})
    assert response.status_code == 404 and "ghost" in response.json["error"]


PAYMENT_APP = _operations("payment-app")


@pytest.mark.parametrize(("method", "path", "operation"), PAYMENT_APP, ids=lambda v: str(v)[:40])
def test_the_fake_app_answers_an_unknown_installation_and_a_bad_request(
    client, method, path, operation
):
    """The seed's own example request, sent to an installation nobody made, is a 404; a body
    that is not an object (or a query without its id) is a 400."""
    if method == "get":
        name = next(p["name"] for p in operation["parameters"] if p["in"] == "query")
        good, bad = {"query_string": {name: "x"}}, {"query_string": {}}
    else:
        example = operation["requestBody"]["content"]["application/json"]["example"]
        good, bad = {"json": example}, {"json": []}
    unknown = client.open(
        path.replace("{installation}", "ghost.example.com"), method=method.upper(), **good
    )
    assert unknown.status_code == 404 and "ghost.example.com" in unknown.json["error"]
    mine = path.replace("{installation}", "demo.genmystore.com")
    assert client.open(mine, method=method.upper(), **bad).status_code == 400


def test_deleting_an_unknown_webhook_is_a_404(client):
    response = client.delete("/api/202412/app/webhooks/424242", headers=APP_TOKEN)
    assert response.status_code == 404


PAYMENT = "PI0020261101000000001"


@pytest.mark.parametrize(
    ("path", "unknown_shop", "bad"),
    [
        ("/_sandbox/apps", {"shop": "ghost", "name": "a", "urls": {}}, {"name": 5}),
        ("/_sandbox/checkouts", {"shop": "ghost"}, {"amount": "lots"}),
        (f"/_sandbox/payments/{PAYMENT}/captures", {"shop": "ghost"}, {"bogus": 1}),
        (f"/_sandbox/payments/{PAYMENT}/voids", {"shop": "ghost"}, {"amount": "1.00"}),
        ("/_sandbox/session_tokens", {"shop": "ghost"}, {"userId": 0}),
    ],
)
def test_control_changes_name_an_unknown_shop_and_a_bad_field(client, path, unknown_shop, bad):
    if path == "/_sandbox/apps":
        unknown_shop = {**unknown_shop, "publicKey": _public_key()}
    missing = client.post(path, json=unknown_shop)
    assert missing.status_code == 404 and "ghost" in missing.json["error"]
    wrong = client.post(path, json=bad)
    assert wrong.status_code == 400 and set(bad) <= set(wrong.json["details"])


def test_redelivering_an_unknown_delivery_is_a_404(client):
    response = client.post("/_sandbox/deliveries/424242/redeliver", json={})
    assert response.status_code == 404


def test_updating_an_unknown_webhook_is_a_404(client):
    response = client.put(
        "/api/202412/app/webhooks/424242",
        json={"webhook": {"address": "https://example.com/hooks"}},
        headers=APP_TOKEN,
    )
    assert response.status_code == 404


def test_the_seed_example_offsite_payment_is_taken(client):
    [operation] = [op for m, p, op in PAYMENT_APP if p.endswith("/offsite_payments")]
    example = operation["requestBody"]["content"]["application/json"]["example"]
    response = client.post("/psp/i/demo.genmystore.com/offsite_payments", json=example)
    assert response.status_code == 200 and response.json["redirectUrl"]

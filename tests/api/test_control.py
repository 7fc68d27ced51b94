"""/_sandbox: health, shops, reset, clock, machines, manual events."""

import pytest

from tests.conftest import APP_TOKEN, READ_TOKEN
from tests.helpers import result_body, store_settings

PAYMENT = "PI0020261101000000002"


def test_health(client):
    response = client.get("/_sandbox/health")
    assert response.status_code == 200
    assert response.json["status"] == "ok" and response.json["shops"] == 1


def test_a_new_shop_is_isolated_with_its_own_tokens(client):
    response = client.post("/_sandbox/shops", json={})
    assert response.status_code == 201
    shop = response.json
    assert shop["handle"].startswith("demo-") and shop["template"] == "demo"
    tokens = {t["token"] for t in shop["tokens"]}
    assert not tokens & {"gst_demo_app_write_payment", "gst_demo_merchant_read"}
    assert shop["apps"][0]["clientSecret"] != "demo-client-secret-for-tests-only"
    app_token = {"X-Genstore-Access-Token": _token(shop, "write_payment")}
    read_token = {"X-Genstore-Access-Token": _token(shop, "read_payments_transaction")}

    # the same payment id exists in both shops; changing one leaves the other alone
    path = f"/api/202412/app/payment/{PAYMENT}"
    assert (
        client.put(path, json=result_body("payment", PAYMENT), headers=app_token).status_code == 200
    )
    assert _status(client, read_token) == "2"
    assert _status(client, READ_TOKEN) == "1"
    # and a token of one shop cannot reach the other's data by id: it sees its own shop
    assert (
        client.put(path, json=result_body("payment", PAYMENT, False), headers=APP_TOKEN).status_code
        == 200
    )
    assert _status(client, READ_TOKEN) == "9" and _status(client, read_token) == "2"


def test_shops_can_be_named_and_handles_are_unique(client):
    assert client.post("/_sandbox/shops", json={"handle": "ci-shard-1"}).status_code == 201
    response = client.post("/_sandbox/shops", json={"handle": "ci-shard-1"})
    assert response.status_code == 409 and response.json["details"] == {"handle": ["already taken"]}
    assert client.post("/_sandbox/shops", json={"template": "nope"}).status_code == 404
    assert client.post("/_sandbox/shops", json={"handle": "Bad Handle"}).status_code == 400
    handles = [s["handle"] for s in client.get("/_sandbox/shops").json["shops"]]
    assert handles == ["demo", "ci-shard-1"]


def test_reset_all_restores_the_fixtures_and_drops_created_shops(client):
    client.put(
        f"/api/202412/app/payment/{PAYMENT}",
        json=result_body("payment", PAYMENT),
        headers=APP_TOKEN,
    )
    client.post("/_sandbox/shops", json={"handle": "extra"})
    assert _status(client, READ_TOKEN) == "2"
    response = client.post("/_sandbox/reset", json={})
    assert response.json == {"reset": "all", "shops": ["demo"]}
    assert _status(client, READ_TOKEN) == "1"
    assert client.get("/_sandbox/shops/extra").status_code == 404


def test_reset_one_shop_keeps_its_tokens_and_leaves_others_alone(client):
    shop = client.post("/_sandbox/shops", json={"handle": "mine"}).json
    app_token = {"X-Genstore-Access-Token": _token(shop, "write_payment")}
    read_token = {"X-Genstore-Access-Token": _token(shop, "read_payments_transaction")}
    path = f"/api/202412/app/payment/{PAYMENT}"
    client.put(path, json=result_body("payment", PAYMENT), headers=app_token)
    client.put(path, json=result_body("payment", PAYMENT), headers=APP_TOKEN)
    assert client.post("/_sandbox/reset", json={"shop": "mine"}).json["reset"] == "mine"
    assert _status(client, read_token) == "1"  # same token still works, data restored
    assert _status(client, READ_TOKEN) == "2"  # the demo shop was not touched
    assert client.post("/_sandbox/reset", json={"shop": "ghost"}).status_code == 404


def test_clock_freeze_advance_set_unfreeze(client):
    frozen = client.post("/_sandbox/clock", json={"frozen": True}).json
    assert frozen["frozen"] is True
    assert client.get("/_sandbox/clock").json["now"] == frozen["now"]
    advanced = client.post("/_sandbox/clock", json={"advance": "1h"}).json
    assert _seconds_between(frozen["now"], advanced["now"]) == 3600
    at = client.post("/_sandbox/clock", json={"now": "2030-01-01T00:00:00Z"}).json
    assert at["now"].startswith("2030-01-01T00:00:00")
    running = client.post("/_sandbox/clock", json={"frozen": False}).json
    assert running["frozen"] is False and running["now"].startswith("2030-01-01")


def test_clock_refuses_bad_input_naming_the_field(client):
    response = client.post("/_sandbox/clock", json={"advance": "-1h"})
    assert response.status_code == 400 and "advance" in response.json["details"]
    response = client.post("/_sandbox/clock", json={"now": "tomorrow"})
    assert response.status_code == 400 and "now" in response.json["details"]


def test_reset_all_also_resets_the_clock(client):
    client.post("/_sandbox/clock", json={"frozen": True, "now": "2030-01-01T00:00:00Z"})
    client.post("/_sandbox/reset", json={})
    assert client.get("/_sandbox/clock").json["frozen"] is False


def test_machines_are_listed_with_guards(client):
    body = client.get("/_sandbox/machines").json
    assert body["machines"]["payment"]["initial"] == "created"
    assert "refund_full" in body["guards"]
    expire = [t for t in body["machines"]["payment"]["transitions"] if t["event"] == "expire"]
    assert expire[0]["timeout"] == 172800


def test_fire_an_event_by_hand(client):
    response = client.post(f"/_sandbox/payments/{PAYMENT}/events", json={"event": "fail"})
    assert response.json == {"kind": "payment", "id": PAYMENT, "state": "failed"}
    response = client.post("/_sandbox/voids/VO0020261101000000004/events", json={"event": "fail"})
    assert response.json["state"] == "failed"
    response = client.post(f"/_sandbox/payments/{PAYMENT}/events", json={"event": "fail"})
    assert response.status_code == 409
    response = client.post("/_sandbox/payments/NOPE/events", json={"event": "fail"})
    assert response.status_code == 404
    response = client.post(
        f"/_sandbox/payments/{PAYMENT}/events?shop=ghost", json={"event": "fail"}
    )
    assert response.status_code == 404 and "ghost" in response.json["error"]


def test_payment_detail_shows_money_and_operations(client):
    detail = client.get("/_sandbox/payments/PI0020261101000000005").json
    assert (detail["state"], detail["capturedAmount"], detail["refundedAmount"]) == (
        "paid",
        "60.00",
        "0.00",
    )
    assert [(o["kind"], o["state"], o["amount"]) for o in detail["operations"]] == [
        ("refund", "pending", "20.00"),
        ("refund", "pending", "40.00"),
    ]


def _token(shop, scope):
    return next(t["token"] for t in shop["tokens"] if scope in t["scopes"])


def _status(client, headers):
    return client.get(f"/api/202412/payment/{PAYMENT}", headers=headers).json["payment"]["status"]


def _seconds_between(a, b):
    from datetime import datetime

    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()


@pytest.mark.parametrize(
    "body",
    [
        {"frozen": True, "now": "0001-01-01T00:00:00+00:00"},
        {"now": "9999-12-31T23:59:59+00:00"},
        {"advance": 1e17},
        {"advance": 1e308},
        {"advance": "Infinity"},
        {"advance": "99999999999999999d"},
    ],
)
def test_times_the_clock_cannot_keep_are_400(client, body):
    response = client.post("/_sandbox/clock", json=body)
    assert response.status_code == 400, response.json
    assert set(response.json["details"]) <= {"now", "advance"}
    assert client.get("/_sandbox/health").status_code == 200


def test_an_unreadable_stored_clock_does_not_brick_the_store(tmp_path):
    from sandbox.app import create_app
    from sandbox.store.db import open_database

    settings = store_settings(data_dir=tmp_path / "data")
    create_app(settings)
    with open_database(settings.store_location).write() as conn:  # as an older version wrote
        conn.execute(
            "INSERT INTO clock (shop_id, frozen_at, offset_seconds) "
            "VALUES (0, '1-01-01T00:00:00.000000+00:00', 0) "
            "ON CONFLICT (shop_id) DO UPDATE SET frozen_at = excluded.frozen_at"
        )
    client = create_app(settings).test_client()
    assert client.get("/_sandbox/health").status_code == 200
    assert client.post("/_sandbox/reset", json={}).status_code == 200


@pytest.mark.parametrize("bomb", ["[" * 50000, "{a: " * 200 + "1" + "}" * 200, " " * 500 + "a: 1"])
def test_a_nesting_bomb_is_refused_before_parsing(client, bomb):
    response = client.post(
        "/_sandbox/snapshots", data=bomb, headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 400 and "nested" in response.json["error"]


def test_the_payment_list_shows_the_newest_first_with_app_and_violations(client):
    listed = client.get("/_sandbox/payments").json["payments"]
    assert len(listed) == 15  # the demo shop's fixture payments
    assert "sandbox-psp" in {p["app"] for p in listed}
    assert all(p["violations"] == 0 for p in listed)
    made = client.post("/_sandbox/checkouts", json={"amount": "12.50"})
    assert made.status_code == 201, made.json
    newest = client.get("/_sandbox/payments", query_string={"limit": 2}).json["payments"]
    assert len(newest) == 2
    assert newest[0]["paymentId"] == made.json["paymentId"]
    assert newest[0]["amount"] == "12.50" and newest[0]["state"] == "created"
    assert newest[0]["createdAt"] >= newest[1]["createdAt"]


def test_the_payment_list_refuses_an_unknown_shop_and_a_bad_limit(client):
    assert client.get("/_sandbox/payments", query_string={"shop": "ghost"}).status_code == 404
    refused = client.get("/_sandbox/payments", query_string={"limit": 0})
    assert refused.status_code == 400 and "limit" in refused.json["details"]


def test_a_key_given_twice_in_a_snapshot_or_fixture_is_refused_with_its_line(client, tmp_path):
    from sandbox.core.fixtures import FixtureError, load_fixtures

    snapshot = "shops:\n  - handle: twice\n    currency: USD\n    currency: EUR\n"
    answer = client.post(
        "/_sandbox/snapshots", data=snapshot, headers={"Content-Type": "application/yaml"}
    )
    assert answer.status_code == 400, answer.json
    assert "line 4" in answer.json["error"] and "'currency' is given twice" in answer.json["error"]
    assert client.get("/_sandbox/shops/twice").status_code == 404  # nothing half-written
    fixture = tmp_path / "shop.yaml"
    fixture.write_text(snapshot)
    with pytest.raises(FixtureError, match=r"line 4\): not valid YAML: the key 'currency'"):
        load_fixtures(fixture)

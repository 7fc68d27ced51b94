"""Snapshots: a state reached by hand becomes a fixture, and the round trip loses nothing."""

import requests
import yaml

from sandbox.testing.live import LiveSandbox


def build_state(driver):
    paid = driver.checkout(card="4242424242424242", amount="30.00")
    manual = driver.checkout(amount="80.00", manualCapture=True)
    declined = driver.checkout(magic="insufficient_funds")
    driver.drain()
    driver.operation(manual, "capture", amount="50.00")
    driver.drain()
    driver.operation(manual, "refund", amount="20.00")
    driver.drain()
    requests.post(
        f"{driver.url}/api/202412/app/webhooks",
        timeout=10,
        headers=driver.shop.headers("write_apps"),
        json={"webhook": {"address": "http://127.0.0.1:9/hooks", "topic": "orders/paid"}},
    )
    return paid, manual, declined


def test_export_import_export_is_identical_and_behaves_the_same(driver, tmp_path):
    paid, manual, declined = build_state(driver)
    exported = driver.sandbox.control("GET", "/snapshots", params={"shop": driver.shop.handle})
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith(
        "application/yaml"
    )
    document = yaml.safe_load(exported.text)
    [shop] = document["shops"]
    assert shop["handle"] == driver.shop.handle
    at_app = {p["payment_id"] for p in document["psp"]["payments"]}
    assert {paid, manual, declined} <= at_app  # and the demo payments the fake app knows
    assert "PI0020261101000000001" in at_app
    assert "4242424242424242" not in exported.text

    with LiveSandbox(data_dir=tmp_path / "other", workers=1) as other:
        imported = other.control(
            "POST",
            "/snapshots",
            data=exported.text.encode(),
            headers={"Content-Type": "application/yaml"},
        )
        assert imported.json() == {
            "imported": [driver.shop.handle],
            "mode": "merge",
            "logs": "keep",
            "logsKept": [],  # a shop new to this sandbox has no logs here
            "cancelledMessages": 0,
        }
        again = other.control("GET", "/snapshots", params={"shop": driver.shop.handle})
        assert again.text == exported.text
        read = driver.shop.headers("read_payments_transaction")
        for payment_id in (paid, manual, declined):
            there = requests.get(
                f"{other.url}/api/202412/payment/{payment_id}", headers=read, timeout=10
            ).json()
            here = driver.status(payment_id)
            assert there == {"payment": here}
        # the first result stays final after the trip
        late = requests.put(
            f"{other.url}/api/202412/app/payment/{declined}",
            timeout=10,
            headers=driver.shop.headers("write_payment"),
            json={"pay": {"result": True, "paymentId": declined, "channelPaymentId": "x"}},
        )
        assert late.status_code == 409
        # the fake app's own records came along: a further refund works on the imported side
        # On the exporting sandbox's time: the records were decided on its clock.
        now = driver.now()
        other.control("POST", "/clock", json={"frozen": True, "now": now})
        refund = other.control(
            "POST",
            f"/payments/{manual}/refunds",
            json={"shop": driver.shop.handle, "amount": "30.00"},
        )
        assert refund.status_code == 201
        other.control("POST", "/outbox/drain")
        detail = other.control("GET", f"/payments/{manual}", params={"shop": driver.shop.handle})
        assert detail.json()["state"] == "refunded"
        hooks = requests.get(
            f"{other.url}/api/202412/app/webhooks/count",
            timeout=10,
            headers=driver.shop.headers("write_apps"),
        )
        assert hooks.json() == {"count": 1}


def test_a_snapshot_is_a_fixture_file(driver, tmp_path):
    build_state(driver)
    text = driver.sandbox.control("GET", "/snapshots", params={"shop": driver.shop.handle}).text
    (tmp_path / "snapshot.yaml").write_text(text)
    with LiveSandbox(
        data_dir=tmp_path / "data", workers=1, fixtures=tmp_path / "snapshot.yaml"
    ) as other:
        again = other.control("GET", "/snapshots", params={"shop": driver.shop.handle})
        assert again.text == text


YAML = {"Content-Type": "application/yaml"}


def test_replace_mode_and_bad_snapshots(driver, tmp_path):
    text = driver.sandbox.control("GET", "/snapshots", params={"shop": driver.shop.handle}).text
    with LiveSandbox(data_dir=tmp_path, workers=1) as other:
        result = other.control(
            "POST", "/snapshots", params={"mode": "replace"}, data=text.encode(), headers=YAML
        )
        assert result.status_code == 200
        handles = [s["handle"] for s in other.control("GET", "/shops").json()["shops"]]
        assert handles == [driver.shop.handle]  # the demo shop went with "replace"
        broken = other.control(
            "POST", "/snapshots", data=b"shops:\n  - handle: x\n    colour: red\n", headers=YAML
        )
        assert broken.status_code == 400 and "colour" in broken.json()["error"]
        assert other.control("POST", "/snapshots", data=b"{", headers=YAML).status_code == 400
        unmarked = other.control("POST", "/snapshots", data=text.encode())  # curl's form type
        assert unmarked.status_code == 415 and "application/yaml" in unmarked.json()["error"]
        assert other.control("GET", "/snapshots", params={"shop": "ghost"}).status_code == 404


def _import_back(driver, text: str, logs: str | None = None) -> dict:
    params = {"logs": logs} if logs else {}
    response = driver.sandbox.control(
        "POST", "/snapshots", params=params, data=text.encode(), headers=YAML
    )
    assert response.status_code == 200, response.text
    # The shop's own clock is not part of a snapshot: freeze it again where it stood.
    driver.sandbox.control(
        "POST", "/clock", json={"shop": driver.shop.handle, "frozen": True, "now": driver.now()}
    )
    return response.json()


def _journal_count(driver, payment_id: str) -> int:
    params = {"shop": driver.shop.handle, "paymentId": payment_id}
    return driver.sandbox.control("GET", "/journal/count", params=params).json()["count"]


def _history(driver, payment_id: str) -> list[dict]:
    params = {"shop": driver.shop.handle}
    response = driver.sandbox.control("GET", f"/payments/{payment_id}/history", params=params)
    assert response.ok, response.text
    return response.json()["history"]


def test_importing_over_a_shop_keeps_its_logs_and_cancels_what_was_not_sent(driver):
    """The journal, history and outbox of a shop a snapshot replaces carry over by default;
    what was still to be sent belonged to the replaced state, so it is cancelled, not sent
    into the restored one."""
    paid = driver.checkout()
    driver.drain()
    text = driver.sandbox.control("GET", "/snapshots", params={"shop": driver.shop.handle}).text
    later = driver.checkout(magic="delayed_result")  # its result is due in 30 s
    driver.drain()
    journaled, history = _journal_count(driver, paid), _history(driver, paid)
    assert journaled > 0 and history

    result = _import_back(driver, text)
    assert result["logs"] == "keep" and result["logsKept"] == [driver.shop.handle]
    assert result["cancelledMessages"] >= 1  # the delayed result, and its status query
    assert _journal_count(driver, paid) == journaled
    # The history is exactly what it was: no second, seeded entry for what it already told
    # (issue 20.9), for the live payment and for a fixture payment alike.
    assert _history(driver, paid) == history
    listed = driver.sandbox.control("GET", "/payments", params={"shop": driver.shop.handle})
    fixture_payment = next(
        p["paymentId"] for p in listed.json()["payments"] if p["paymentId"] != paid
    )
    before = _history(driver, fixture_payment)
    _import_back(driver, driver.sandbox.control(
        "GET", "/snapshots", params={"shop": driver.shop.handle}).text)  # fmt: skip
    assert _history(driver, fixture_payment) == before and len(before) == len(
        {(h["kind"], h["id"], h["event"], h["to"]) for h in before}
    )
    assert driver.detail(paid)["state"] == "paid"
    driver.advance("2m")
    assert _journal_count(driver, later) > 0  # what happened to it is still on record ...
    gone = driver.sandbox.control("GET", f"/payments/{later}", params={"shop": driver.shop.handle})
    assert gone.status_code == 404  # ... but the restored state never had it, nor gets it
    cancelled = driver.sandbox.control(
        "GET", "/outbox", params={"shop": driver.shop.handle, "paymentId": later}
    ).json()["messages"]
    assert cancelled and {m["state"] for m in cancelled} <= {"cancelled", "delivered"}


def test_importing_with_logs_drop_starts_the_shop_afresh(driver):
    paid = driver.checkout()
    driver.drain()
    text = driver.sandbox.control("GET", "/snapshots", params={"shop": driver.shop.handle}).text
    result = _import_back(driver, text, logs="drop")
    assert result["logs"] == "drop" and result["logsKept"] == []
    assert _journal_count(driver, paid) == 0
    assert driver.detail(paid)["state"] == "paid"  # the state itself came back
    bad = driver.sandbox.control(
        "POST", "/snapshots", params={"logs": "maybe"}, data=text.encode(), headers=YAML
    )
    assert bad.status_code == 400 and "logs" in bad.json()["details"]

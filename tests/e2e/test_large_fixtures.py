"""Large fixtures: generated, loaded once by ``serve``, kept in the store, reset from there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.core.fixtures import load_fixtures
from sandbox.core.generate import payment_id
from sandbox.settings import default_fixtures_dir
from sandbox.testing.live import LiveSandbox

pytestmark = pytest.mark.e2e
READ = {"X-Genstore-Access-Token": "gst_load_merchant_read"}


def generate(out: Path, payments: int, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "sandbox", "fixtures", "generate"]
    return subprocess.run(
        [*command, "--payments", str(payments), "--out", str(out), *extra],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_generated_yaml_and_json_are_the_same_fixtures(tmp_path):
    for name in ("big.yaml", "big.json"):
        result = generate(tmp_path / name, 40)
        assert result.returncode == 0, result.stderr
        assert "40 payments in shop load" in result.stdout
    as_yaml = load_fixtures(tmp_path / "big.yaml", default_fixtures_dir())
    as_json = load_fixtures(tmp_path / "big.json", default_fixtures_dir())
    assert as_yaml.shops == as_json.shops
    assert len(as_json.shops[0]["orders"]) == 40
    states = {o["payments"][0]["state"] for o in as_json.shops[0]["orders"]}
    assert states == {"paid", "failed", "expired", "authorized"}
    assert generate(tmp_path / "waiting.json", 10, "--waiting", "3").returncode == 0
    waiting = load_fixtures(tmp_path / "waiting.json", default_fixtures_dir())
    states_in_order = [o["payments"][0]["state"] for o in waiting.shops[0]["orders"]]
    assert states_in_order[7:] == ["created"] * 3 and "created" not in states_in_order[:7]
    again = generate(tmp_path / "again.json", 40)
    assert again.returncode == 0
    assert (tmp_path / "again.json").read_bytes() == (tmp_path / "big.json").read_bytes()


def test_generate_refuses_what_it_cannot_write(tmp_path):
    negative = generate(tmp_path / "x.json", -1)
    assert negative.returncode == 2 and "--payments must be 0 or more" in negative.stderr
    too_many = generate(tmp_path / "x.json", 3, "--waiting", "4")
    assert too_many.returncode == 2 and "--waiting between 0 and it" in too_many.stderr
    nowhere = generate(tmp_path / "missing" / "x.json", 3)
    assert nowhere.returncode == 1 and "cannot write" in nowhere.stderr


def test_serve_resets_a_large_shop_from_the_store(tmp_path):
    """The workers never parse the fixtures: a reset and a new shop read the shop's orders
    back from the store, and get every payment as the fixture declares it."""
    fixture = tmp_path / "load.json"
    assert generate(fixture, 300, "--waiting", "10").returncode == 0
    paid, waiting = payment_id(0), payment_id(295)
    with LiveSandbox(data_dir=tmp_path / "data", fixtures=fixture, workers=2) as sandbox:
        last = sandbox.http.get(f"{sandbox.url}/api/202412/payment/{payment_id(299)}", headers=READ)
        assert last.status_code == 200 and last.json()["payment"]["outOrderNo"] == "G100299"
        refund = sandbox.control(
            "POST", f"/payments/{paid}/refunds", json={"shop": "load", "amount": "1.00"}
        )
        assert refund.status_code == 201, refund.text
        result = {"paymentId": waiting, "result": "true", "channelPaymentId": "ch_w"}
        called = sandbox.http.put(
            f"{sandbox.url}/api/202412/app/payment/{waiting}",
            json={"pay": result},
            headers={"X-Genstore-Access-Token": "gst_load_app_write_payment"},
        )
        assert called.status_code == 200, called.text
        state = sandbox.control("GET", f"/payments/{waiting}", params={"shop": "load"})
        assert state.json()["state"] == "paid"
        detail = sandbox.control("GET", f"/payments/{paid}", params={"shop": "load"}).json()
        assert [o["kind"] for o in detail["operations"]] == ["refund"]
        reset = sandbox.control("POST", "/reset", json={"shop": "load"})
        assert reset.status_code == 200, reset.text
        detail = sandbox.control("GET", f"/payments/{paid}", params={"shop": "load"}).json()
        assert detail["operations"] == [] and detail["state"] == "paid"
        state = sandbox.control("GET", f"/payments/{waiting}", params={"shop": "load"})
        assert state.json()["state"] == "created"
        created = sandbox.control("POST", "/shops", json={"template": "load", "handle": "copy"})
        assert created.status_code == 201, created.text
        copied = sandbox.control("GET", f"/payments/{waiting}", params={"shop": "copy"})
        assert copied.status_code == 200 and copied.json()["state"] == "created"
        assert sandbox.control("POST", "/reset", json={}).status_code == 200
        shops = [s["handle"] for s in sandbox.control("GET", "/shops").json()["shops"]]
        assert shops == ["load"]
        again = sandbox.control("GET", f"/payments/{payment_id(299)}", params={"shop": "load"})
        assert again.status_code == 200


def test_a_changed_fixture_is_loaded_again_and_an_unchanged_one_is_not_parsed(tmp_path):
    fixture = tmp_path / "load.json"
    assert generate(fixture, 5).returncode == 0
    data = tmp_path / "data"
    with LiveSandbox(data_dir=data, fixtures=fixture, workers=1) as first:
        assert "5 payments, 17 magic values; loaded from the files)" in "".join(first.output)
    with LiveSandbox(data_dir=data, fixtures=fixture, workers=1) as second:
        assert "unchanged since the last start: not parsed" in "".join(second.output)
    # A changed file is parsed and checked again.
    text = fixture.read_text()
    fixture.write_text(text.replace('"amount": "10.00"', '"amount": "77.00"'))
    with LiveSandbox(data_dir=data, fixtures=fixture, workers=1) as sandbox:
        before = sandbox.control("GET", f"/payments/{payment_id(0)}", params={"shop": "load"})
        assert before.json()["amount"] == "10.00"  # the store was seeded from the old file
        assert sandbox.control("POST", "/reset", json={"shop": "load"}).status_code == 200
        after = sandbox.control("GET", f"/payments/{payment_id(0)}", params={"shop": "load"})
        assert after.json()["amount"] == "77.00"
    fixture.write_text(text.replace('"state": "paid"', '"state": "no-such-state"', 1))
    broken = subprocess.run(
        [sys.executable, "-m", "sandbox", "serve", "--port", "0", "--data-dir", str(data),
         "--fixtures", str(fixture)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert broken.returncode == 1
    assert "the fixtures are invalid" in broken.stderr and "no-such-state" in broken.stderr

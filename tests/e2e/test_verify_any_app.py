"""``verify`` takes an app as Genstore registers one and judges it only on what the seeds
require; the CLI waits for an app that calls back on its own."""

from __future__ import annotations

import json
import re
import socket
import xml.etree.ElementTree as ET

import yaml

from sandbox.conformance import runner
from tests.e2e.app_under_test import AppUnderTest
from tests.e2e.test_cli import run

# The seed-strict app serves its calls where it likes, not under one prefix.
OWN_PATHS = {
    "payment": "/gs/pay",
    "offsite_payment": "/gs/redirect-pay",
    "capture": "/gs/ops/capture",
    "void": "/gs/ops/cancel",
    "refund": "/gs/ops/refund",
    "get_payment": "/gs/payment-status",
    "get_refund": "/gs/refund-status",
}


def test_a_seed_strict_app_with_its_own_paths_passes_twice_with_warnings(live, tmp_path):
    """Authorizations through PUT /app/payment, declines without a reason, account_authorize
    after its first payment, status queries in a JSON body: exit 0, the advice as warnings;
    and the same config (the same access token) a second time in a row."""
    token = "tok-seed-strict-app"
    with AppUnderTest(live.url, token, seed_strict=True, paths=OWN_PATHS) as app:
        config = tmp_path / "app.yaml"
        (tmp_path / "key.b64").write_text(app.public_key + "\n")
        config.write_text(yaml.safe_dump({**app.config("my-app"), "publicKey": "@key.b64"}))
        # Every case, then (the same token, the next shop) the cases with advice again.
        for attempt, only in (
            (1, []),
            (2, ["--only", "authorize_then_full_capture,decline_with_a_reason"]),
        ):
            report = tmp_path / f"verify-{attempt}.xml"
            result = run(
                "verify", "--url", live.url, "--app-config", str(config),
                "--junit-xml", str(report), "--timeout", "5", *only,
            )  # fmt: skip
            assert result.returncode == 0, f"run {attempt}:\n{result.stdout}{result.stderr}"
            assert re.search(r"\d+ passed, 0 failed, 0 skipped, [1-9]\d* warnings", result.stdout)
            warnings = "\n".join(
                p.get("value", "")
                for p in ET.parse(report).getroot().iter("property")
                if p.get("name") == "warning"
            )
            assert "not PUT /app/pre_authorize" in warnings
            assert "gave no reason" in warnings
        assert "moved to this run's shop" in result.stderr  # the token left run 1's shop
        # The platform asked the app in the form it registered: a JSON body on its own path.
        asked = live.control("GET", "/journal", params={"kind": "app.get_payment", "limit": 5})
        entries = [e for e in asked.json()["entries"] if "/gs/payment-status" in e["url"]]
        assert entries and entries[0]["requestBody"].get("paymentId")
        assert "?" not in entries[0]["url"]
        strict = run(
            "verify", "--url", live.url, "--app-config", str(config), "--strict",
            "--only", "decline_with_a_reason[minimal]", "--timeout", "5",
        )  # fmt: skip
        assert strict.returncode == 1, strict.stdout
        assert "FAIL  decline_with_a_reason[minimal]: advice (--strict)" in strict.stdout


def test_an_app_already_registered_in_a_shop(live):
    """--shop H --app NAME: the app a user registered with POST /_sandbox/apps, in its shop."""
    shop = live.new_shop()
    with AppUnderTest(live.url, "tok-registered-before") as app:
        registered = live.control(
            "POST", "/apps", json={**app.config("mine"), "shop": shop.handle, "activated": True}
        )
        assert registered.status_code == 201, registered.text
        result = run(
            "verify", "--url", live.url, "--shop", shop.handle, "--app", "mine",
            "--only", "full_refund,card_payment_automatic_capture", "--json",
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    cases = json.loads(result.stdout)["cases"]
    assert [c["result"] for c in cases] == ["pass"] * 3
    missing = run("verify", "--url", live.url, "--shop", shop.handle, "--app", "nope")
    assert missing.returncode == 2 and "has no app 'nope' (apps: " in missing.stderr
    bad = run("verify", "--url", live.url, "--shop", "no-such-shop")
    assert bad.returncode == 2 and "has no shop 'no-such-shop'" in bad.stderr


def test_an_unreachable_app_fails_fast_with_the_diagnosis(live, tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with AppUnderTest(live.url, "tok-unreachable") as app:
        config = {**app.config("gone"), "urls": {k: dead + p for k, p in OWN_PATHS.items()}}
    path = tmp_path / "app.json"
    path.write_text(json.dumps(config))
    result = run("verify", "--url", live.url, "--app-config", str(path), "--json")
    assert result.returncode == 1
    cases = json.loads(result.stdout)["cases"]
    assert cases[0]["result"] == "fail"
    assert cases[0]["reason"].startswith("the app cannot be reached: POST " + dead)
    assert {c["result"] for c in cases[1:]} == {"skip"}
    assert cases[1]["reason"].startswith("not run: the app cannot be reached")


def test_app_config_errors_are_usage_errors(tmp_path):
    missing = run("verify", "--app-config", str(tmp_path / "none.yaml"))
    assert missing.returncode == 2 and "cannot read the app config" in missing.stderr
    (tmp_path / "bad.yaml").write_text("name: x\n")
    bad = run("verify", "--app-config", str(tmp_path / "bad.yaml"))
    assert bad.returncode == 2 and "must be a mapping with urls" in bad.stderr
    both = run("verify", "--app-config", "a.yaml", "--app-url", "http://x")
    assert both.returncode == 2 and "not both" in both.stderr


def test_the_cli_checkout_waits_for_an_app_that_calls_back_later(live):
    """A status query scheduled a minute on is not a result on its way: the CLI waits for the
    app's own callback."""
    shop = live.new_shop()
    with AppUnderTest(live.url, "tok-calls-back-later", callback_delay=1.5) as app:
        live.control(
            "POST", "/apps", json={**app.config("later"), "shop": shop.handle, "activated": True}
        ).raise_for_status()
        result = run(
            "checkout", "--url", live.url, "--shop", shop.handle, "--app", "later",
            "--wait", "20",
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Final state: paid" in result.stdout


def test_coverage_threshold_and_unknown_shop(live):
    shop = live.new_shop()
    low = run("coverage", "--url", live.url, "--shop", shop.handle, "--min", "10")
    assert low.returncode == 1 and "below --min 10%" in low.stderr
    assert "Contract coverage: 0% (0 of " in low.stdout
    unknown = run("coverage", "--url", live.url, "--shop", "nope")
    assert unknown.returncode == 1 and "404" in unknown.stderr
    assert runner.select(["full_refund"])[0].name == "full_refund"

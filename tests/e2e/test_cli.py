"""The console script as a user runs it."""

import subprocess
import sys

import pytest

from tests.conftest import FIXTURES


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args], capture_output=True, text=True, timeout=60
    )


def test_fixtures_check_accepts_the_defaults():
    result = run("fixtures", "check", str(FIXTURES))
    assert result.returncode == 0
    assert "OK" in result.stdout and "4 state machines" in result.stdout


def test_fixtures_check_names_file_key_and_line(tmp_path):
    broken = tmp_path / "shop.yaml"
    broken.write_text(
        "shops:\n  - handle: x\n    orders:\n      - id: 1\n        payments:\n"
        "          - {payment_id: P, amount: '1.00', state: payed}\n"
    )
    result = run("fixtures", "check", str(broken))
    assert result.returncode == 1
    assert f"{broken}: shops[0].orders[0].payments[0].state (line 6)" in result.stderr
    assert "unknown payment state 'payed'" in result.stderr


def test_serve_refuses_broken_fixtures_with_a_clear_message(tmp_path):
    broken = tmp_path / "shop.yaml"
    broken.write_text("shops: [{handle: x, fee_rule: missing}]\n")
    result = run(
        "serve", "--port", "0", "--data-dir", str(tmp_path / "d"), "--fixtures", str(broken)
    )
    assert result.returncode == 1
    assert "unknown fee rule 'missing'" in result.stderr
    assert "Traceback" not in result.stderr


def test_spec_writes_the_documents(tmp_path):
    result = run("spec", "--out", str(tmp_path))
    assert result.returncode == 0
    assert (tmp_path / "platform.yaml").read_text().startswith("info:")
    assert (tmp_path / "control.yaml").exists()


def test_help_and_version():
    assert "serve" in run("--help").stdout
    assert run("--version").stdout.startswith("genstore-sandbox ")
    assert run().returncode == 2


def test_serve_says_clearly_when_the_port_is_taken(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--port", str(port), "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr


def test_checkout_verb_prints_the_timeline_and_ends_paid(live):
    import requests

    shop = live.new_shop()
    result = run(
        "checkout",
        "--card",
        "4242424242424242",
        "--amount",
        "25.00",
        "--url",
        live.url,
        "--shop",
        shop.handle,
    )
    assert result.returncode == 0, result.stderr
    assert "Final state: paid (transaction status 2" in result.stdout
    assert "POST " in result.stdout and "/payments -> 200" in result.stdout
    assert "4242424242424242" not in result.stdout and "····4242" in result.stdout
    payment_id = result.stdout.split()[1]
    body = requests.get(
        f"{live.url}/api/202412/payment/{payment_id}",
        headers=shop.headers("read_payments_transaction"),
        timeout=10,
    ).json()
    assert body["payment"]["status"] == "2"


def test_capture_void_refund_verbs(live):
    import json

    shop = live.new_shop()
    common = ("--url", live.url, "--shop", shop.handle)
    started = run("checkout", "--manual-capture", "--amount", "80.00", "--json", *common)
    payment_id = json.loads(started.stdout)["payment"]["paymentId"]
    assert json.loads(started.stdout)["payment"]["state"] == "authorized"
    captured = run("capture", payment_id, "--amount", "50.00", *common)
    assert "Final state: paid" in captured.stdout and "captured 50.00" in captured.stdout
    refunded = run("refund", payment_id, "--amount", "10.00", *common)
    assert "Final state: partially_refunded" in refunded.stdout
    voided = run("void", payment_id, *common)
    assert voided.returncode == 1 and "only an authorized payment can be voided" in voided.stderr


def test_client_verbs_explain_an_unreachable_sandbox():
    result = run("checkout", "--url", "http://127.0.0.1:9")
    assert result.returncode == 1 and "cannot reach the sandbox" in result.stderr


def test_control_verbs(tmp_path):
    import json as jsonlib

    from sandbox.testing.live import LiveSandbox

    with LiveSandbox(data_dir=tmp_path / "data", workers=1) as sandbox:
        url = ("--url", sandbox.url)
        frozen = run("clock", "--freeze", "--set", "2030-01-01T00:00:00Z", *url)
        assert frozen.stdout.strip() == "2030-01-01T00:00:00.000000+00:00 (frozen)"
        advanced = jsonlib.loads(run("clock", "--advance", "1h", "--json", *url).stdout)
        assert advanced["now"].startswith("2030-01-01T01:00:00")

        armed = run("faults", "arm", "--target", "app.payment", "--kind", "status", *url)
        assert armed.returncode == 0 and "armed fault #1" in armed.stdout
        assert "#1 status on app.payment: fired 0" in run("faults", *url).stdout
        run("checkout", "--wait", "2", *url)
        assert "fired 1" in run("faults", "list", *url).stdout
        assert run("faults", "clear", *url).stdout.strip() == "cleared 1"

        listing = run("journal", "--direction", "outbound", "--limit", "5", *url)
        assert "-> POST" in listing.stdout and "[status (fault 1)]" in listing.stdout
        count = run("journal", "--count", "--kind", "app.payment", *url)
        assert count.stdout.strip() == "1"

        exported = run("snapshot", "export", str(tmp_path / "snap.yaml"), "--shop", "demo", *url)
        assert exported.returncode == 0 and (tmp_path / "snap.yaml").read_text().startswith("#")
        imported = run("snapshot", "import", str(tmp_path / "snap.yaml"), *url).stdout
        assert "imported demo (merge); logs keep (demo)" in imported
        dropped = run("snapshot", "import", str(tmp_path / "snap.yaml"), "--logs", "drop", *url)
        assert "logs drop (none replaced)" in dropped.stdout
        assert run("journal", "--count", "--kind", "app.payment", *url).stdout.strip() == "0"

        assert run("deliveries", *url).stdout.strip() == "(no deliveries)"
        assert run("deliveries", "redeliver", "999", *url).returncode == 1
        launch = run("launch-url", *url).stdout.strip()
        assert "/psp/launch?shop=demo.genmystore.com" in launch and "hmac=" in launch
        assert "reset all: demo" in run("reset", *url).stdout
        assert "(running)" in run("clock", *url).stdout


def test_client_verbs_exit_non_zero_unless_the_payment_ends_where_asked(live):
    shop = live.new_shop()
    common = ("--url", live.url, "--shop", shop.handle)
    declined = run("checkout", "--card", "4000000000000002", *common)
    assert declined.returncode == 3
    assert "ended failed, expected paid" in declined.stderr
    expected = run("checkout", "--card", "4000000000000002", "--expect", "failed", *common)
    assert expected.returncode == 0, expected.stderr
    authorized = run("checkout", "--manual-capture", "--json", *common)
    assert authorized.returncode == 0
    waiting = run("checkout", "--card", "4000002760003184", "--timeout", "1", *common)
    assert waiting.returncode == 4 and "still created after 1s" in waiting.stderr
    refused = run("void", "PI0020261101000000001", *common)
    assert refused.returncode == 1
    import json

    payment_id = json.loads(authorized.stdout)["payment"]["paymentId"]
    captured = run("capture", payment_id, "--expect", "succeeded", *common)
    assert captured.returncode == 0, captured.stderr
    usage = run("capture", *common)
    assert usage.returncode == 2


@pytest.mark.sqlite_only  # instances share a PostgreSQL store on purpose
def test_a_second_sandbox_on_a_store_in_use_refuses_to_start(tmp_path):
    from sandbox.testing.live import LiveSandbox

    with LiveSandbox(data_dir=tmp_path / "data", workers=1) as first:
        second = run("serve", "--port", "0", "--data-dir", str(tmp_path / "data"), "--reset")
        assert second.returncode == 1
        assert "in use by another sandbox" in second.stderr and first.url in second.stderr
        assert first.control("GET", "/health").ok  # and its state was not reset


@pytest.mark.sqlite_only
def test_the_same_store_under_another_name_is_refused_too(tmp_path):
    """A hard link or a symbolic link to the live SQLite file is the same store."""
    import os

    from sandbox.testing.live import LiveSandbox

    with LiveSandbox(data_dir=tmp_path / "data", workers=1) as first:
        live_file = tmp_path / "data" / "sandbox.sqlite3"
        os.link(live_file, tmp_path / "hard.sqlite3")
        (tmp_path / "soft.sqlite3").symlink_to(live_file)
        for name in ("hard.sqlite3", "soft.sqlite3"):
            second = run(
                "serve", "--port", "0", "--data-dir", str(tmp_path / "other"),
                "--database", str(tmp_path / name), "--reset",
            )  # fmt: skip
            assert second.returncode == 1, (name, second.stdout, second.stderr)
            assert "in use by another sandbox" in second.stderr, second.stderr
        assert first.control("GET", "/health").ok  # and its state was not reset

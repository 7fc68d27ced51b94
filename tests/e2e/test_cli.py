"""The console script as a user runs it."""

import subprocess
import sys

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

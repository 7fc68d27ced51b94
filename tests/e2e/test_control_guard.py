"""The control API's guards on a live server (issue 10.6): what a web page in the
developer's browser can send is refused; with a control token, the sandbox's own clients (the
CLI, the Python helpers, verify) send it and nobody else gets in."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
import requests

from sandbox.settings import CONTROL_TOKEN_ENV
from sandbox.testing.live import LiveSandbox

TOKEN = "team-sandbox-token"


@pytest.fixture(scope="module")
def tokened(tmp_path_factory):
    env = {CONTROL_TOKEN_ENV: TOKEN}
    with LiveSandbox(data_dir=tmp_path_factory.mktemp("tokened"), workers=1, env=env) as sandbox:
        yield sandbox


def cli(*args, token: str | None = None):
    env = {k: v for k, v in os.environ.items() if k != CONTROL_TOKEN_ENV}
    if token is not None:
        env[CONTROL_TOKEN_ENV] = token
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_a_rebinding_page_cannot_read_the_tokens(live):
    port = live.url.rsplit(":", 1)[1]
    response = requests.get(
        f"{live.url}/_sandbox/shops", headers={"Host": f"attacker.example:{port}"}, timeout=10
    )
    assert response.status_code == 403 and "gst_" not in response.text


def test_a_page_cannot_post_without_a_preflight(live, shop):
    before = live.control("GET", "/clock", params={"shop": shop.handle}).json()
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = requests.post(
            f"{live.url}/_sandbox/clock",
            data=f'{{"shop": "{shop.handle}", "advance": "3d"}}',
            headers={"Content-Type": content_type},
            timeout=10,
        )
        assert response.status_code == 415
    after = live.control("GET", "/clock", params={"shop": shop.handle}).json()
    moved = datetime.fromisoformat(after["now"]) - datetime.fromisoformat(before["now"])
    assert moved < timedelta(hours=1)  # the clock runs on; it was not moved 3 days


def test_with_a_token_nobody_else_gets_in(tokened):
    assert requests.get(f"{tokened.url}/_sandbox/health", timeout=10).status_code == 401
    wrong = requests.get(
        f"{tokened.url}/_sandbox/shops", headers={"Authorization": "Bearer guess"}, timeout=10
    )
    assert wrong.status_code == 401 and "gst_" not in wrong.text


def test_the_python_helpers_send_the_token(tokened):
    shop = tokened.new_shop()
    assert tokened.control("POST", "/clock", json={"shop": shop.handle, "frozen": True}).ok
    assert tokened.control("POST", "/outbox/drain").ok  # no body: JSON declared all the same


def test_the_cli_sends_the_token_from_the_environment_or_its_flag(tokened):
    by_env = cli("clock", "--json", "--url", tokened.url, token=TOKEN)
    assert by_env.returncode == 0, by_env.stderr
    by_flag = cli("reset", "--url", tokened.url, "--control-token", TOKEN)
    assert by_flag.returncode == 0, by_flag.stderr
    refused = cli("clock", "--url", tokened.url, "--control-token", "guess")
    assert refused.returncode == 1
    assert "401" in refused.stderr and "control token" in refused.stderr


def test_verify_sends_the_token(tokened):
    result = cli(
        "verify",
        "--url",
        tokened.url,
        "--only",
        "card_payment_automatic_capture",
        "--control-token",
        TOKEN,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    refused = cli("verify", "--url", tokened.url, "--only", "card_payment_automatic_capture")
    assert refused.returncode == 2 and "control token" in refused.stderr

"""``serve`` prints a line per exchange, in and out, as it happens; ``--quiet`` none."""

from __future__ import annotations

import re
import time

import pytest

from sandbox.testing.live import LiveSandbox
from sandbox.testing.shop import SandboxShop

pytestmark = pytest.mark.e2e
LOG_ON = {"GENSTORE_SANDBOX_REQUEST_LOG": "on"}


def _lines(sandbox: LiveSandbox, pattern: str, at_least: int = 1) -> list[str]:
    """The output lines matching ``pattern``, once that many are there (a worker prints a
    moment after it answered)."""
    deadline = time.monotonic() + 10
    while True:
        found = [line for line in list(sandbox.output) if re.search(pattern, line)]
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.05)  # the server's output is read in a thread of its own


def test_serve_prints_each_exchange_in_and_out(tmp_path):
    with LiveSandbox(data_dir=tmp_path / "data", workers=1, env=LOG_ON) as sandbox:
        shop = SandboxShop(sandbox, sandbox.new_shop(), frozen=False)  # retries in real time
        sandbox.control("POST", "/faults", json={
            "shop": shop.handle, "target": "platform", "kind": "status", "status": 503,
            "count": 1, "path": "/api/202412/app/payment/"})  # fmt: skip
        payment_id = shop.checkout(amount="10.00")
        shop.wait_for(payment_id, "paid", timeout=20)
        handle = shop.handle
        out = _lines(sandbox, rf"-> POST http://\S+/psp/i/{handle}\.genmystore\.com/payments 200 ")
        inbound = _lines(sandbox, rf"<- POST /psp/i/{handle}\.genmystore\.com/payments 200 ")
        refused = _lines(sandbox, rf"<- PUT /api/202412/app/payment/{payment_id} 503 ")
        taken = _lines(sandbox, rf"<- PUT /api/202412/app/payment/{payment_id} 200 ")
    assert out and inbound and refused and taken, "".join(sandbox.output[-30:])
    assert re.search(rf"\d+ms shop={handle} payment={payment_id}$", taken[0].rstrip())
    assert "\033[" not in "".join(sandbox.output)  # no colour when not on a terminal


def test_quiet_prints_none(tmp_path):
    with LiveSandbox(
        data_dir=tmp_path / "data", workers=1, env=LOG_ON, extra_args=("--quiet",)
    ) as sandbox:
        shop = SandboxShop(sandbox, sandbox.new_shop())
        shop.wait_for(shop.checkout(amount="10.00"), "paid")
    # The server has stopped: everything it printed has been read.
    assert not [line for line in sandbox.output if " <- " in line or " -> " in line]

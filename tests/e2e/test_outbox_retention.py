"""A long run's store stays bounded (issue 10.9): finished outbox messages are pruned after
the retention on the shop's clock; what was sent stays readable in the journal and the
payment's timeline; a soak's database size levels off."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from sandbox.testing.live import LiveSandbox


def _messages(driver, payment_id: str) -> list[dict]:
    params = {"shop": driver.shop.handle, "paymentId": payment_id}
    return driver.sandbox.control("GET", "/outbox", params=params).json()["messages"]


def test_finished_messages_go_after_the_retention_and_the_timeline_keeps_them(driver):
    payment_id = driver.checkout()
    driver.drain()
    assert {m["state"] for m in _messages(driver, payment_id)} >= {"delivered"}
    before = [(e["type"], e["message"]) for e in driver.timeline(payment_id) if "message" in e]
    driver.advance("59m")
    assert any(m["state"] == "delivered" for m in _messages(driver, payment_id))
    driver.advance("2m")  # past the hour, on this shop's clock
    assert [m for m in _messages(driver, payment_id) if m["state"] == "delivered"] == []
    after = [(e["type"], e["message"]) for e in driver.timeline(payment_id) if "message" in e]
    assert ("request", "app.payment") in after and ("callback", "psp.payment_result") in after
    assert [entry for entry in after if entry[0] != "scheduled"] == [
        entry for entry in before if entry[0] != "scheduled"
    ]


def test_other_shops_keep_theirs_until_their_own_clock_says_so(driver, frozen_live):
    payment_id = driver.checkout()
    driver.drain()
    other = frozen_live.new_shop()
    frozen_live.control("POST", "/clock", json={"shop": other.handle, "frozen": True})
    frozen_live.control("POST", "/clock", json={"shop": other.handle, "advance": "3h"})
    assert any(m["state"] == "delivered" for m in _messages(driver, payment_id))


def _store_bytes(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in data_dir.glob("sandbox.sqlite3*"))


@pytest.mark.proof
@pytest.mark.sqlite_only  # measures the SQLite file
def test_a_soak_keeps_the_store_bounded(tmp_path, proof):
    """Checkouts on a running clock, with a short retention: the store grows while the first
    retention fills, then levels off (the journal keeps 10,000 exchanges; payments are state
    and grow, slowly)."""
    if not proof:
        pytest.skip("a two-minute soak: make proof runs it")
    seconds = 120
    env = {"GENSTORE_SANDBOX_OUTBOX_RETENTION": "20s"}
    with LiveSandbox(data_dir=tmp_path, env=env, extra_args=("--rate-limit", "off")) as sandbox:
        stop = time.monotonic() + seconds
        samples: list[int] = []

        def shopper() -> None:
            while time.monotonic() < stop:
                sandbox.http.post(sandbox.url + "/_sandbox/checkouts", json={}, timeout=30)
                time.sleep(0.01)  # a steady shopper, not a flood the outbox cannot keep up with

        threads = [threading.Thread(target=shopper) for _ in range(2)]
        for thread in threads:
            thread.start()
        while time.monotonic() < stop:
            time.sleep(seconds / 6)  # sampling the file size in real time, not sandbox time
            samples.append(_store_bytes(tmp_path))
        for thread in threads:
            thread.join()
    with sqlite3.connect(tmp_path / "sandbox.sqlite3") as db:
        tables = dict(db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall())
        finished = db.execute("SELECT COUNT(*) FROM outbox WHERE state != 'pending'").fetchone()[0]
        payments = db.execute("SELECT COUNT(*) FROM payments").fetchone()[0]
    print(
        f"store sizes every {seconds / 6:g} s (MB):",
        [round(s / 1e6, 1) for s in samples],
        f"outbox {tables['outbox'] / 1e6:.1f} MB ({finished} finished messages),",
        f"journal {tables['journal'] / 1e6:.1f} MB, payments {tables['payments'] / 1e6:.1f} MB",
        f"({payments} payments, {payments / seconds:.0f} checkouts a second)",
    )
    half = len(samples) // 2
    assert samples[-1] - samples[half - 1] < samples[half - 1] / 2, samples  # levelling off
    assert finished <= 10000  # the retention and the cap keep the outbox bounded
    assert tables["outbox"] < 20e6

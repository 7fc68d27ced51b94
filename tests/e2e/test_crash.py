"""Crash recovery (issue 10.16): kill -9 the whole sandbox (arbiter and workers) while
checkouts pour in, start it again on the same data directory. Every change it acknowledged
is there, every request it owed an app goes out (once, or once more if it was on the wire
at the kill), and SQLite finds the database intact. The same holds on PostgreSQL."""

from __future__ import annotations

import collections
import os
import signal
import sqlite3
import threading
import time

import pytest
import requests

from sandbox.testing.live import LiveSandbox
from tests.e2e.independent_app import IndependentApp


@pytest.mark.proof
def test_kill_9_under_load_loses_nothing_acknowledged(tmp_path, proof):
    seconds = 8.0 if proof else 1.5
    with IndependentApp() as app:
        body = {"name": "counted", "urls": app.urls(), "publicKey": app.public_key}
        sandbox = LiveSandbox(data_dir=tmp_path, own_session=True).start()
        try:
            registered = sandbox.control("POST", "/apps", json={**body, "activated": True})
            assert registered.status_code == 201
            acknowledged: list[str] = []
            stop = time.monotonic() + seconds

            def shopper() -> None:
                http = requests.Session()
                while time.monotonic() < stop:
                    try:
                        response = http.post(
                            sandbox.url + "/_sandbox/checkouts",
                            json={"app": "counted"},
                            timeout=10,
                        )
                    except requests.RequestException:
                        return  # the server died under us
                    if response.status_code == 201:
                        acknowledged.append(response.json()["paymentId"])

            shoppers = [threading.Thread(target=shopper) for _ in range(4)]
            for thread in shoppers:
                thread.start()
            time.sleep(seconds)  # the load runs in real time; the kill lands in the middle of it
            os.killpg(sandbox._process.pid, signal.SIGKILL)
            sandbox._process.wait(timeout=10)
            for thread in shoppers:
                thread.join()
        finally:
            sandbox.stop()
        assert len(acknowledged) > 20, "the load never got going"

        with LiveSandbox(data_dir=tmp_path) as again:
            for payment_id in acknowledged:  # every acknowledged checkout survived
                detail = again.control("GET", f"/payments/{payment_id}")
                assert detail.status_code == 200, payment_id
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                pending = again.control(
                    "GET", "/outbox", params={"kind": "app.payment", "state": "pending", "limit": 1}
                ).json()["messages"]
                sending = again.control(
                    "GET", "/outbox", params={"kind": "app.payment", "state": "sending", "limit": 1}
                ).json()["messages"]
                if not pending and not sending:
                    break
                again.control("POST", "/outbox/drain")
            received = collections.Counter(r["body"]["paymentId"] for r in app.received)
            missing = [p for p in acknowledged if received[p] == 0]
            outbox = {  # what became of them, should any be missing
                p: again.control("GET", "/outbox", params={"paymentId": p}).json()["messages"]
                for p in missing
            }
            assert missing == [], f"{len(missing)} payments never reached the app: {outbox}"
            twice = [p for p, n in received.items() if n > 1]
            # Only what was on the wire at the kill goes out once more: one per outbox
            # thread and per drain in flight, a handful at most.
            assert all(received[p] <= 2 for p in twice) and len(twice) <= 4, twice
    if LiveSandbox.stores is None:  # PostgreSQL answers for its own files
        with sqlite3.connect(tmp_path / "sandbox.sqlite3") as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)

"""Stopping (issue 10.11): Ctrl-C during requests in flight ends within 3 s without the
arbiter having to kill anything, and a message that was being sent is sent at most once more
after a restart on the same data directory."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import requests

from sandbox.testing.live import LiveSandbox
from tests.e2e.independent_app import IndependentApp


def test_ctrl_c_with_requests_in_flight_stops_cleanly_and_loses_nothing(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = IndependentApp(port=port)
    body = {"name": "stuck", "urls": app.urls(), "publicKey": app.public_key, "activated": True}
    with app:
        app.hang_next = 1  # the first payment request hangs: the outbox has one in flight
        sandbox = LiveSandbox(data_dir=tmp_path, own_session=True).start()
        try:
            sandbox.control("POST", "/clock", json={"frozen": True})
            assert sandbox.control("POST", "/apps", json=body).status_code == 201
            checkout = sandbox.control("POST", "/checkouts", json={"app": "stuck"}).json()
            payment_id = checkout["paymentId"]
            deadline = time.monotonic() + 10
            while not app.received and time.monotonic() < deadline:
                time.sleep(0.02)  # waiting for the outbox thread to reach the app (real time)
            assert [r["body"]["paymentId"] for r in app.received] == [payment_id]
            # A few slow reads in flight too (a latency fault), as a load test would leave.
            sandbox.control(
                "POST", "/faults", json={"target": "platform", "kind": "latency", "latencyMs": 5000}
            )
            readers = [
                threading.Thread(target=_read, args=(sandbox.url,), daemon=True) for _ in range(4)
            ]
            for reader in readers:
                reader.start()
            time.sleep(0.3)  # let the reads arrive (real time: they are HTTP requests)
            started = time.monotonic()
            code = sandbox.interrupt()
            took = time.monotonic() - started
        finally:
            sandbox.stop()
        output = "".join(sandbox.output)
        assert took < 3, f"{took:.1f} s to stop:\n{output}"
        assert code == 0, output
        assert "SIGKILL" not in output and "out of memory" not in output, output
        assert "Traceback" not in output, output

        app.release()
        with LiveSandbox(data_dir=tmp_path) as again:
            deadline = time.monotonic() + 10
            while len(app.received) < 2 and time.monotonic() < deadline:
                again.control("POST", "/outbox/drain")
            again.control("POST", "/outbox/drain")
            assert [r["body"]["paymentId"] for r in app.received] == [payment_id] * 2
            [message] = [
                m
                for m in again.control("GET", "/outbox", params={"paymentId": payment_id}).json()[
                    "messages"
                ]
                if m["kind"] == "app.payment"
            ]
            assert message["state"] == "delivered"


def _read(url: str) -> None:
    with contextlib.suppress(requests.RequestException):  # the server stops under it
        requests.get(
            f"{url}/api/202412/payment/PI0020261101000000001",
            headers={"X-Genstore-Access-Token": "gst_demo_merchant_read"},
            timeout=10,
        )


def test_sigterm_waits_for_requests_in_flight(tmp_path):
    """The graceful stop: a request in flight is answered before the server goes."""
    sandbox = LiveSandbox(data_dir=tmp_path, workers=1).start()
    try:
        sandbox.control(
            "POST", "/faults", json={"target": "platform", "kind": "latency", "latencyMs": 1000}
        )
        answers: list[int] = []

        def read() -> None:
            response = requests.get(
                f"{sandbox.url}/api/202412/payment/PI0020261101000000001",
                headers={"X-Genstore-Access-Token": "gst_demo_merchant_read"},
                timeout=10,
            )
            answers.append(response.status_code)

        reader = threading.Thread(target=read)
        reader.start()
        time.sleep(0.3)  # the read is in flight (real time: it is an HTTP request)
        code = sandbox.stop()
        reader.join()
    finally:
        sandbox.stop()
    assert answers == [200]
    assert code == 0
    assert "SIGKILL" not in "".join(sandbox.output)


def test_a_stuck_app_holds_up_one_sender_not_the_outbox(tmp_path):
    """One worker, an app that never answers: the fake app's payments still settle at once
    (the outbox has several delivering threads; the stuck request waits out its timeout on
    one of them)."""
    with IndependentApp() as app:
        app.hang_next = 1
        body = {"name": "stuck", "urls": app.urls(), "publicKey": app.public_key, "activated": True}
        with LiveSandbox(data_dir=tmp_path, workers=1) as sandbox:
            assert sandbox.control("POST", "/apps", json=body).status_code == 201
            sandbox.control("POST", "/checkouts", json={"app": "stuck"})
            deadline = time.monotonic() + 10
            while not app.received and time.monotonic() < deadline:
                time.sleep(0.02)  # the stuck request reaching the app (real time)
            paid = sandbox.control("POST", "/checkouts", json={}).json()["paymentId"]
            started = time.monotonic()
            while time.monotonic() - started < 5:
                if sandbox.control("GET", f"/payments/{paid}").json()["state"] == "paid":
                    break
                time.sleep(0.02)  # the other sender delivering (real time)
            waited = time.monotonic() - started
            app.release()
    assert waited < 5, f"the fake app's payment waited {waited:.1f} s behind the stuck one"

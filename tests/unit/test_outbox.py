"""The outbox without the sandbox's HTTP surface: claims, retries with backoff and jitter,
Retry-After, lapsed claims, and giving up. Most messages go to a port nobody listens on, so
every attempt fails the same way; a tiny server answers the ones that need an answer."""

from __future__ import annotations

import dataclasses
import email.utils
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sandbox.app import create_app
from sandbox.core.timefmt import from_storage, to_storage
from sandbox.outbox import Outbound, OutboxSettings
from sandbox.services import services_of
from sandbox.store import outbox as rows
from tests.helpers import store_settings
from tests.unit.conftest import START, advance, set_clock


def _dead_url() -> str:
    with socket.socket() as probe:  # a port that was free a moment ago: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


class Answering:
    """Answers every request with ``status`` and ``headers``; counts what it got."""

    def __init__(self):
        self.status, self.headers, self.received = 429, {"Retry-After": "30"}, 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self):
                owner.received += 1
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(owner.status)
                for name, value in owner.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_POST = do_PUT

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def answering():
    server = Answering()
    yield server
    server.close()


def _schedule(services, url: str | None = None, **extra) -> int:
    request = Outbound(
        shop_id=1,
        payment_id="PI-unit",
        side="platform",
        kind="app.payment",
        method="POST",
        url=url or _dead_url(),
        headers={},
        body={"paymentId": "PI-unit"},
        **extra,
    )
    with services.db.write() as conn:
        return services.outbox.schedule(conn, request)


def _message(services, message_id):
    message = rows.load_message(services.db.read(), message_id)
    assert message is not None
    return message


def _waits(services, message_id) -> float:
    """Seconds from now on the sandbox clock until the message is due."""
    due = from_storage(_message(services, message_id).due_at)
    return (due - services.clock.now()).total_seconds()


def test_a_failed_attempt_is_retried_after_a_doubling_backoff_with_jitter(services):
    outbox = services.outbox
    jitter = outbox.settings.jitter
    message_id = _schedule(services)
    assert outbox.deliver_due() == 1
    first = _message(services, message_id)
    assert (first.state, first.attempts, first.last_status) == ("pending", 1, None)
    assert "connection failed" in (first.last_error or "")
    waits = _waits(services, message_id)
    assert 1 <= waits <= 1 + jitter
    assert outbox.deliver_due() == 0  # not due yet: nothing is claimed
    advance(services, waits)
    assert outbox.deliver_due() == 1
    second = _message(services, message_id)
    assert second.attempts == 2
    assert 2 <= _waits(services, message_id) <= 2 * (1 + jitter)


def test_jitter_spreads_messages_that_failed_together(services):
    ids = [_schedule(services) for _ in range(20)]
    assert services.outbox.deliver_due(limit=50) == 20
    waits = [_waits(services, message_id) for message_id in ids]
    assert all(1 <= w <= 1 + services.outbox.settings.jitter for w in waits)
    assert len(set(waits)) == 20  # nobody comes back in lockstep


def test_no_jitter_gives_exact_doubling(tmp_path):
    svc = services_of(create_app(store_settings(data_dir=tmp_path / "d", outbox_jitter=0)))
    set_clock(svc, START)
    message_id = _schedule(svc)
    svc.outbox.deliver_due()
    assert _waits(svc, message_id) == 1


def test_an_out_of_range_jitter_is_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        OutboxSettings(self_url="http://127.0.0.1:1", jitter=2)


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured_never_sooner(services, answering, status):
    answering.status = status
    message_id = _schedule(services, answering.url)
    services.outbox.deliver_due()
    assert _message(services, message_id).last_status == status
    assert 30 <= _waits(services, message_id) <= 30 * (1 + services.outbox.settings.jitter)
    advance(services, 29)
    assert services.outbox.deliver_due() == 0  # the backoff alone would have allowed it


def test_retry_after_as_an_http_date(services, answering):
    answering.headers = {"Retry-After": email.utils.formatdate(time.time() + 120, usegmt=True)}
    message_id = _schedule(services, answering.url)
    services.outbox.deliver_due()
    assert 115 <= _waits(services, message_id) <= 120 * (1 + services.outbox.settings.jitter)


def test_an_unreadable_retry_after_leaves_the_backoff(services, answering):
    answering.headers = {"Retry-After": "soon"}
    message_id = _schedule(services, answering.url)
    services.outbox.deliver_due()
    assert 1 <= _waits(services, message_id) <= 1 + services.outbox.settings.jitter


def test_a_result_is_retried_until_answered_for_good(services, answering):
    """An app's result never gives up while the platform keeps saying "later"; an answer
    for good (here 409: the payment cannot take it any more) ends it."""
    answering.headers = {}
    message_id = _schedule(services, answering.url, until_answered=True)
    limit = services.outbox.settings.max_attempts
    for _ in range(limit + 4):
        assert services.outbox.deliver_due() == 1
        advance(services, 7200)
    message = _message(services, message_id)
    assert (message.state, message.attempts, message.max_attempts) == ("pending", limit + 4, 0)
    answering.status = 409
    assert services.outbox.deliver_due() == 1
    assert _message(services, message_id).state == "rejected"
    assert answering.received == limit + 5


def test_backoff_doubles_up_to_its_cap(services):
    backoff = services.outbox.backoff
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff(40).total_seconds() == services.outbox.settings.backoff_cap


def test_one_claim_per_message(services):
    message_id = _schedule(services)
    now = rows.Now(to_storage(services.clock.now()))
    with services.db.write() as conn:
        claimed = rows.claim_due(
            conn, now, time.time(), 10, rows.Claim("another:1", time.time() + 60)
        )
    assert [m.id for m in claimed] == [message_id]
    assert services.outbox.deliver_due() == 0  # claimed by another sender, still live
    assert _message(services, message_id).state == "sending"


def test_a_lapsed_claim_is_claimed_again(services):
    """A sender that died mid-send: once its claim lapses, the message goes out again."""
    message_id = _schedule(services)
    now = rows.Now(to_storage(services.clock.now()))
    with services.db.write() as conn:
        rows.claim_due(conn, now, time.time(), 10, rows.Claim("another:1", time.time() - 1))
    assert services.outbox.deliver_due() == 1
    message = _message(services, message_id)
    assert (message.attempts, message.state) == (2, "pending")


def test_it_gives_up_after_the_last_attempt(services):
    message_id = _schedule(services)
    for _ in range(services.outbox.settings.max_attempts):
        assert services.outbox.deliver_due() == 1
        advance(services, 3600)
    message = _message(services, message_id)
    assert (message.state, message.attempts) == ("failed", services.outbox.settings.max_attempts)
    assert services.outbox.deliver_due() == 0


def test_magic_failures_fail_the_first_attempts_on_purpose(services):
    message_id = _schedule(services, fail_attempts=1)
    services.outbox.deliver_due()
    assert _message(services, message_id).last_error == (
        "simulated connection failure (magic value)"
    )


def test_every_attempt_is_journaled(services):
    message_id = _schedule(services)
    services.outbox.deliver_due()
    entries = services.journal.query({"payment_id": "PI-unit"}, None, 10, None)
    assert [(e["messageId"], e["attempt"], e["direction"]) for e in entries] == [
        (message_id, 1, "outbound")
    ]


def _state(services, message_id) -> str | None:
    message = rows.load_message(services.db.read(), message_id)
    return message.state if message else None


def test_finished_messages_are_pruned_after_the_retention(services, answering):
    answering.status, answering.headers = 200, {}
    delivered = _schedule(services, answering.url)
    services.outbox.deliver_due()
    later = _schedule(services, due_at=services.clock.now() + timedelta(hours=5))
    assert _state(services, delivered) == "delivered"
    advance(services, 3599)
    services.outbox.drain()
    assert _state(services, delivered) == "delivered"  # within the hour it is kept
    advance(services, 2)
    services.outbox.drain()
    assert _state(services, delivered) is None
    assert _state(services, later) == "pending"  # what is still to be sent always stays


def test_at_most_keep_finished_messages_stay(tmp_path, answering):
    svc = services_of(create_app(store_settings(data_dir=tmp_path / "d", outbox_keep=3)))
    set_clock(svc, START)
    answering.status, answering.headers = 200, {}
    ids = [_schedule(svc, answering.url) for _ in range(5)]
    svc.outbox.drain()
    assert [_state(svc, message_id) for message_id in ids] == [None, None, *["delivered"] * 3]


class Holding:
    """Holds every request until released; counts how many it holds at once."""

    def __init__(self):
        self.release, self.lock = threading.Event(), threading.Lock()
        self.holding = self.most = self.done = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with owner.lock:
                    owner.holding += 1
                    owner.most = max(owner.most, owner.holding)
                owner.release.wait(10)
                with owner.lock:
                    owner.holding -= 1
                    owner.done += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, condition, seconds: float = 10) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                if condition(self):
                    return True
            time.sleep(0.01)  # polling the test server's counters, not the sandbox clock
        return False


def test_the_background_outbox_sends_side_by_side_bounded_by_its_senders(tmp_path):
    """Six messages, three senders: three at once, never more, then the rest; each picked
    up when its transaction commits (the poll is set to a minute, so only the wake-up on
    enqueue can send them)."""
    svc = services_of(create_app(store_settings(data_dir=tmp_path / "data", outbox_senders=3)))
    outbox = svc.outbox
    outbox.settings = dataclasses.replace(outbox.settings, poll_interval=60.0)
    holding = Holding()
    outbox.start()
    try:
        for _ in range(6):
            _schedule(svc, holding.url, until_answered=True)
        assert holding.wait_for(lambda h: h.holding == 3)
        # Every sender busy: the other three wait in the store, unclaimed.
        listed = rows.list_messages(svc.db.read(), rows.MessageFilter())
        states = [message.state for message in listed]
        assert sorted(states) == ["pending"] * 3 + ["sending"] * 3
        holding.release.set()
        assert holding.wait_for(lambda h: h.done == 6)
        assert holding.most == 3
    finally:
        holding.release.set()
        outbox.stop(1.0)
        holding.server.shutdown()


def test_after_commit_runs_once_committed_and_never_after_a_rollback(services):
    db, calls = services.db, []
    with db.write():
        db.after_commit(lambda: calls.append("committed"))
        assert calls == []
    assert calls == ["committed"]
    with pytest.raises(RuntimeError), db.write():
        db.after_commit(lambda: calls.append("rolled back"))
        raise RuntimeError("give up")
    db.after_commit(lambda: calls.append("no transaction"))
    with db.snapshot():  # a read transaction commits nothing: at once
        db.after_commit(lambda: calls.append("reading"))
    assert calls == ["committed", "no transaction", "reading"]

"""The outbox without a server to talk to: claims, retries with backoff, lapsed claims, and
giving up. Messages go to a port nobody listens on, so every attempt fails the same way."""

from __future__ import annotations

import socket
import time
from datetime import timedelta

from sandbox.core.timefmt import to_storage
from sandbox.outbox import Outbound
from sandbox.store import outbox as rows
from tests.unit.conftest import advance


def _dead_url() -> str:
    with socket.socket() as probe:  # a port that was free a moment ago: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def _schedule(services, **extra) -> int:
    request = Outbound(
        shop_id=1,
        payment_id="PI-unit",
        side="platform",
        kind="app.payment",
        method="POST",
        url=_dead_url(),
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


def test_a_failed_attempt_is_retried_after_a_doubling_backoff(services):
    outbox = services.outbox
    message_id = _schedule(services)
    assert outbox.deliver_due() == 1
    first = _message(services, message_id)
    assert (first.state, first.attempts, first.last_status) == ("pending", 1, None)
    assert "connection failed" in (first.last_error or "")
    assert first.due_at == to_storage(services.clock.now() + timedelta(seconds=1))
    assert outbox.deliver_due() == 0  # not due yet: nothing is claimed
    advance(services, 1)
    assert outbox.deliver_due() == 1
    second = _message(services, message_id)
    assert second.attempts == 2
    assert second.due_at == to_storage(services.clock.now() + timedelta(seconds=2))


def test_backoff_doubles_up_to_its_cap(services):
    backoff = services.outbox.backoff
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff(40).total_seconds() == services.outbox.settings.backoff_cap


def test_one_claim_per_message(services):
    message_id = _schedule(services)
    now = rows.Now(to_storage(services.clock.now()))
    with services.db.write() as conn:
        claimed = rows.claim_due(conn, now, time.time(), 10, time.time() + 60)
    assert [m.id for m in claimed] == [message_id]
    assert services.outbox.deliver_due() == 0  # claimed by another sender, still live
    assert _message(services, message_id).state == "sending"


def test_a_lapsed_claim_is_claimed_again(services):
    """A sender that died mid-send: once its claim lapses, the message goes out again."""
    message_id = _schedule(services)
    now = rows.Now(to_storage(services.clock.now()))
    with services.db.write() as conn:
        rows.claim_due(conn, now, time.time(), 10, claimed_until=time.time() - 1)
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

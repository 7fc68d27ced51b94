"""The lifecycle: events, guards, money, timeouts and history, in the caller's transaction."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from sandbox.core.clock import Clock, ClockState
from sandbox.errors import Conflict
from sandbox.store import outbox as messages
from sandbox.store import platform as rows
from tests.unit.conftest import START

SHOP = 1
AUTHORIZED = "PI0020261101000000003"  # 80.00 authorized, a 50.00 capture pending
CREATED = "PI0020261101000000002"  # 25.00, online, waiting for the app


def _payment(services, payment_id):
    payment = rows.load_payment(services.db.read(), SHOP, payment_id)
    assert payment is not None
    return payment


def test_a_capture_moves_money_and_the_state_and_is_remembered(services):
    lifecycle = services.platform.lifecycle
    before = _payment(services, AUTHORIZED)
    with services.db.write() as conn:
        moved = lifecycle.fire_payment(
            conn, before, "capture", START, "test", amount=Decimal("30.00")
        )
    assert (moved.state, moved.captured, moved.paid_at) == ("paid", Decimal("30.00"), START)
    stored = _payment(services, AUTHORIZED)
    assert (stored.state, stored.captured) == ("paid", Decimal("30.00"))
    last = rows.list_steps(services.db.read(), SHOP, AUTHORIZED)[-1]
    assert (last.event, last.from_state, last.to_state, last.cause) == (
        "capture",
        "authorized",
        "paid",
        "test",
    )


def test_a_guard_refuses_a_capture_above_the_authorized_amount(services):
    payment = _payment(services, AUTHORIZED)
    with services.db.write() as conn, pytest.raises(Conflict, match="capture_within_authorized"):
        services.platform.lifecycle.fire_payment(
            conn, payment, "capture", START, "test", amount=payment.amount + 1
        )
    assert _payment(services, AUTHORIZED).state == "authorized"


def test_an_event_with_no_transition_names_the_state(services):
    payment = _payment(services, CREATED)
    with services.db.write() as conn, pytest.raises(Conflict, match="is created and cannot take"):
        services.platform.lifecycle.fire_payment(conn, payment, "refund", START, "test")


def test_due_timeouts_fire_at_the_instant_they_came_due(services):
    payment = _payment(services, CREATED)
    later = payment.state_entered_at + timedelta(days=3)
    at_later = Clock(lambda shop_id=None: ClockState(frozen_at=later))
    settled = services.platform.lifecycle.settled_payment(payment, at_later)
    assert settled.state == "expired"
    assert settled.state_entered_at == payment.state_entered_at + timedelta(days=2)
    assert _payment(services, CREATED).state == "expired"


def test_events_and_history_land_with_the_change_or_not_at_all(services):
    db = services.db
    app = services.platform.principal("gst_demo_app_write_payment", ())
    services.webhooks.create(app, "http://127.0.0.1:9/hooks", "payments/update")
    before = messages.count_pending(db.read())
    steps = len(rows.list_steps(db.read(), SHOP, AUTHORIZED))
    payment = _payment(services, AUTHORIZED)
    with pytest.raises(RuntimeError), db.write() as conn:
        services.platform.lifecycle.fire_payment(conn, payment, "void", START, "test")
        assert messages.count_pending(conn) > before  # the payments/update webhook, scheduled
        raise RuntimeError("the caller fails after the change")
    assert messages.count_pending(db.read()) == before
    assert len(rows.list_steps(db.read(), SHOP, AUTHORIZED)) == steps
    assert _payment(services, AUTHORIZED).state == "authorized"


def test_the_machine_answers_may_this_start_without_firing(services):
    machine = services.fixtures.machines["payment"]
    authorized = _payment(services, AUTHORIZED)
    assert machine.can_fire("authorized", "capture", authorized.facts(Decimal("80.00")))
    assert not machine.can_fire("authorized", "capture", authorized.facts(Decimal("80.01")))
    assert not machine.can_fire("paid", "void", authorized.facts())
    assert _payment(services, AUTHORIZED).state == "authorized"

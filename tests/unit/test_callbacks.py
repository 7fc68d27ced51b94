"""The platform's callbacks: the first result is final, and an operation moves its payment."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandbox.errors import Conflict, Forbidden
from sandbox.platform.auth import Principal
from sandbox.platform.callbacks import Result
from sandbox.store import platform as rows

APP = "gst_demo_app_write_payment"
CREATED = "PI0020261101000000002"
CAPTURE = "CA0020261101000000003"  # 50.00 of the 80.00 authorized PI...003, pending


def _app(services) -> Principal:
    return services.platform.principal(APP, ("write_payment",))


def test_the_first_payment_result_is_final(services):
    callbacks, app = services.platform.callbacks, _app(services)
    callbacks.payment_result(app, "payment", CREATED, Result(True, None, "ch1"))
    payment = rows.load_payment(services.db.read(), app.shop_id, CREATED)
    assert payment is not None and (payment.state, payment.channel_payment_id) == ("paid", "ch1")
    callbacks.payment_result(app, "payment", CREATED, Result(True, None, "ch1"))  # no-op
    with pytest.raises(Conflict, match="already true"):
        callbacks.payment_result(app, "payment", CREATED, Result(False, "late", "ch1"))
    steps = [s.event for s in rows.list_steps(services.db.read(), app.shop_id, CREATED)]
    assert steps.count("succeed") == 1


def test_a_successful_capture_moves_the_payment_in_the_same_transaction(services):
    callbacks, app = services.platform.callbacks, _app(services)
    callbacks.operation_result(app, "capture", CAPTURE, Result(True, None, "chc"))
    operation = rows.load_operation(services.db.read(), app.shop_id, "capture", CAPTURE)
    assert operation is not None and operation.state == "succeeded"
    payment = rows.load_payment(services.db.read(), app.shop_id, operation.payment_id)
    assert payment is not None
    assert (payment.state, payment.captured) == ("paid", Decimal("50.00"))


def test_a_failed_operation_leaves_the_payment_alone(services):
    callbacks, app = services.platform.callbacks, _app(services)
    callbacks.operation_result(app, "capture", CAPTURE, Result(False, "declined", "chc"))
    operation = rows.load_operation(services.db.read(), app.shop_id, "capture", CAPTURE)
    assert operation is not None and operation.state == "failed"
    payment = rows.load_payment(services.db.read(), app.shop_id, operation.payment_id)
    assert payment is not None and payment.state == "authorized"


def test_a_result_for_another_apps_payment_is_refused(services):
    stranger = Principal("t", _app(services).shop_id, 999, frozenset({"write_payment"}))
    with pytest.raises(Forbidden):
        services.platform.callbacks.payment_result(
            stranger, "payment", CREATED, Result(True, None, "ch")
        )


def test_account_authorize_needs_an_app(services):
    merchant = services.platform.principal("gst_demo_merchant_read", ())
    with pytest.raises(Forbidden):
        services.platform.callbacks.account_authorize(merchant, True)

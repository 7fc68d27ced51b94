"""GET /api/202412/payment/{paymentId} (seed 002)."""

import re

from tests.conftest import READ_TOKEN
from tests.helpers import store_settings

OFFSET_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")


def get(client, payment_id):
    return client.get(f"/api/202412/payment/{payment_id}", headers=READ_TOKEN)


def test_a_paid_payment_has_every_field_of_the_seed(client):
    response = get(client, "PI0020261101000000001")
    assert response.status_code == 200
    payment = response.json["payment"]
    assert set(payment) == {
        "paymentId",
        "outOrderNo",
        "channelTrxNo",
        "status",
        "amount",
        "fee",
        "net",
        "currency",
        "successPaymentTime",
    }
    assert payment["paymentId"] == "PI0020261101000000001"
    assert payment["outOrderNo"] == "101010101000000001001"
    assert payment["channelTrxNo"] == "ch_demo_1001"
    assert (payment["amount"], payment["fee"], payment["net"]) == ("123.23", "3.87", "119.36")
    assert payment["currency"] == "USD"
    assert OFFSET_TIME.match(payment["successPaymentTime"])  # the shop's offset, +08:00


def test_status_codes_follow_the_machine_mapping(client):
    expected = {
        "PI0020261101000000001": "2",  # paid
        "PI0020261101000000002": "1",  # created
        "PI0020261101000000003": "4",  # authorized
        "PI0020261101000000006": "2",  # partially refunded
        "PI0020261101000000007": "9",  # failed
        "PI0020261101000000008": "9",  # expired
        "PI0020261101000000011": "3",  # voided
    }
    for payment_id, code in expected.items():
        assert get(client, payment_id).json["payment"]["status"] == code, payment_id


def test_success_time_fee_and_net_are_absent_or_zero_until_paid(client):
    payment = get(client, "PI0020261101000000002").json["payment"]
    assert "successPaymentTime" not in payment
    assert "channelTrxNo" not in payment
    assert (payment["amount"], payment["fee"], payment["net"]) == ("25.00", "0.00", "0.00")


def test_zero_decimal_currency(client):
    payment = get(client, "PI0020261101000000012").json["payment"]
    assert (payment["currency"], payment["amount"]) == ("JPY", "5000")
    assert payment["fee"] == "145"  # 2.9% of 5000 + 0.30 -> 145.30 -> 145


def test_unknown_payment_is_404(client):
    response = get(client, "PI_NOPE")
    assert response.status_code == 404
    assert response.json == {"error": "Payment PI_NOPE not found"}


def test_the_fee_rule_comes_from_the_fixtures(tmp_path):
    from sandbox.app import create_app
    from tests.conftest import FIXTURES

    data = (
        (FIXTURES / "default.yaml")
        .read_text()
        .replace('standard: {percent: "2.9", fixed: "0.30"}', 'standard: {percent: "10"}')
    )
    (tmp_path / "default.yaml").write_text(data)
    app = create_app(store_settings(data_dir=tmp_path / "d", fixtures=tmp_path / "default.yaml"))
    payment = get(app.test_client(), "PI0020261101000000001").json["payment"]
    assert (payment["fee"], payment["net"]) == ("12.32", "110.91")


def test_a_remembered_view_expires_when_a_timeout_comes_due_without_any_write(app):
    """Real time passing writes nothing; the memo must still not outlive the payment's
    next timeout (here: expiry two days after creation)."""
    from datetime import timedelta

    from sandbox.core.clock import Clock, ClockState
    from sandbox.platform.auth import Principal
    from sandbox.platform.service import PlatformService
    from sandbox.store import platform as rows

    services = app.extensions["sandbox"]
    moment = {"now": services.clock.now()}
    clock = Clock(lambda shop_id=None: ClockState(frozen_at=moment["now"]))
    platform = PlatformService(
        services.db,
        services.fixtures,
        clock,
        services.platform.lifecycle,
        services.platform.callbacks,
    )
    shop_id = rows.shop_id_by_domain(services.db.read(), "demo.genmystore.com")
    reader = Principal("t", shop_id, None, frozenset({"read_payments_transaction"}))
    assert platform.transaction(reader, "PI0020261101000000002")["payment"]["status"] == "1"
    assert platform.transaction(reader, "PI0020261101000000002")["payment"]["status"] == "1"
    moment["now"] += timedelta(days=2, minutes=1)
    assert platform.transaction(reader, "PI0020261101000000002")["payment"]["status"] == "9"

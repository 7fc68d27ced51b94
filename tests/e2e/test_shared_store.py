"""Several instances, one sandbox (issue 13): two ``serve`` processes on different ports
sharing one PostgreSQL database, from a throwaway cluster of the test process's own. Each
outbox message goes out once; clocks, faults, rate limits, the journal and resets are
shared; the money rules hold across instances; a snapshot moves between the backends
byte for byte. These run under ``make test`` whichever store the rest of the suite uses."""

from __future__ import annotations

import collections
import contextlib
import time
from decimal import Decimal

import pytest
import requests

from sandbox.testing.live import LiveSandbox
from tests.conftest import STORE
from tests.e2e.conftest import Driver
from tests.e2e.test_snapshots import build_state
from tests.e2e.test_webhooks import Receiver
from tests.helpers import at_once, result_body

AT_ONCE = 50
YAML = {"Content-Type": "application/yaml"}


@pytest.fixture(scope="module")
def database(postgres_cluster):
    return postgres_cluster.new_database("shared")


@pytest.fixture(scope="module")
def pair(database, tmp_path_factory):
    """Two instances on one database, each with two workers."""
    with (
        LiveSandbox(data_dir=tmp_path_factory.mktemp("a"), database=database) as first,
        LiveSandbox(data_dir=tmp_path_factory.mktemp("b"), database=database) as second,
    ):
        yield first, second


def _settle(sandboxes, shop, payment_ids, deadline=30.0):
    """Until every payment left ``created`` (the background outboxes deliver; a drain on
    each instance hurries what is due)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        for sandbox in sandboxes:
            sandbox.control("POST", "/outbox/drain")
        params = {"shop": shop.handle}
        states = {
            p: sandboxes[0].control("GET", f"/payments/{p}", params=params).json()["state"]
            for p in payment_ids
        }
        if all(state != "created" for state in states.values()):
            return states
    raise AssertionError(f"not settled: {states}")


def test_the_banner_names_the_shared_store(pair):
    for sandbox in pair:
        [line] = [line for line in sandbox.output if line.strip().startswith("store")]
        assert "PostgreSQL postgresql://" in line and "shared" in line


def test_checkouts_through_both_instances_settle_once_each(pair):
    first, second = pair
    shop = first.new_shop(rateLimit={"enabled": False})
    receiver = Receiver(shop.apps[0]["clientSecret"])
    try:
        hook = requests.post(
            f"{second.url}/api/202412/app/webhooks",
            headers=shop.headers("write_apps"),
            json={"webhook": {"address": receiver.url, "topic": "orders/paid"}},
            timeout=10,
        )
        assert hook.status_code == 201, hook.text
        sandboxes = [first, second] * 10
        payment_ids = at_once(
            lambda sandbox: sandbox.control(
                "POST", "/checkouts", json={"shop": shop.handle, "amount": "12.00"}
            ).json()["paymentId"],
            sandboxes,
        )
        states = _settle(pair, shop, payment_ids)
        assert set(states.values()) == {"paid"}
        for payment_id in payment_ids:
            timeline = Driver(first, shop).timeline(payment_id)
            settled = [e for e in timeline if e["type"] == "state" and e["from"] == "created"]
            assert len(settled) == 1, timeline  # one transition, one result
            sent = first.control(
                "GET",
                "/journal",
                params={"shop": shop.handle, "paymentId": payment_id, "direction": "outbound"},
            ).json()["entries"]
            kinds = collections.Counter(entry["kind"] for entry in sent)
            assert kinds["app.payment"] == 1, kinds  # claimed and sent by one instance only
        end = time.monotonic() + 15
        while len(receiver.received) < len(payment_ids) and time.monotonic() < end:
            for sandbox in pair:
                sandbox.control("POST", "/outbox/drain")
        orders = collections.Counter(r["body"]["order"]["id"] for r in receiver.received)
        assert len(orders) == len(payment_ids) and set(orders.values()) == {1}, orders
        assert all(r["valid"] for r in receiver.received)
    finally:
        receiver.close()


def test_clocks_faults_rate_limits_the_journal_and_resets_are_shared(pair):
    first, second = pair
    shop = first.new_shop(rateLimit={"size": 3, "perSecond": 0.01})
    # the clock
    frozen = first.control("POST", "/clock", json={"shop": shop.handle, "frozen": True})
    assert frozen.ok
    moved = first.control("POST", "/clock", json={"shop": shop.handle, "advance": "2h"})
    seen = second.control("GET", "/clock", params={"shop": shop.handle}).json()
    assert seen["now"] == moved.json()["now"] and seen["frozen"] is True
    # the rate-limit bucket: three calls in all, whichever instance takes them
    read = shop.headers("read_payments_transaction")
    path = "/api/202412/payment/PI0020261101000000001"
    statuses = [requests.get(s.url + path, headers=read, timeout=10).status_code for s in pair * 2]
    assert statuses.count(429) == 1 and statuses[-1] == 429, statuses
    # a fault armed through one acts on the other
    other = second.new_shop(rateLimit={"enabled": False})
    armed = first.control(
        "POST",
        "/faults",
        json={"shop": other.handle, "target": "platform", "kind": "status", "status": 503},
    )
    assert armed.status_code == 201, armed.text
    try:
        hit = requests.get(
            second.url + path, headers=other.headers("read_payments_transaction"), timeout=10
        )
        assert hit.status_code == 503
    finally:
        first.control("DELETE", "/faults")
    # the journal: what one instance answered, the other lists
    entries = first.control(
        "GET", "/journal", params={"shop": other.handle, "direction": "inbound"}
    ).json()["entries"]
    assert any(entry["status"] == 503 for entry in entries)
    # a reset through one is seen by the other
    driver = Driver(second, other)
    payment_id = driver.checkout()
    params = {"shop": other.handle}
    assert first.control("GET", f"/payments/{payment_id}", params=params).status_code == 200
    assert first.control("POST", "/reset", json={"shop": other.handle}).ok
    assert second.control("GET", f"/payments/{payment_id}", params=params).status_code == 404


def test_money_rules_hold_across_instances(pair):
    first, second = pair
    shop = first.new_shop(rateLimit={"enabled": False})
    drivers = [Driver(first, shop), Driver(second, shop)] * (AT_ONCE // 2)
    one = drivers[0]
    # captures: one of fifty takes the authorization
    payment_id = one.checkout(amount="100.00", manualCapture=True)
    _settle(pair, shop, [payment_id])
    answers = at_once(
        lambda d: d.operation(payment_id, "capture", amount="60.00").status_code, drivers
    )
    assert answers.count(201) == 1 and set(answers) == {201, 409}, answers
    # refunds: fourteen of fifty fit in 100.00
    paid = one.checkout(amount="100.00")
    _settle(pair, shop, [paid])
    answers = at_once(lambda d: d.operation(paid, "refund", amount="7.00").status_code, drivers)
    assert answers.count(201) == 14 and set(answers) == {201, 400}, answers
    one.drain()
    assert Decimal(one.detail(paid)["refundedAmount"]) == Decimal("98.00")
    # first results: exactly one wins, and the payment makes one transition
    waiting = one.checkout(magic="delayed_result")
    one.drain()
    headers = shop.headers("write_payment")

    def report(pick: tuple[Driver, bool]) -> tuple[bool, int]:
        driver, result = pick
        body = result_body("payment", waiting, result="true" if result else "false")
        url = f"{driver.url}/api/202412/app/payment/{waiting}"
        return result, requests.put(url, json=body, headers=headers, timeout=30).status_code

    outcomes = at_once(report, [(d, n % 2 == 0) for n, d in enumerate(drivers)])
    winners = {result for result, status in outcomes if status == 200}
    assert len(winners) == 1, outcomes
    timeline = one.timeline(waiting)
    assert len([e for e in timeline if e["type"] == "state" and e["from"] == "created"]) == 1


def test_a_snapshot_moves_from_sqlite_to_postgresql_byte_for_byte(pair, live, tmp_path):
    """Exported from a SQLite sandbox (the session's, when the suite runs on SQLite),
    imported into a PostgreSQL one, exported again."""
    with contextlib.ExitStack() as stack:
        on_sqlite = live
        if STORE != "sqlite":
            on_sqlite = stack.enter_context(
                LiveSandbox(data_dir=tmp_path, workers=1, database=str(tmp_path / "s.sqlite3"))
            )
        assert any("store           SQLite" in line for line in on_sqlite.output)
        driver = Driver(on_sqlite, on_sqlite.new_shop())
        build_state(driver)
        exported = on_sqlite.control("GET", "/snapshots", params={"shop": driver.shop.handle})
        assert exported.status_code == 200
    on_postgres = pair[0]
    imported = on_postgres.control("POST", "/snapshots", data=exported.text.encode(), headers=YAML)
    assert imported.status_code == 200, imported.text
    again = on_postgres.control("GET", "/snapshots", params={"shop": driver.shop.handle})
    assert again.text == exported.text

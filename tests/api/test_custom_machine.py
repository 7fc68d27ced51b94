"""A user adds a state and transitions in YAML alone and sees them through the API."""

import shutil

import pytest

from sandbox.app import create_app
from tests.conftest import ADMIN_TOKEN, APP_TOKEN, FIXTURES, READ_TOKEN
from tests.helpers import result_body, store_settings

PAYMENT = "PI0020261101000000002"

UNDER_REVIEW = """
      under_review: {app_status: PROCESSING, transaction_code: "1", legacy_status: pending}
"""
REVIEW_TRANSITIONS = """
      - {event: review, from: created, to: under_review}
      - {event: succeed, from: under_review, to: paid, guard: automatic_capture}
      - {event: give_up, from: under_review, to: failed, timeout: 30m}
"""


@pytest.fixture
def review_client(tmp_path):
    """The default fixtures with an extra payment state, written as a user would."""
    fixtures = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, fixtures)
    machines = (fixtures / "state_machines.yaml").read_text()
    machines = machines.replace(
        '      voided: {app_status: FAILURE, transaction_code: "3", legacy_status: expired}\n',
        '      voided: {app_status: FAILURE, transaction_code: "3", legacy_status: expired}\n'
        + UNDER_REVIEW.lstrip("\n"),
    )
    machines = machines.replace(
        "      - {event: fail, from: created, to: failed}\n",
        "      - {event: fail, from: created, to: failed}\n" + REVIEW_TRANSITIONS.lstrip("\n"),
    )
    (fixtures / "state_machines.yaml").write_text(machines)
    app = create_app(store_settings(data_dir=tmp_path / "data", fixtures=fixtures))
    return app.test_client()


def test_a_new_state_takes_effect_through_the_api(review_client):
    client = review_client
    response = client.post(f"/_sandbox/payments/{PAYMENT}/events", json={"event": "review"})
    assert response.json["state"] == "under_review"
    assert (
        client.get(f"/api/202412/payment/{PAYMENT}", headers=READ_TOKEN).json["payment"]["status"]
        == "1"
    )
    legacy = client.get("/orders/1002/payments/302", headers=ADMIN_TOKEN).json["payment"]
    assert legacy["status"] == "pending"
    # the app's result now moves the payment out of the new state
    put = client.put(
        f"/api/202412/app/payment/{PAYMENT}",
        json=result_body("payment", PAYMENT),
        headers=APP_TOKEN,
    )
    assert put.status_code == 200
    assert (
        client.get(f"/api/202412/payment/{PAYMENT}", headers=READ_TOKEN).json["payment"]["status"]
        == "2"
    )


def test_a_new_timeout_fires_on_the_sandbox_clock(review_client):
    client = review_client
    client.post("/_sandbox/clock", json={"frozen": True})
    client.post(f"/_sandbox/payments/{PAYMENT}/events", json={"event": "review"})
    client.post("/_sandbox/clock", json={"advance": "31m"})
    assert (
        client.get(f"/api/202412/payment/{PAYMENT}", headers=READ_TOKEN).json["payment"]["status"]
        == "9"
    )
    history = client.get(f"/_sandbox/payments/{PAYMENT}/history").json["history"]
    assert [h["event"] for h in history] == ["fixture", "review", "give_up"]


def test_a_broken_machine_file_refuses_to_start_naming_file_and_key(tmp_path):
    fixtures = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, fixtures)
    machines = (fixtures / "state_machines.yaml").read_text()
    (fixtures / "state_machines.yaml").write_text(
        machines.replace("to: refunded", "to: refundd", 1)
    )
    from sandbox.core.fixtures import FixtureError

    with pytest.raises(
        FixtureError, match=r"state_machines.yaml: machines.payment.transitions\[\d+\].to"
    ):
        create_app(store_settings(data_dir=tmp_path / "data", fixtures=fixtures))

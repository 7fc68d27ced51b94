"""A stateful property test over HTTP (issue 10.14): hypothesis drives checkouts, the app's
own results, a stray app's reports, captures, voids, refunds, clock moves and faults against
one shop of the live sandbox, and after every step checks what must always hold:

- captured <= authorized, refunded <= captured;
- a terminal state (one the payment machine never leaves) stays;
- the three views (the control record, Genstore's transaction API, the legacy order API) tell
  the same story, by the machine's own view table;
- no outbox message is lost: nothing the fake app reports is ever abandoned, and after a
  drain nothing due is left undelivered.

Bounded under `make test`; `make proof` runs many more, longer programs.
"""

from __future__ import annotations

from decimal import Decimal

import requests
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from tests.conftest import PROOF
from tests.e2e.conftest import Driver
from tests.helpers import result_body

MAGIC = ["success", "generic_decline", "delayed_result", "callback_retried", "insufficient_funds"]


class PaymentsOverHttp(RuleBasedStateMachine):
    sandbox = None  # the session's live sandbox, set by the test below

    payments = Bundle("payments")

    @initialize()
    def open_shop(self):
        self.driver = Driver(self.sandbox, self.sandbox.new_shop(rateLimit={"enabled": False}))
        machine = self.sandbox.control("GET", "/machines").json()["machines"]["payment"]
        self.views = machine["states"]
        leaving = {t["from"] for t in machine["transitions"] if t["from"] != t["to"]}
        self.terminal = set(self.views) - leaving
        self.last_state: dict[str, str] = {}

    # ---- what happens --------------------------------------------------------------------

    @rule(
        target=payments,
        cents=st.integers(min_value=100, max_value=50000),
        manual=st.booleans(),
        magic=st.sampled_from(MAGIC),
    )
    def checkout(self, cents, manual, magic):
        amount = f"{Decimal(cents) / 100:.2f}"
        return self.driver.checkout(amount=amount, manualCapture=manual, magic=magic)

    @rule(payment=payments, fraction=st.sampled_from(["0.25", "0.5", "1", "1.5"]))
    def capture(self, payment, fraction):
        self._operation(payment, "capture", fraction)

    @rule(payment=payments)
    def void(self, payment):
        self.driver.operation(payment, "void")

    @rule(payment=payments, fraction=st.sampled_from(["0.1", "0.5", "1", "2"]))
    def refund(self, payment, fraction):
        self._operation(payment, "refund", fraction)

    @rule(payment=payments, result=st.booleans())
    def stray_report(self, payment, result):
        """The app reports a result of its own (a retry, a late one, a contradicting one)."""
        body = result_body("payment", payment, result="true" if result else "false")
        response = requests.put(
            f"{self.driver.url}/api/202412/app/payment/{payment}",
            json=body,
            headers=self.driver.shop.headers("write_payment"),
            timeout=30,
        )
        assert response.status_code in (200, 409), response.text

    @rule(seconds=st.sampled_from([1, 5, 30, 61, 600, 3 * 86400]))
    def advance(self, seconds):
        self.driver.advance(seconds)

    @rule()
    def drain(self):
        outcome = self.driver.drain()
        assert outcome["due"] == 0, outcome  # nothing due is left behind

    @rule(target_name=st.sampled_from(["app.payment", "callbacks", "app.capture", "app.refund"]))
    def fault(self, target_name):
        armed = self.sandbox.control(
            "POST",
            "/faults",
            json={
                "shop": self.driver.shop.handle,
                "target": target_name,
                "kind": "status",
                "status": 503,
                "count": 1,
            },
        )
        assert armed.status_code == 201, armed.text

    def _operation(self, payment, kind, fraction):
        detail = self.driver.detail(payment)
        base = Decimal(detail["amount" if kind == "capture" else "capturedAmount"])
        amount = (base * Decimal(fraction)).quantize(Decimal("0.01"))
        response = self.driver.operation(payment, kind, amount=f"{max(amount, Decimal('0.01'))}")
        assert response.status_code in (201, 400, 409), response.text

    # ---- what always holds ---------------------------------------------------------------

    @invariant()
    def every_payment_adds_up_and_its_views_agree(self):
        if not hasattr(self, "driver"):
            return
        listed = self.sandbox.control(
            "GET", "/outbox", params={"shop": self.driver.shop.handle, "limit": 1000}
        ).json()["messages"]
        abandoned = [m for m in listed if m["side"] == "psp" and m["state"] == "failed"]
        assert abandoned == [], abandoned
        for payment_id in {m["paymentId"] for m in listed if m["paymentId"]}:
            self._check(payment_id)

    def _check(self, payment_id):
        for _ in range(5):  # the views of one instant: the outbox may move it between reads
            detail, transaction, legacy = self._views(payment_id)
            if self.driver.detail(payment_id)["state"] == detail["state"]:
                break
        state = detail["state"]
        amount, captured = Decimal(detail["amount"]), Decimal(detail["capturedAmount"])
        refunded = Decimal(detail["refundedAmount"])
        assert captured <= amount, detail
        assert refunded <= captured, detail
        before = self.last_state.get(payment_id)
        if before in self.terminal:
            assert state == before, f"{payment_id} left {before} for {state}"
        self.last_state[payment_id] = state
        view = self.views[state]
        assert transaction["status"] == view["transaction_code"], (state, transaction)
        assert legacy["status"] == view["legacy_status"], (state, legacy)

    def _views(self, payment_id):
        detail = self.driver.detail(payment_id)
        transaction = self.driver.status(payment_id)
        [legacy] = requests.get(
            f"{self.driver.url}/orders/{detail['orderId']}/payments",
            headers=self.driver.shop.headers("read_orders"),
            timeout=30,
        ).json()["payments"]
        return detail, transaction, legacy


def test_payments_over_http_keep_their_invariants(frozen_live):
    PaymentsOverHttp.sandbox = frozen_live
    run = PaymentsOverHttp.TestCase
    run.settings = settings(
        max_examples=40 if PROOF else 4,
        stateful_step_count=40 if PROOF else 12,
        deadline=None,
        derandomize=not PROOF,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    run("runTest").runTest()

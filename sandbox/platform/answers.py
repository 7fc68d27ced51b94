"""What the platform does with a payment app's immediate answers.

Every answer is checked against seed 001 (a deviation is a recorded contract violation, or, in a
strict shop, a failed request). A payment's 3-D Secure or redirect URL is remembered. And when
no result has come a while after the app answered (the machine's ``query_after``, on the sandbox
clock), the platform asks the app with Get payment or Get refund and applies what it says, as a
callback would have: the first result is final, whichever arrives first.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from sandbox import protocol
from sandbox.core.clock import Clock
from sandbox.core.fixtures import Fixtures
from sandbox.core.timefmt import to_storage
from sandbox.errors import Conflict
from sandbox.outbox import Message, Outbound, Outbox, Outcome
from sandbox.platform.callbacks import Callbacks, Result
from sandbox.store import outbox as messages
from sandbox.store import platform as rows
from sandbox.store.db import Database
from sandbox.store.records import Operation, Payment, Violation
from sandbox.store.tables import Connection

# What a status query's answer fires on the payment.
STATUS_EVENTS = {"SUCCESS": "succeed", "AUTH_SUCCESS": "authorize", "FAILURE": "fail"}
QUERY_CAP = timedelta(hours=1)  # queries while an app keeps saying PROCESSING back off to this


class AppAnswers:
    def __init__(
        self,
        db: Database,
        fixtures: Fixtures,
        clock: Clock,
        outbox: Outbox,
        callbacks: Callbacks,
    ):
        self.db = db
        self.fixtures = fixtures
        self.clock = clock
        self.outbox = outbox
        self.callbacks = callbacks

    # ---- the contract of an answer (an outbox check on every app.* request) -----------------

    def check(self, message: Message, outcome: Outcome) -> Outcome:
        request = message.kind.removeprefix("app.")
        if outcome.status is None or request not in protocol.ANSWER_FIELDS:
            return outcome
        problems = protocol.answer_problems(request, outcome.status, outcome.json())
        if not problems:
            return outcome
        text = "; ".join(f"{field}: {rule}" for field, rule in problems)
        self._record(message, problems)
        shop = rows.load_shop(self.db.read(), message.shop_id)
        if shop is None or not shop.strict:
            return replace(outcome, violation=text)
        self._fail_request(message, f"The app's answer broke seed 001: {text}")
        return replace(outcome, violation=text, refused=True, error=f"contract violation: {text}")

    def _record(self, message: Message, problems: list[tuple[str, str]]) -> None:
        at = to_storage(self.clock.now(message.shop_id))
        with self.db.write() as conn:
            for field, rule in problems:
                violation = Violation(
                    message.shop_id, message.payment_id, message.id, message.kind, field, rule, at
                )
                rows.insert_violation(conn, violation)

    def _fail_request(self, message: Message, reason: str) -> None:
        """A strict shop treats a non-conforming answer as a failed request: the payment or
        the operation it asked for fails (a status query's answer is simply not used)."""
        request = message.kind.removeprefix("app.")
        result, cause = Result(False, reason, None), f"{message.kind} answer (strict)"
        try:
            with self.db.write() as conn:
                if request in ("payment", "offsite_payment"):
                    payment = self._payment(conn, message)
                    if payment is not None:
                        self.callbacks.settle_payment(conn, payment, "fail", result, cause)
                elif request in ("capture", "void", "refund"):
                    found = self._operation(conn, message, request)
                    if found is not None:
                        operation, payment = found
                        self.callbacks.settle_operation(conn, operation, payment, result, cause)
        except Conflict:  # a result came first: it stands
            return

    # ---- answers to payment and refund requests ---------------------------------------------

    def payment_answered(self, message: Message, outcome: Outcome) -> None:
        """Remember the app's first answer (its 3-D Secure or redirect URL); ask for the result
        later if none comes."""
        answer = outcome.json()
        with self.db.write() as conn:
            payment = self._payment(conn, message)
            if payment is None:
                return
            if isinstance(answer, dict):
                rows.set_app_answer(conn, payment.shop_id, payment.payment_id, answer)
            self._ask_later(conn, payment, "get_payment", {"paymentId": payment.payment_id}, 0)

    def refund_answered(self, message: Message, outcome: Outcome) -> None:
        with self.db.write() as conn:
            found = self._operation(conn, message, "refund")
            if found is not None:
                operation, payment = found
                query = {"refundId": operation.operation_id}
                self._ask_later(conn, payment, "get_refund", query, 0)

    # ---- status queries -----------------------------------------------------------------------

    def payment_status(self, message: Message, outcome: Outcome) -> None:
        """Get payment's answer: a final status settles the payment (unless a result came
        first); PROCESSING asks again later."""
        answer = outcome.json()
        status = answer.get("status") if isinstance(answer, dict) else None
        with self.db.write() as conn:
            payment = self._payment(conn, message)
            if payment is None:
                return
            if status not in STATUS_EVENTS:
                query = {"paymentId": payment.payment_id}
                self._ask_later(conn, payment, "get_payment", query, self._asked(conn, message))
                return
        assert isinstance(answer, dict)
        result = Result(
            status != "FAILURE",
            _text(answer.get("error")) if status == "FAILURE" else None,
            _text(answer.get("channelPaymentId")),
        )
        self._settle(message, f"Get payment: {status}", STATUS_EVENTS[str(status)], result)

    def refund_status(self, message: Message, outcome: Outcome) -> None:
        answer = outcome.json()
        status = answer.get("status") if isinstance(answer, dict) else None
        with self.db.write() as conn:
            found = self._operation(conn, message, "refund", from_url=True)
            if found is None:
                return
            operation, payment = found
            if status not in ("SUCCESS", "FAILURE"):
                query = {"refundId": operation.operation_id}
                asked = self._asked(conn, message)
                self._ask_later(conn, payment, "get_refund", query, asked)
                return
        assert isinstance(answer, dict)
        result = Result(
            status == "SUCCESS",
            _text(answer.get("error")) if status == "FAILURE" else None,
            _text(answer.get("channelRefundId")),
        )
        self._settle(message, f"Get refund: {status}", None, result)

    def _settle(self, message: Message, cause: str, event: str | None, result: Result) -> None:
        """Apply a query's final status as a callback would; one that contradicts a result
        already recorded, or that the machine refuses, is a contract violation."""
        try:
            with self.db.write() as conn:
                if event is not None:
                    payment = self._payment(conn, message)
                    if payment is not None:
                        self.callbacks.settle_payment(conn, payment, event, result, cause)
                    return
                found = self._operation(conn, message, "refund", from_url=True)
                if found is not None:
                    operation, payment = found
                    self.callbacks.settle_operation(conn, operation, payment, result, cause)
        except Conflict as exc:
            self._record(message, [("status", f"{cause} cannot apply: {exc.message}")])

    def _ask_later(
        self, conn: Connection, payment: Payment, request: str, query: dict[str, str], asked: int
    ) -> None:
        """Schedule a status query while the object still waits for its result: after the
        machine's ``query_after``, doubling for each query already answered PROCESSING."""
        machine = self.fixtures.machines["payment" if request == "get_payment" else "refund"]
        if machine.query_after is None or payment.app_id is None:
            return
        if request == "get_payment" and payment.state != machine.initial:
            return
        if request == "get_refund":
            refund = rows.load_operation(conn, payment.shop_id, "refund", query["refundId"])
            if refund is None or refund.state != machine.initial:
                return
        app = rows.load_app(conn, payment.app_id)
        shop = rows.load_shop(conn, payment.shop_id)
        url = app.urls.get(request) if app is not None else None
        if not url or shop is None:
            return  # an app without the query cannot be asked
        wait = min(machine.query_after * 2**asked, QUERY_CAP)
        body: dict[str, str] | None = None
        if app is not None and app.status_query == "body":
            body = query  # seed 001's example: the id in a JSON body
        else:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"
        self.outbox.schedule(
            conn,
            Outbound(
                shop_id=payment.shop_id,
                payment_id=payment.payment_id,
                side="platform",
                kind=f"app.{request}",
                method="GET",
                url=url,
                headers={protocol.SHOP_HEADER: shop.domain} if shop.shop_header else {},
                body=body,
                due_at=self.clock.now(payment.shop_id) + wait,
            ),
        )

    # ---- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _asked(conn: Connection, message: Message) -> int:
        """How many queries of this kind about this payment were answered already."""
        if message.payment_id is None:
            return 0
        found = messages.list_messages(
            conn, messages.MessageFilter(message.shop_id, message.payment_id, message.kind)
        )
        return sum(1 for m in found if m.state == "delivered" or m.id == message.id)

    @staticmethod
    def _payment(conn: Connection, message: Message) -> Payment | None:
        if message.payment_id is None:
            return None
        return rows.load_payment(conn, message.shop_id, message.payment_id)

    def _operation(
        self, conn: Connection, message: Message, kind: str, from_url: bool = False
    ) -> tuple[Operation, Payment] | None:
        """The operation a request (its body) or a query (its URL, or its body in the JSON-body
        form) is about, with its payment."""
        operation_id = _query_value(message.url, f"{kind}Id") if from_url else None
        if operation_id is None:
            body = _json(message.body)
            operation_id = _text(body.get(f"{kind}Id")) if isinstance(body, dict) else None
        payment = self._payment(conn, message)
        if operation_id is None or payment is None:
            return None
        operation = rows.load_operation(conn, message.shop_id, kind, operation_id)
        return (operation, payment) if operation is not None else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _json(text: str | None) -> Any:
    try:
        return json.loads(text or "")
    except ValueError:
        return None


def _query_value(url: str, name: str) -> str | None:
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0] if values else None

"""Contract coverage: which items of the payment contract a shop's app was exercised on, and
how it did. Read from what the shop recorded (its payments, history and journal), after a
``verify`` run, a pytest session or a demo.

The items: each platform -> app request kind (payments by request shape, status queries by
form), each outcome a payment can reach, each callback with each result, each status a query
was answered with, each fault the app met. An item is covered once exercised; ``passed`` counts
the times it went well (answered 200 within the contract, or the payment still settled).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sandbox.core.fixtures import Fixtures
from sandbox.core.shapes import SENT_SHAPES
from sandbox.protocol import API_VERSION, PAYMENT_STATUSES, REFUND_STATUSES
from sandbox.store import journal as exchanges
from sandbox.store import platform as rows
from sandbox.store.db import Database
from sandbox.store.records import Payment, Shop

CALLBACK_KINDS = ("payment", "pre_authorize", "capture", "void", "refund")
GROUPS: dict[str, list[tuple[str, str]]] = {
    "requests": [
        *(
            (f"request.{kind}.{shape}", f"{title} request, {shape} shape")
            for kind, title in (("payment", "Card payment"), ("offsite_payment", "Offsite"))
            for shape in SENT_SHAPES
        ),
        ("request.capture", "Capture request"),
        ("request.void", "Void request"),
        ("request.refund", "Refund request"),
        *(
            (f"request.{kind}.{form}", f"{title} as a {text}")
            for kind, title in (("get_payment", "Get payment"), ("get_refund", "Get refund"))
            for form, text in (("query", "query parameter"), ("body", "JSON body"))
        ),
    ],
    "outcomes": [
        ("outcome.success", "Card payment succeeded"),
        ("outcome.decline", "Card payment declined"),
        ("outcome.three_ds_pass", "3-D Secure passed"),
        ("outcome.three_ds_fail", "3-D Secure failed"),
        ("outcome.offsite_approve", "Offsite approved"),
        ("outcome.offsite_cancel", "Offsite cancelled"),
        ("outcome.processing_then_query", "PROCESSING, then settled by a status query"),
    ],
    "callbacks": [
        *(
            (f"callback.{kind}.{result}", f"PUT /app/{kind} result {result}")
            for kind in CALLBACK_KINDS
            for result in ("success", "failure")
        ),
        ("callback.account_authorize.ready", "PUT /app/account_authorize ready"),
    ],
    "status answers": [
        *((f"status.get_payment.{s}", f"Get payment answered {s}") for s in PAYMENT_STATUSES),
        *((f"status.get_refund.{s}", f"Get refund answered {s}") for s in REFUND_STATUSES),
    ],
    "faults": [
        ("fault.5xx", "A 5xx answer to a callback or request"),
        ("fault.429", "A 429 answer to a callback"),
        ("fault.timeout", "A request that timed out or lost its connection"),
        ("fault.duplicate", "A request delivered twice"),
    ],
}


@dataclass
class _Tally:
    exercised: Counter[str]
    passed: Counter[str]

    def add(self, item: str, ok: bool) -> None:
        self.exercised[item] += 1
        if ok:
            self.passed[item] += 1


class Coverage:
    def __init__(self, db: Database, fixtures: Fixtures, sync: Any):
        """``sync``: flushes every worker's journal first (the journal's ``sync``)."""
        self.db = db
        self.fixtures = fixtures
        self.sync = sync

    def of_shop(self, shop: Shop) -> dict[str, Any]:
        self.sync()
        conn = self.db.read()
        payments = {
            p.payment_id: p
            for p in rows.list_shop_payments(conn, shop.id)
            if p.request_shape is not None  # checkouts, not fixture payments
        }
        tally = _Tally(Counter(), Counter())
        self._outcomes(tally, payments, rows.query_settled_payments(conn, shop.id))
        for entry in exchanges.shop_exchanges(conn, shop.id):
            if entry["direction"] == "outbound" and entry["kind"].startswith("app."):
                self._request(tally, entry, payments)
            elif entry["direction"] == "inbound":
                self._callback(tally, entry)
            if entry["fault"] or (entry["error"] or "").startswith("timed out"):
                self._fault(tally, entry, payments)
        return _report(shop.handle, tally)

    def _settled(self, payment: Payment | None) -> bool | None:
        """True when the payment succeeded, False when it failed, None while pending."""
        if payment is None:
            return None
        status = self.fixtures.machines["payment"].view(payment.state, "app_status")
        return {"SUCCESS": True, "AUTH_SUCCESS": True, "FAILURE": False}.get(status)

    def _outcomes(self, tally: _Tally, payments: dict[str, Payment], by_query: set[str]) -> None:
        for payment in payments.values():
            settled = self._settled(payment)
            if settled is None:
                continue
            answer = payment.app_answer or {}
            if payment.kind == "offsite":
                item = "offsite_approve" if settled else "offsite_cancel"
            elif answer.get("threeDsUrl"):
                item = "three_ds_pass" if settled else "three_ds_fail"
            else:
                item = "success" if settled else "decline"
            tally.add(f"outcome.{item}", True)
            if payment.payment_id in by_query:
                tally.add("outcome.processing_then_query", True)

    @staticmethod
    def _request(tally: _Tally, entry: dict[str, Any], payments: dict[str, Payment]) -> None:
        kind = entry["kind"].removeprefix("app.")
        ok = entry["status"] == 200 and not entry["violation"]
        if kind in ("payment", "offsite_payment"):
            payment = payments.get(entry["payment_id"] or "")
            if payment is not None and payment.request_shape in SENT_SHAPES:
                tally.add(f"request.{kind}.{payment.request_shape}", ok)
        elif kind in ("get_payment", "get_refund"):
            form = "body" if entry["request_body"] else "query"
            tally.add(f"request.{kind}.{form}", ok)
            status = _json(entry["response_body"]).get("status")
            if isinstance(status, str):
                tally.add(f"status.{kind}.{status}", not entry["violation"])
        else:
            tally.add(f"request.{kind}", ok)

    @staticmethod
    def _callback(tally: _Tally, entry: dict[str, Any]) -> None:
        prefix = f"/api/{API_VERSION}/app/"
        if not entry["path"].startswith(prefix) or entry["kind"].startswith("GET"):
            return
        kind = entry["path"].removeprefix(prefix).split("/")[0]
        pay = _json(entry["request_body"]).get("pay")
        pay = pay if isinstance(pay, dict) else {}
        ok = entry["status"] == 200
        if kind == "account_authorize":
            if pay.get("ready") in (True, "true"):
                tally.add("callback.account_authorize.ready", ok)
        elif kind in CALLBACK_KINDS and pay.get("result") in (True, "true", False, "false"):
            result = "success" if pay["result"] in (True, "true") else "failure"
            tally.add(f"callback.{kind}.{result}", ok)

    def _fault(self, tally: _Tally, entry: dict[str, Any], payments: dict[str, Payment]) -> None:
        kind = (entry["fault"] or "").split(" ")[0]
        status = entry["status"]
        if kind == "duplicate":
            item = "duplicate"
        elif kind == "status" and status == 429:
            item = "429"
        elif kind == "status" and status is not None and status >= 500:
            item = "5xx"
        elif kind in ("latency", "drop") or status is None:
            item = "timeout"
        else:
            return
        # Survived: the payment it hit still settled.
        survived = self._settled(payments.get(entry["payment_id"] or "")) is not None
        tally.add(f"fault.{item}", survived)


def _report(handle: str, tally: _Tally) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    for group, entries in GROUPS.items():
        covered = 0
        for item_id, title in entries:
            exercised = tally.exercised[item_id]
            covered += exercised > 0
            items.append({"id": item_id, "group": group, "title": title,
                          "exercised": exercised, "passed": tally.passed[item_id]})  # fmt: skip
        groups.append({"name": group, "covered": covered, "total": len(entries)})
    covered = sum(int(g["covered"]) for g in groups)
    total = len(items)
    return {
        "shop": handle,
        "percent": round(100 * covered / total, 1),
        "covered": covered,
        "total": total,
        "groups": groups,
        "items": items,
    }


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}

"""A small client of a running sandbox's control API, for the CLI (and scripts)."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from typing import Any

import requests

from sandbox.settings import CONTROL_TOKEN_ENV

DEFAULT_URL = "http://127.0.0.1:8080"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


class ClientError(Exception):
    pass


class ControlSession(requests.Session):
    """requests as the control API wants them: its token (``token``, else
    ``$GENSTORE_SANDBOX_CONTROL_TOKEN``) on every ``/_sandbox`` call, and a JSON Content-Type
    declared on every change, even one without a body."""

    def __init__(self, token: str | None = None):
        super().__init__()
        self.control_token = token or os.environ.get(CONTROL_TOKEN_ENV) or None

    def request(  # type: ignore[override]
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if "/_sandbox" in url:
            headers = dict(kwargs.pop("headers", None) or {})
            if self.control_token and "Authorization" not in headers:
                headers["Authorization"] = f"Bearer {self.control_token}"
            bodiless = kwargs.get("json") is None and kwargs.get("data") is None
            if method.upper() not in _SAFE and bodiless:
                headers.setdefault("Content-Type", "application/json")
            kwargs["headers"] = headers
        return super().request(method, url, *args, **kwargs)


class SandboxClient:
    def __init__(self, url: str | None = None, shop: str = "demo", token: str | None = None):
        self.url = (url or os.environ.get("GENSTORE_SANDBOX_URL") or DEFAULT_URL).rstrip("/")
        self.shop = shop
        self.http = ControlSession(token)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, self.url + path, timeout=30, **kwargs)
        except requests.ConnectionError:
            raise ClientError(
                f"cannot reach the sandbox at {self.url}: is it running? (make run, or --url)"
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = {"error": response.text[:200]}
        if response.status_code >= 400:
            raise ClientError(f"{response.status_code}: {body.get('error', body)}")
        return body

    def raw(self, method: str, path: str, **kwargs: Any) -> str:
        """A call whose answer is text (snapshots are YAML)."""
        try:
            response = self.http.request(method, self.url + path, timeout=30, **kwargs)
        except requests.ConnectionError:
            raise ClientError(f"cannot reach the sandbox at {self.url}: is it running?") from None
        if response.status_code >= 400:
            raise ClientError(f"{response.status_code}: {response.text[:300]}")
        return response.text

    def checkout(self, **fields: Any) -> dict:
        body = {k: v for k, v in fields.items() if v is not None}
        return self.call("POST", "/_sandbox/checkouts", json={"shop": self.shop, **body})

    def operation(self, payment_id: str, kind: str, amount: str | None) -> dict:
        body: dict[str, Any] = {"shop": self.shop}
        if amount is not None:
            body["amount"] = amount
        return self.call("POST", f"/_sandbox/payments/{payment_id}/{kind}s", json=body)

    def timeline(self, payment_id: str) -> dict:
        return self.call(
            "GET", f"/_sandbox/payments/{payment_id}/timeline", params={"shop": self.shop}
        )

    def wait(self, payment_id: str, operation_id: str | None, seconds: float) -> dict:
        """Poll until the payment (or operation) has its result or a buyer step, or until only
        results due after the wait (or on a frozen clock) are left; at most ``seconds``."""
        deadline = time.monotonic() + seconds
        while True:
            current = self.timeline(payment_id)
            clock = self.call("GET", "/_sandbox/clock")
            left = deadline - time.monotonic()
            horizon = clock["now"] if clock["frozen"] else _later(clock["now"], max(left, 0))
            if left <= 0 or _settled(current, operation_id, horizon):
                return current
            time.sleep(0.05)  # the CLI waits on a running server in real time


def _later(iso: str, seconds: float) -> str:
    moment = datetime.fromisoformat(iso) + timedelta(seconds=seconds)
    return moment.isoformat(timespec="microseconds")


def _settled(current: dict, operation_id: str | None, horizon: str) -> bool:
    """Nothing is due before ``horizon``, and the object has an outcome or waits on a buyer."""
    if any(e["type"] == "scheduled" and e["at"] <= horizon for e in current["timeline"]):
        return False
    payment = current["payment"]
    if operation_id is not None:
        operation = next(o for o in payment["operations"] if o["id"] == operation_id)
        return operation["state"] != "pending" or _has_scheduled(current)
    return (
        payment["transactionStatus"] != "1"
        or payment["nextAction"] is not None
        or _has_scheduled(current)
    )


# The platform's own status queries: scheduled while an app's result is awaited, they do not
# mean a result is on its way (an app that calls back on its own would be given up on).
STATUS_QUERIES = ("app.get_payment", "app.get_refund")


def _has_scheduled(current: dict) -> bool:
    """Something is scheduled that brings the result (the fake app's delayed callback, a
    retry), not merely the platform's status query."""
    return any(
        e["type"] == "scheduled" and e["message"] not in STATUS_QUERIES for e in current["timeline"]
    )


def render(current: dict) -> str:
    payment = current["payment"]
    method = f"card ····{payment['cardLast4']}" if payment.get("cardLast4") else payment["kind"]
    manual = " · manual capture" if payment["manualCapture"] else ""
    lines = [
        f"Payment {payment['paymentId']} · {payment['amount']} {payment['currency']} · "
        f"{method}{manual}"
    ]
    for entry in current["timeline"]:
        at = entry["at"][11:23]
        if entry["type"] == "state":
            move = f"{entry['from']} -> {entry['to']}" if entry["from"] else entry["to"]
            lines.append(
                f"  {at}  state     {entry['kind']} {entry['id']}: {move} "
                f"({entry['event']}, {entry['cause']})"
            )
        elif entry["type"] in ("request", "callback"):
            result = (
                f"{entry['status']} in {entry['durationMs']:.0f} ms"
                if entry["status"] is not None
                else f"failed: {entry['error']}"
            )
            answer = entry.get("responseBody")
            detail = f" {answer}" if entry["type"] == "request" and answer else ""
            lines.append(
                f"  {at}  {entry['type']:<9} #{entry['attempt']} {entry['method']} "
                f"{entry['url']} -> {result}{detail}"
            )
        elif entry["type"] == "violation":
            lines.append(f"  {at}  violation {entry['message']}: {entry['field']}: {entry['rule']}")
        else:
            lines.append(
                f"  {at}  scheduled {entry['method']} {entry['url']} "
                f"(after {entry['attempts']} attempts)"
            )
    lines.append(
        f"Final state: {payment['state']} (transaction status {payment['transactionStatus']}; "
        f"captured {payment['capturedAmount']}, refunded {payment['refundedAmount']})"
    )
    if payment.get("nextAction"):
        url = payment["nextAction"]["url"]
        verb = "pass" if payment["nextAction"]["type"] == "three_ds" else "approve"
        lines.append(f"Buyer action needed: open {url} (headless: {url}?action={verb})")
    pending = [e for e in current["timeline"] if e["type"] == "scheduled"]
    if pending:
        lines.append(
            f"Still scheduled: {len(pending)} message(s); next due {pending[0]['at']} "
            "on the sandbox clock"
        )
    return "\n".join(lines)


def render_coverage(coverage: dict[str, Any]) -> str:
    """The contract coverage as a short table: a line per group, then what was missed."""
    lines = [f"Contract coverage: {coverage['percent']:g}% ({coverage['covered']} of "
             f"{coverage['total']} items)"]  # fmt: skip
    for group in coverage["groups"]:
        lines.append(f"  {group['name']:<16} {group['covered']}/{group['total']}")
    missed = [item["id"] for item in coverage["items"] if not item["exercised"]]
    if missed:
        lines.append("  not exercised: " + ", ".join(missed))
    return "\n".join(lines)

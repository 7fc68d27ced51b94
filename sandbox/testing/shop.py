"""A fresh, isolated shop on a live sandbox, with its own frozen clock: what a test drives.

Every helper talks HTTP to the sandbox (the control API and the platform API), so a test
written with it checks what a real app or platform would see."""

from __future__ import annotations

import time
from typing import Any

from sandbox.testing.live import Sandbox, ShopCredentials


class SandboxShop:
    """A shop of its own: its tokens, apps and clock (frozen at creation) are nobody else's."""

    def __init__(self, sandbox: Sandbox, credentials: ShopCredentials, frozen: bool = True):
        """``frozen``: the shop gets a frozen clock of its own (else it follows the global
        clock, running in real time, as an app under test outside the sandbox does)."""
        self.sandbox = sandbox
        self.credentials = credentials
        self.handle = credentials.handle
        self.url = sandbox.url
        self.domain = f"{credentials.handle}.genmystore.com"
        self.frozen = frozen
        if frozen:
            self._call("POST", "/clock", json={"shop": self.handle, "frozen": True})

    # ---- credentials ------------------------------------------------------------------------

    def token(self, scope: str) -> str:
        return self.credentials.token(scope)

    def headers(self, scope: str) -> dict[str, str]:
        return self.credentials.headers(scope)

    # ---- driving payments -------------------------------------------------------------------

    def checkout(self, **body: Any) -> str:
        """Start a payment (``amount``, ``card``, ``magic``, ``manualCapture``, ``offsite``,
        ``app``, ...); its payment id."""
        started = self._call("POST", "/checkouts", json={"shop": self.handle, **body})
        return str(started["paymentId"])

    def capture(self, payment_id: str, amount: str | None = None) -> str:
        return self._operation(payment_id, "capture", amount)

    def void(self, payment_id: str) -> str:
        return self._operation(payment_id, "void", None)

    def refund(self, payment_id: str, amount: str | None = None) -> str:
        return self._operation(payment_id, "refund", amount)

    def _operation(self, payment_id: str, kind: str, amount: str | None) -> str:
        body: dict[str, Any] = {"shop": self.handle}
        if amount is not None:
            body["amount"] = amount
        return str(self._call("POST", f"/payments/{payment_id}/{kind}s", json=body)["id"])

    # ---- time -------------------------------------------------------------------------------

    def now(self) -> str:
        return str(self._call("GET", "/clock", params={"shop": self.handle})["now"])

    def advance(self, by: str | float) -> dict[str, Any]:
        """Move this shop's clock on (``"30s"``, ``"2d"``, seconds); what became due is
        delivered before this returns."""
        return self._call("POST", "/clock", json={"shop": self.handle, "advance": by})

    def drain(self) -> dict[str, Any]:
        """Deliver everything that is due now."""
        return self._call("POST", "/outbox/drain")

    def catch_up(self) -> None:
        """On a frozen clock, deliver what is due now; on a running one the sandbox's own
        outbox threads already do (and a drain would wait on every shop's traffic)."""
        if self.frozen:
            self.drain()

    def wait_for(self, payment_id: str, state: str, timeout: float = 10.0) -> dict[str, Any]:
        """The payment once it is in ``state``: what is due is delivered first, and an app
        answering in real time is given up to ``timeout`` seconds. Fails at once when the
        payment settled elsewhere."""
        deadline = time.monotonic() + timeout
        while True:
            self.catch_up()
            detail = self.payment(payment_id)
            if detail["state"] == state:
                return detail
            if detail["transactionStatus"] != "1" or time.monotonic() > deadline:
                raise AssertionError(
                    f"payment {payment_id} is {detail['state']}, not {state}"
                    + (f" (violations: {detail['violations']})" if detail["violations"] else "")
                )
            time.sleep(0.05)  # a real app answers in real time: poll it, do not wait it out

    # ---- reading ----------------------------------------------------------------------------

    def payment(self, payment_id: str) -> dict[str, Any]:
        """The platform's record: state, money, operations, violations."""
        return self._call("GET", f"/payments/{payment_id}", params={"shop": self.handle})

    def timeline(self, payment_id: str) -> list[dict[str, Any]]:
        path = f"/payments/{payment_id}/timeline"
        return list(self._call("GET", path, params={"shop": self.handle})["timeline"])

    def transaction(self, payment_id: str) -> dict[str, Any]:
        """``GET /api/202412/payment/{id}`` as a merchant tool sees it."""
        response = self.sandbox.http.get(
            f"{self.url}/api/202412/payment/{payment_id}",
            headers=self.headers("read_payments_transaction"),
            timeout=10,
        )
        if not response.ok:
            raise AssertionError(f"{response.status_code} {response.text}")
        return dict(response.json()["payment"])

    def journal(self, **query: Any) -> list[dict[str, Any]]:
        """This shop's recorded exchanges, newest first (``paymentId``, ``direction``,
        ``kind``, ``path``, ``limit``, ...)."""
        params = {"shop": self.handle, "limit": 100, **query}
        return list(self._call("GET", "/journal", params=params)["entries"])

    def violations(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/violations", params={"shop": self.handle})["violations"])

    def coverage(self) -> dict[str, Any]:
        """Which items of the payment contract this shop's app was exercised on, and how it
        did (``GET /_sandbox/coverage``)."""
        return self._call("GET", "/coverage", params={"shop": self.handle})

    def assert_no_violations(self) -> None:
        """Fail, naming each one, if any app answered this shop against seed 001."""
        found = self.violations()
        if found:
            lines = [f"{v['request']} {v['paymentId']}: {v['field']}: {v['rule']}" for v in found]
            raise AssertionError("contract violations:\n  " + "\n  ".join(lines))

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.sandbox.control(method, path, **kwargs)
        if not response.ok:
            raise AssertionError(
                f"{method} /_sandbox{path}: {response.status_code} {response.text}"
            )
        body: dict[str, Any] = response.json()
        return body

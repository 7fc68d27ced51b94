"""A payment app written from the seeds alone, with a worker that reports results and retries,
that can be broken on purpose: ``verify`` must fail exactly the cases each break breaks.

Breaks: ``wrong_amount`` (echoes another amount in its refund answers), ``double_charge``
(charges a repeated paymentId again), ``no_callbacks`` (never reports a result),
``no_retry_after_5xx`` (gives a callback up after a 5xx), ``missing_field`` (refund answers
without channelRefundId), ``ignores_manual_capture`` (captures every payment at once),
``no_get_payment`` (has no Get payment).

``seed_strict`` makes it an app that does only what the seeds require, in ways the built-in
fake app does not: it reports an authorization through ``PUT /app/payment``, declines without
a ``reason``, reports ``account_authorize`` after its first payment (never when its launch URL
is opened), reads Get payment / Get refund from a JSON body, and serves its calls at its own
``paths``.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from typing import Any

import requests
from flask import Flask, redirect, request
from werkzeug.serving import make_server

from sandbox.conformance.runner import APP_PATHS
from tests.e2e.independent_app import BUILDING, IndependentApp

DECLINE, THREE_DS = "4000000000000002", "4000002760003184"
# Where the seven calls are served: the verify --app-url shortcut's layout.
SHORTCUT_PATHS = APP_PATHS


class AppUnderTest:
    def __init__(
        self,
        platform_url: str,
        token: str,
        breaks: frozenset[str] = frozenset(),
        seed_strict: bool = False,
        paths: dict[str, str] | None = None,
        callback_delay: float = 0.0,
    ):
        self.platform_url, self.token, self.breaks = platform_url, token, breaks
        self.seed_strict = seed_strict
        self.paths = paths or SHORTCUT_PATHS
        self.authorized_account = False
        self.callback_delay = callback_delay  # seconds before each result is reported
        self._crypto = IndependentApp()  # its GENSTORE-V1 decryption and its key
        self._crypto.close()
        self.public_key = self._crypto.public_key
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.answers: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._outbox: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self._stop = threading.Event()
        with BUILDING:  # one thread at a time (see independent_app.BUILDING)
            app = self._build()
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._threads = [
            threading.Thread(target=self._server.serve_forever, daemon=True),
            threading.Thread(target=self._report, daemon=True),
        ]

    def __enter__(self) -> AppUnderTest:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def config(self, name: str) -> dict[str, Any]:
        """The app as ``POST /_sandbox/apps`` (and ``verify --app-config``) take it."""
        return {
            "name": name,
            "urls": {kind: self.url + path for kind, path in self.paths.items()},
            "publicKey": self.public_key,
            "accessToken": self.token,
            "statusQuery": "body" if self.seed_strict else "query",
        }

    # ---- the worker that reports results ------------------------------------------------

    def _send_later(self, kind: str, object_id: str, pay: dict[str, Any]) -> None:
        if "no_callbacks" not in self.breaks:
            self._outbox.put((f"/api/202412/app/{kind}/{object_id}", {"pay": pay}))

    def _report(self) -> None:
        while not self._stop.is_set():
            try:
                path, body = self._outbox.get(timeout=0.1)
            except queue.Empty:
                continue
            if self.callback_delay:
                time.sleep(self.callback_delay)  # an app whose worker reports a while later
            for _ in range(10):
                try:
                    response = requests.put(
                        self.platform_url + path,
                        json=body,
                        headers={"X-Genstore-Access-Token": self.token},
                        timeout=5,
                    )
                except requests.RequestException:
                    time.sleep(0.1)  # the platform is unreachable for now: try again soon
                    continue
                retry = response.status_code == 429 or (
                    response.status_code >= 500 and "no_retry_after_5xx" not in self.breaks
                )
                if not retry:
                    break
                time.sleep(0.1)  # a short backoff before the retry

    # ---- the seven calls, the buyer's pages, the launch page --------------------------------

    def _build(self) -> Flask:
        app = Flask("app-under-test")

        paths = self.paths

        @app.post(paths["payment"])
        def card_payment():
            body = request.get_json(force=True)
            payment_id = body["paymentId"]
            if payment_id in self.answers and "double_charge" not in self.breaks:
                return self.answers[payment_id]
            card = self._crypto.decrypt(body["paymentMethod"]["data"])
            manual = self._manual(body)
            channel = f"ch-{next(self._ids)}"
            record = {"amount": body["amount"], "manual": manual, "channel": channel}
            self.payments[payment_id] = record
            if card["pan"] == THREE_DS:
                record["status"] = "PROCESSING"
                answer = {"threeDsUrl": f"{self.url}/3ds/{payment_id}", "error": ""}
            elif card["pan"] == DECLINE:
                record["status"] = "FAILURE"
                answer = {"error": "Do not honor"}
                self._result(payment_id, False, None if self.seed_strict else "Do not honor")
            else:
                record["status"] = "AUTH_SUCCESS" if manual else "SUCCESS"
                answer = {"error": ""}
                self._result(payment_id, True, None)
            self.answers[payment_id] = answer
            if self.seed_strict and not self.authorized_account:
                # This app reports the merchant's account ready after its first payment.
                self.authorized_account = True
                self._outbox.put(("/api/202412/app/account_authorize", {"pay": {"ready": True}}))
            return answer

        @app.post(paths["offsite_payment"])
        def offsite_payment():
            body = request.get_json(force=True)
            payment_id = body["paymentId"]
            manual = self._manual(body)
            self.payments[payment_id] = {
                "amount": body["amount"],
                "manual": manual,
                "channel": f"ch-{next(self._ids)}",
                "status": "PROCESSING",
            }
            return {"redirectUrl": f"{self.url}/3ds/{payment_id}", "error": ""}

        @app.get("/3ds/<payment_id>")
        def buyer_page(payment_id):
            record = self.payments[payment_id]
            if request.args.get("action") in ("pass", "approve"):
                record["status"] = "AUTH_SUCCESS" if record["manual"] else "SUCCESS"
                self._result(payment_id, True, None)
                return redirect(f"{self.url}/done", code=303)
            return "<form><button name=action value=pass>Pass</button></form>"

        def operation(kind):
            body = request.get_json(force=True)
            object_id = body[f"{kind}Id"]
            record = self.payments.get(body["paymentId"], {})
            record["status"] = "SUCCESS" if kind == "capture" else "FAILURE"
            channel = f"ch{kind}-{object_id}"
            channel_field = f"channel{kind.capitalize()}Id"
            pay = {"result": "true", f"{kind}Id": object_id, channel_field: channel}
            self._send_later(kind, object_id, pay)
            return {f"channel{kind.capitalize()}Id": channel}

        for kind in ("capture", "void"):
            app.add_url_rule(paths[kind], kind, lambda kind=kind: operation(kind), methods=["POST"])

        @app.post(paths["refund"])
        def refund():
            body = request.get_json(force=True)
            refund_id = body["refundId"]
            channel = f"chr-{refund_id}"
            self.refunds[refund_id] = {"channel": channel, "status": "SUCCESS"}
            pay = {"result": "true", "refundId": refund_id, "channelRefundId": channel}
            self._send_later("refund", refund_id, pay)
            answer: dict[str, Any] = {"channelRefundId": channel}
            if "missing_field" in self.breaks:
                answer = {}
            if "wrong_amount" in self.breaks:
                answer["amount"] = "999.99"
            return answer

        @app.get(paths["get_payment"])
        def get_payment():
            if "no_get_payment" in self.breaks:
                return {"error": "Not found"}, 404
            record = self.payments.get(self._asked_id("paymentId"))
            if record is None:
                return {"channelPaymentId": "", "status": "PROCESSING", "error": "Not found"}
            return {"channelPaymentId": record["channel"], "status": record["status"]}

        @app.get(paths["get_refund"])
        def get_refund():
            record = self.refunds.get(self._asked_id("refundId"))
            if record is None:
                return {"channelRefundId": "", "status": "PROCESSING", "error": "Not found"}
            return {"channelRefundId": record["channel"], "status": record["status"]}

        @app.get("/")
        def launch():
            """The merchant opens the app: it reports the account ready (the seed-strict app
            already did, at a moment of its own)."""
            if not self.seed_strict:
                pay = {"ready": "true"}
                self._outbox.put(("/api/202412/app/account_authorize", {"pay": pay}))
            return "<p>Ready</p>"

        return app

    def _asked_id(self, name: str) -> str:
        """The id a status query asks about: in the JSON body (seed 001's example) for the
        seed-strict app, else the query parameter."""
        if self.seed_strict:
            body = request.get_json(force=True, silent=True) or {}
            return str(body.get(name, ""))
        return request.args.get(name, "")

    def _manual(self, body: dict[str, Any]) -> bool:
        """Seed 001: manualCapture "true for automatic capture, false for manual capture"."""
        return body["manualCapture"] == "false" and "ignores_manual_capture" not in self.breaks

    def _result(self, payment_id: str, result: bool, reason: str | None) -> None:
        record = self.payments[payment_id]
        via_pre_authorize = record["manual"] and result and not self.seed_strict
        kind = "pre_authorize" if via_pre_authorize else "payment"
        pay = {"result": "true" if result else "false", "paymentId": payment_id}
        pay["channelPaymentId"] = record["channel"]
        if reason:
            pay["reason"] = reason
        self._send_later(kind, payment_id, pay)

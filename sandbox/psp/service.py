"""The fake payment app: what its HTTP handlers call. It answers at once and reports outcomes
later through the outbox, exactly as a real app would: the platform learns results only from
its callbacks. Intake, outcomes, buyer sessions, operation rules and reports live in their own
modules; this one puts them in order and keeps the records."""

from __future__ import annotations

import hmac
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox import protocol
from sandbox.core import crypto, magic
from sandbox.core.clock import Clock
from sandbox.core.fixtures import builtin_psp_urls
from sandbox.core.ids import Ids
from sandbox.core.timefmt import to_storage
from sandbox.errors import Conflict, NotFound, invalid
from sandbox.outbox import Outbound, Outbox
from sandbox.psp import intake, operations, outcomes
from sandbox.psp.reports import Report, payment_report
from sandbox.store import psp as records
from sandbox.store.db import Database
from sandbox.store.outbox import SANDBOX_URL
from sandbox.store.psp import Installation, PspOperation, PspPayment
from sandbox.store.tables import Connection


class PspService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        ids: Ids,
        catalogue: list[magic.Magic],
        keys: crypto.CardKeys,
        self_url: str,
        outbox: Outbox,
    ):
        self.db = db
        self.clock = clock
        self.ids = ids
        self.catalogue = catalogue
        self.keys = keys
        self.self_url = self_url
        self.outbox = outbox

    # ---- payments ---------------------------------------------------------------------------

    def card_payment(self, domain: str, body: dict[str, Any]) -> dict[str, Any]:
        install = self._installation(domain)
        request = intake.accept_payment("card", body, install.capture_flag)
        data = body["paymentMethod"]["data"]
        with self.db.write() as conn:
            replay = self._replay(conn, install, request, {"error": ""})
            if replay is not None:
                return replay
            now = self.clock.now(install.shop_id)
            channel_id = "psp_pay_" + self.ids.suffix(16)
            card: intake.Card | None = None
            try:
                card = intake.read_card(data, self.keys.private_key_pem, self.keys.info, now)
                chosen = magic.choose(self.catalogue, card.pan, card.holder, request.amount)
                decision = outcomes.for_card(chosen, request.amount, request.manual_capture)
            except (crypto.CryptoError, intake.CardError) as exc:
                card, decision = None, outcomes.unreadable(str(exc))
            token = self.ids.suffix(24) if decision.status is None else None
            answer: dict[str, Any] = {"error": decision.answered_reason}
            if token is not None:
                answer = {"threeDsUrl": f"{self.self_url}/psp/3ds/{token}", "error": ""}
            payment = self._record(
                conn,
                install,
                request,
                "card",
                channel_id,
                decision,
                answer,
                token=token,
                card=card,
                return_url=data.get("returnUrl"),
            )
            if decision.status is not None:
                self._report(conn, install, payment, now + decision.delay, decision)
            return answer

    def offsite_payment(self, domain: str, body: dict[str, Any]) -> dict[str, Any]:
        install = self._installation(domain)
        request = intake.accept_payment("offsite", body, install.capture_flag)
        data = body["paymentMethod"]["data"]
        with self.db.write() as conn:
            replay = self._replay(conn, install, request, {"redirectUrl": "", "error": ""})
            if replay is not None:
                return replay
            token = self.ids.suffix(24)
            answer = {"redirectUrl": f"{self.self_url}/psp/offsite/{token}", "error": ""}
            self._record(
                conn,
                install,
                request,
                "offsite",
                "psp_pay_" + self.ids.suffix(16),
                outcomes.Decision("offsite", None),
                answer,
                token=token,
                return_url=data["returnUrl"],
                cancel_url=data["cancelUrl"],
            )
            return answer

    # ---- the buyer's pages ------------------------------------------------------------------

    def session(self, token: str) -> PspPayment:
        payment = records.payment_by_session(self.db.read(), token)
        if payment is None:
            raise NotFound("No such 3-D Secure or checkout session")
        return payment

    def buyer_action(self, token: str, action: str) -> tuple[str | None, str]:
        """The buyer passed or failed 3-D Secure, or approved or cancelled offsite.

        Returns where to send the buyer next and what happened."""
        with self.db.write() as conn:
            payment = records.payment_by_session(conn, token)
            if payment is None:
                raise NotFound("No such 3-D Secure or checkout session")
            valid = ("pass", "fail") if payment.kind == "card" else ("approve", "cancel")
            if action not in valid:
                raise invalid("action", f"use {' or '.join(valid)}")
            if payment.decision is not None:
                raise Conflict(f"This session is already complete: {payment.decision}")
            install = self._installation(payment.shop_domain)
            status, reason = outcomes.for_buyer(
                self.catalogue, action, Decimal(payment.amount), payment.manual_capture
            )
            now = self.clock.now(install.shop_id)
            records.update_payment(
                conn,
                payment.shop_domain,
                payment.payment_id,
                decision=status,
                reason=reason,
                decided_at=to_storage(now),
                captured=payment.amount if status == "SUCCESS" else "0",
            )
            self._report(conn, install, payment, now, outcomes.Decision("buyer", status, reason))
        target = payment.cancel_url if action == "cancel" else payment.return_url
        return target, status

    # ---- captures, voids, refunds ---------------------------------------------------------

    def capture(self, domain: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._operation(domain, "capture", body["captureId"], body, body.get("amount"))

    def void(self, domain: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._operation(domain, "void", body["voidId"], body, None)

    def refund(self, domain: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._operation(domain, "refund", body["refundId"], body, body.get("amount"))

    def _operation(
        self, domain: str, kind: str, operation_id: str, body: dict[str, Any], raw: Any
    ) -> dict[str, Any]:
        install = self._installation(domain)
        intake.require_test(body)
        fingerprint = intake.fingerprint(kind, operation_id, body["paymentId"], raw)
        with self.db.write() as conn:
            existing = records.load_operation(conn, install.shop_domain, kind, operation_id)
            if existing is not None:
                if existing.fingerprint != fingerprint:
                    # Seed 001 answers every request 200; what went wrong goes in `error`.
                    return {
                        protocol.channel_field(kind): existing.channel_id,
                        "error": f"{kind}Id {operation_id} was already used with different "
                        "parameters",
                    }
                return records.answer_of(existing)
            payment = records.load_payment(conn, install.shop_domain, body["paymentId"])
            now = self.clock.now(install.shop_id)
            amount, refusal = operations.judge(kind, payment, raw, now)
            channel_id = operations.PREFIXES[kind] + self.ids.suffix(16)
            if refusal is None and payment is not None:
                changes = operations.effect(kind, payment, amount)
                records.update_payment(conn, install.shop_domain, payment.payment_id, **changes)
            answer = {protocol.channel_field(kind): channel_id}
            if refusal is not None:
                answer["error"] = refusal
            records.insert_operation(
                conn,
                PspOperation(
                    shop_domain=install.shop_domain,
                    kind=kind,
                    operation_id=operation_id,
                    payment_id=body["paymentId"],
                    fingerprint=fingerprint,
                    amount=str(amount) if amount is not None else None,
                    channel_id=channel_id,
                    decision="FAILURE" if refusal else "SUCCESS",
                    reason=refusal,
                    answer=json.dumps(answer),
                    created_at=to_storage(now),
                ),
            )
            report = Report(
                kind, operation_id, body["paymentId"], refusal is None, refusal, channel_id
            )
            self._send(conn, install, report, now, 0)
            return answer

    # ---- queries ----------------------------------------------------------------------------

    def payment_status(self, domain: str, payment_id: str) -> dict[str, Any]:
        install = self._installation(domain)
        payment = records.load_payment(self.db.read(), install.shop_domain, payment_id)
        if payment is None:  # seed 001's own example of this answer
            return {
                "channelPaymentId": "",
                "error": "Not found payment information.",
                "status": "PROCESSING",
            }
        status = operations.status(payment, self.clock.now(install.shop_id))
        answer = {"channelPaymentId": payment.channel_payment_id, "status": status}
        if status == "FAILURE" and payment.reason:
            answer["error"] = payment.reason
        return answer

    def refund_status(self, domain: str, refund_id: str) -> dict[str, Any]:
        install = self._installation(domain)
        refund = records.load_operation(self.db.read(), install.shop_domain, "refund", refund_id)
        if refund is None:
            return {
                "channelRefundId": "",
                "error": "Not found refund information.",
                "status": "PROCESSING",
            }
        answer = {"channelRefundId": refund.channel_id, "status": refund.decision}
        if refund.reason:
            answer["error"] = refund.reason
        return answer

    # ---- installation -----------------------------------------------------------------------

    def verify_launch(self, params: dict[str, str]) -> tuple[str, bool]:
        """Check a launch URL's ``hmac`` with the client secret of the shop's install. Opened
        by the merchant with a valid signature, the app reports the account ready
        (``account_authorize``), as a real app does once it is set up."""
        domain = params.get("shop", "")
        install = records.load_installation(self.db.read(), domain)
        if install is None or not install.client_secret or "hmac" not in params:
            return domain, False
        expected = protocol.sign_launch(params, install.client_secret)
        valid = hmac.compare_digest(expected, params["hmac"])
        if valid:
            with self.db.write() as conn:
                self.outbox.schedule(
                    conn,
                    Outbound(
                        shop_id=install.shop_id,
                        payment_id=None,
                        side="psp",
                        kind="psp.account_authorize",
                        method="PUT",
                        url=install.platform_url + protocol.ACCOUNT_AUTHORIZE_PATH,
                        headers={protocol.TOKEN_HEADER: install.access_token},
                        body={"pay": {"ready": protocol.flag(True)}},
                        until_answered=True,
                    ),
                )
        return domain, valid

    def install(
        self, shop_domain: str, platform_url: str, access_token: str, capture_flag: str
    ) -> dict[str, Any]:
        """Point the fake app's callbacks for ``shop_domain`` at a platform (yours): as an app
        learns at OAuth install where the shop is and which token to use. Answers the URLs
        the platform sends this installation's requests to."""
        if not platform_url.startswith(("http://", "https://")):
            raise invalid("platformUrl", "must be an http(s) URL")
        url = platform_url.rstrip("/")
        with self.db.write() as conn:
            records.point_installation(
                conn,
                Installation(shop_domain, 0, url, access_token, capture_flag=capture_flag),
                to_storage(self.clock.now()),
            )
        urls = {
            kind: target.replace(SANDBOX_URL, self.self_url)
            for kind, target in builtin_psp_urls(shop_domain).items()
        }
        return {"shopDomain": shop_domain, "platformUrl": url, "urls": urls}

    # ---- helpers ----------------------------------------------------------------------------

    def _installation(self, domain: str) -> Installation:
        install = records.load_installation(self.db.read(), domain)
        if install is None:
            raise NotFound(f"The sandbox payment app is not installed in shop {domain}")
        return install

    def _replay(
        self,
        conn: Connection,
        install: Installation,
        request: intake.PaymentRequest,
        refusal: dict[str, Any],
    ) -> dict[str, Any] | None:
        """The first answer again when the same paymentId comes with the same parameters;
        ``refusal`` with an ``error`` when it comes with others (seed 001 answers 200)."""
        payment = records.load_payment(conn, install.shop_domain, request.payment_id)
        if payment is None:
            return None
        if payment.fingerprint != request.fingerprint:
            error = f"paymentId {request.payment_id} was already used with different parameters"
            return {**refusal, "error": error}
        return records.answer_of(payment)

    def _record(
        self,
        conn: Connection,
        install: Installation,
        request: intake.PaymentRequest,
        kind: str,
        channel_id: str,
        decision: outcomes.Decision,
        answer: dict[str, Any],
        **session: Any,
    ) -> PspPayment:
        """Store a new payment with its decision; ``session`` holds the buyer's session token,
        card and return/cancel URLs where there are any."""
        now = self.clock.now(install.shop_id)
        card: intake.Card | None = session.pop("card", None)
        token = session.pop("token", None)
        payment = PspPayment(
            shop_domain=install.shop_domain,
            payment_id=request.payment_id,
            channel_payment_id=channel_id,
            kind=kind,
            fingerprint=request.fingerprint,
            amount=str(request.amount),
            currency=request.currency,
            manual_capture=request.manual_capture,
            decision=decision.status,
            reason=decision.reason,
            decided_at=to_storage(now + decision.delay) if decision.status else None,
            captured=str(request.amount) if decision.status == "SUCCESS" else "0",
            refunded="0",
            answer=json.dumps(answer),
            created_at=to_storage(now),
            card_last4=card.pan[-4:] if card else None,
            holder=card.holder if card else None,
            magic=decision.magic,
            action_token=token,
            **session,
        )
        records.insert_payment(conn, payment)
        return payment

    def _report(
        self,
        conn: Connection,
        install: Installation,
        payment: PspPayment,
        due: datetime,
        decision: outcomes.Decision,
    ) -> None:
        report = payment_report(
            payment.payment_id,
            payment.manual_capture,
            decision.status or "FAILURE",
            decision.reason,
            payment.channel_payment_id,
        )
        self._send(conn, install, report, due, decision.callback_failures)

    def _send(
        self,
        conn: Connection,
        install: Installation,
        report: Report,
        due: datetime,
        failures: int,
    ) -> None:
        """The callback through the outbox, due at ``due``; the first ``failures`` attempts
        fail on purpose (a magic value's flaky network)."""
        self.outbox.schedule(
            conn,
            Outbound(
                shop_id=install.shop_id,
                payment_id=report.payment_id,
                side="psp",
                kind=f"psp.{report.kind}_result",
                method="PUT",
                url=report.url(install),
                headers=report.headers(install),
                body=report.body(),
                due_at=due,
                fail_attempts=failures,
                until_answered=True,  # a result not taken with a 200 is not recorded: resend
            ),
        )

"""The fake payment app's behaviour. It answers at once and reports outcomes later through the
outbox, exactly as a real app would: the platform learns results only from its callbacks."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.core import crypto, magic, money
from sandbox.core.clock import Clock
from sandbox.core.ids import Ids
from sandbox.core.timefmt import from_storage, to_storage
from sandbox.errors import ApiError, BadRequest, Conflict, NotFound, invalid, parse_amount_field
from sandbox.outbox import Outbox
from sandbox.platform.oauth import sign_launch
from sandbox.store.db import Database

SHOP_HEADER = "X-Genstore-Shop-Domain"
DECLINE_ON_CANCEL = "Buyer cancelled the payment"


@dataclass(frozen=True)
class Installation:
    shop_domain: str
    shop_id: int
    platform_url: str
    access_token: str


class PspService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        ids: Ids,
        catalogue: list[magic.Magic],
        private_key_pem: str,
        self_url: str,
        hkdf_info: bytes = b"",
    ):
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.ids = ids
        self.catalogue = catalogue
        self.private_key_pem = private_key_pem
        self.self_url = self_url
        self.hkdf_info = hkdf_info

    # ---- payments ---------------------------------------------------------------------------

    def card_payment(self, domain: str | None, body: dict[str, Any]) -> dict[str, Any]:
        install, amount, currency, fingerprint = self._accept_payment(domain, "card", body)
        with self.db.write() as conn:
            replay = self._replay(conn, install, body["paymentId"], fingerprint)
            if replay is not None:
                return replay
            channel_id = "psp_pay_" + self.ids.suffix(16)
            try:
                card = crypto.decrypt_card(
                    body["paymentMethod"]["data"], self.private_key_pem, self.hkdf_info
                )
                pan, holder = _check_card(card, self.clock.now())
                chosen = magic.choose(self.catalogue, pan, holder, amount)
            except (crypto.CryptoError, CardError) as exc:
                pan, holder = None, None
                chosen = magic.Magic("unreadable_card", str(exc), "decline", reason=str(exc))
            now = self.clock.now()
            answer: dict[str, Any] = {"error": ""}
            decision, reason, token = None, None, None
            if chosen.outcome == "three_ds":
                token = self.ids.suffix(24)
                answer = {"threeDsUrl": f"{self.self_url}/psp/3ds/{token}", "error": ""}
            elif chosen.outcome == "decline":
                decision, reason = "FAILURE", chosen.reason_for(amount)
                answer = {"error": reason if not chosen.delay else ""}
            else:
                decision = "AUTH_SUCCESS" if body["manualCapture"] else "SUCCESS"
            self._insert_payment(
                conn,
                install,
                body,
                "card",
                fingerprint,
                channel_id,
                amount,
                currency,
                decision,
                reason,
                now + chosen.delay if decision else None,
                pan,
                holder,
                chosen.name,
                token,
                body["paymentMethod"]["data"].get("returnUrl"),
                None,
                answer,
            )
            if decision is not None:
                self._report_payment(
                    conn,
                    install,
                    body["paymentId"],
                    bool(body["manualCapture"]),
                    decision,
                    reason,
                    channel_id,
                    now + chosen.delay,
                    chosen.callback_failures,
                )
            return answer

    def offsite_payment(self, domain: str | None, body: dict[str, Any]) -> dict[str, Any]:
        install, amount, currency, fingerprint = self._accept_payment(domain, "offsite", body)
        with self.db.write() as conn:
            replay = self._replay(conn, install, body["paymentId"], fingerprint)
            if replay is not None:
                return replay
            token = self.ids.suffix(24)
            answer = {"redirectUrl": f"{self.self_url}/psp/offsite/{token}", "error": ""}
            data = body["paymentMethod"]["data"]
            self._insert_payment(
                conn,
                install,
                body,
                "offsite",
                fingerprint,
                "psp_pay_" + self.ids.suffix(16),
                amount,
                currency,
                None,
                None,
                None,
                None,
                None,
                "offsite",
                token,
                data["returnUrl"],
                data["cancelUrl"],
                answer,
            )
            return answer

    def buyer_action(self, token: str, action: str) -> tuple[str | None, str]:
        """The buyer passed or failed 3-D Secure, or approved or cancelled offsite.

        Returns where to send the buyer next and what happened."""
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT * FROM psp_payments WHERE action_token = ?", (token,)
            ).fetchone()
            if row is None:
                raise NotFound("No such 3-D Secure or checkout session")
            valid = ("pass", "fail") if row["kind"] == "card" else ("approve", "cancel")
            if action not in valid:
                raise invalid("action", f"use {' or '.join(valid)}")
            if row["decision"] is not None:
                raise Conflict(f"This session is already complete: {row['decision']}")
            install = self._installation(row["shop_domain"])
            amount = Decimal(row["amount"])
            manual = bool(row["manual_capture"])
            if action in ("pass", "approve"):
                chosen = magic.choose(self.catalogue, None, None, amount)
                if chosen.outcome == "decline":
                    decision, reason = "FAILURE", chosen.reason_for(amount)
                else:
                    decision, reason = ("AUTH_SUCCESS" if manual else "SUCCESS"), None
            elif action == "fail":
                decision, reason = "FAILURE", "3-D Secure authentication failed"
            else:
                decision, reason = "FAILURE", DECLINE_ON_CANCEL
            now = self.clock.now()
            captured = row["amount"] if decision == "SUCCESS" else "0"
            conn.execute(
                "UPDATE psp_payments SET decision = ?, reason = ?, decided_at = ?, captured = ? "
                "WHERE shop_domain = ? AND payment_id = ?",
                (
                    decision,
                    reason,
                    to_storage(now),
                    captured,
                    row["shop_domain"],
                    row["payment_id"],
                ),
            )
            self._report_payment(
                conn,
                install,
                row["payment_id"],
                manual,
                decision,
                reason,
                row["channel_payment_id"],
                now,
                0,
            )
        target = row["cancel_url"] if action == "cancel" else row["return_url"]
        return target, decision

    def session(self, token: str) -> dict[str, Any]:
        row = (
            self.db.read()
            .execute("SELECT * FROM psp_payments WHERE action_token = ?", (token,))
            .fetchone()
        )
        if row is None:
            raise NotFound("No such 3-D Secure or checkout session")
        return dict(row)

    # ---- captures, voids, refunds ---------------------------------------------------------

    def capture(self, domain: str | None, body: dict[str, Any]) -> dict[str, Any]:
        return self._operation(domain, "capture", body["captureId"], body, body.get("amount"))

    def void(self, domain: str | None, body: dict[str, Any]) -> dict[str, Any]:
        return self._operation(domain, "void", body["voidId"], body, None)

    def refund(self, domain: str | None, body: dict[str, Any]) -> dict[str, Any]:
        return self._operation(domain, "refund", body["refundId"], body, body.get("amount"))

    def _operation(self, domain, kind, operation_id, body, raw_amount) -> dict[str, Any]:
        install = self._installation(domain)
        _require_test(body)
        fingerprint = _fingerprint(kind, operation_id, body["paymentId"], raw_amount)
        with self.db.write() as conn:
            existing = conn.execute(
                "SELECT fingerprint, answer FROM psp_operations WHERE shop_domain = ? AND kind = ? "
                "AND operation_id = ?",
                (install.shop_domain, kind, operation_id),
            ).fetchone()
            if existing is not None:
                if existing["fingerprint"] != fingerprint:
                    raise Conflict(
                        f"{kind}Id {operation_id} was already used with different parameters"
                    )
                return json.loads(existing["answer"])
            payment = conn.execute(
                "SELECT * FROM psp_payments WHERE shop_domain = ? AND payment_id = ?",
                (install.shop_domain, body["paymentId"]),
            ).fetchone()
            amount, refusal = self._judge(kind, payment, raw_amount)
            channel_id = f"psp_{kind[:3]}_" + self.ids.suffix(16)
            if refusal is None:
                self._apply(conn, kind, payment, amount)
            answer = {f"channel{kind.capitalize()}Id": channel_id}
            if refusal is not None:
                answer["error"] = refusal
            conn.execute(
                "INSERT INTO psp_operations (shop_domain, kind, operation_id, payment_id, "
                "fingerprint, amount, channel_id, decision, reason, answer, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    install.shop_domain,
                    kind,
                    operation_id,
                    body["paymentId"],
                    fingerprint,
                    str(amount) if amount is not None else None,
                    channel_id,
                    "FAILURE" if refusal else "SUCCESS",
                    refusal,
                    json.dumps(answer),
                    to_storage(self.clock.now()),
                ),
            )
            self._callback(
                conn,
                install,
                kind,
                operation_id,
                body["paymentId"],
                refusal is None,
                refusal,
                channel_id,
                self.clock.now(),
                0,
            )
            return answer

    def _judge(self, kind, payment, raw_amount) -> tuple[Decimal | None, str | None]:
        """The amount, and why the operation is refused (None when it is not)."""
        if payment is None:
            return None, "Payment not found"
        currency = payment["currency"]
        amount = None
        if raw_amount is not None:
            try:
                amount = money.parse_amount(raw_amount, currency)
            except ValueError as exc:
                return None, f"Invalid amount: {exc}"
        status = self._status(payment)
        authorized = Decimal(payment["amount"])
        captured, refunded = Decimal(payment["captured"]), Decimal(payment["refunded"])
        if kind == "capture":
            if status == "SUCCESS" and payment["manual_capture"]:
                return amount, "Payment do not support multiple captures"
            if status != "AUTH_SUCCESS":
                return amount, f"Payment is not authorized (status {status})"
            if amount > authorized:
                return amount, f"Capture amount {amount} exceeds the authorized {authorized}"
        elif kind == "void":
            if status != "AUTH_SUCCESS":
                return amount, f"Only an authorized payment can be voided (status {status})"
        elif kind == "refund":
            if captured <= 0 or status not in ("SUCCESS",):
                return amount, f"Payment has not been captured (status {status})"
            if refunded + amount > captured:
                left = money.format_amount(captured - refunded, currency)
                return amount, f"Refund amount {amount} exceeds what is left to refund ({left})"
        return amount, None

    def _apply(self, conn, kind, payment, amount) -> None:
        key = (payment["shop_domain"], payment["payment_id"])
        if kind == "capture":
            conn.execute(
                "UPDATE psp_payments SET captured = ? WHERE shop_domain = ? AND payment_id = ?",
                (str(amount), *key),
            )
        elif kind == "void":
            conn.execute(
                "UPDATE psp_payments SET voided = 1 WHERE shop_domain = ? AND payment_id = ?", key
            )
        else:
            refunded = Decimal(payment["refunded"]) + amount
            conn.execute(
                "UPDATE psp_payments SET refunded = ? WHERE shop_domain = ? AND payment_id = ?",
                (str(refunded), *key),
            )

    # ---- queries ----------------------------------------------------------------------------

    def payment_status(self, domain: str | None, payment_id: str) -> dict[str, Any]:
        install = self._installation(domain)
        row = (
            self.db.read()
            .execute(
                "SELECT * FROM psp_payments WHERE shop_domain = ? AND payment_id = ?",
                (install.shop_domain, payment_id),
            )
            .fetchone()
        )
        if row is None:
            raise NotFound(f"Payment {payment_id} not found")
        status = self._status(row)
        answer = {"channelPaymentId": row["channel_payment_id"], "status": status}
        if status == "FAILURE" and row["reason"]:
            answer["error"] = row["reason"]
        return answer

    def refund_status(self, domain: str | None, refund_id: str) -> dict[str, Any]:
        install = self._installation(domain)
        row = (
            self.db.read()
            .execute(
                "SELECT * FROM psp_operations WHERE shop_domain = ? AND kind = 'refund' "
                "AND operation_id = ?",
                (install.shop_domain, refund_id),
            )
            .fetchone()
        )
        if row is None:
            raise NotFound(f"Refund {refund_id} not found")
        answer = {"channelRefundId": row["channel_id"], "status": row["decision"]}
        if row["reason"]:
            answer["error"] = row["reason"]
        return answer

    def _status(self, row) -> str:
        if row["decision"] is None or from_storage(row["decided_at"]) > self.clock.now():
            return "PROCESSING"
        if row["voided"]:
            return "FAILURE"
        if row["decision"] == "AUTH_SUCCESS" and Decimal(row["captured"]) > 0:
            return "SUCCESS"
        return row["decision"]

    # ---- installation -----------------------------------------------------------------------

    def verify_launch(self, params: dict[str, str]) -> tuple[str, bool]:
        """Check a launch URL's ``hmac`` with the client secret of the shop's install."""
        domain = params.get("shop", "")
        row = (
            self.db.read()
            .execute("SELECT client_secret FROM psp_installations WHERE shop_domain = ?", (domain,))
            .fetchone()
        )
        if row is None or not row["client_secret"] or "hmac" not in params:
            return domain, False
        expected = sign_launch(params, row["client_secret"])
        return domain, hmac.compare_digest(expected, params["hmac"])

    def install(self, shop_domain: str, platform_url: str, access_token: str) -> dict[str, Any]:
        """Point the fake app's callbacks for ``shop_domain`` at a platform (yours): as an app
        learns at OAuth install where the shop is and which token to use."""
        if not platform_url.startswith(("http://", "https://")):
            raise invalid("platformUrl", "must be an http(s) URL")
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO psp_installations (shop_domain, shop_id, platform_url, "
                "access_token, created_at) VALUES (?, 0, ?, ?, ?) ON CONFLICT (shop_domain) DO "
                "UPDATE SET platform_url = excluded.platform_url, "
                "access_token = excluded.access_token",
                (shop_domain, platform_url.rstrip("/"), access_token, to_storage(self.clock.now())),
            )
        return {"shopDomain": shop_domain, "platformUrl": platform_url.rstrip("/")}

    # ---- helpers ----------------------------------------------------------------------------

    def _installation(self, domain: str | None) -> Installation:
        if not domain:
            raise BadRequest(f"Missing {SHOP_HEADER} header: which shop is this request for?")
        row = (
            self.db.read()
            .execute("SELECT * FROM psp_installations WHERE shop_domain = ?", (domain,))
            .fetchone()
        )
        if row is None:
            raise NotFound(f"The sandbox payment app is not installed in shop {domain}")
        return Installation(
            row["shop_domain"], row["shop_id"], row["platform_url"], row["access_token"]
        )

    def _accept_payment(self, domain, kind: str, body: dict[str, Any]):
        """The shop's installation, the amount and currency, and the request's fingerprint
        (what must match when the same paymentId comes again)."""
        install = self._installation(domain)
        _require_test(body)
        try:
            currency = money.check_currency(body["currency"])
        except ValueError as exc:
            raise invalid("currency", str(exc)) from None
        amount = parse_amount_field(body["amount"], currency)
        fingerprint = _fingerprint(
            kind, body["paymentId"], str(amount), currency, body["manualCapture"]
        )
        return install, amount, currency, fingerprint

    def _replay(self, conn, install, payment_id, fingerprint) -> dict[str, Any] | None:
        row = conn.execute(
            "SELECT fingerprint, answer FROM psp_payments WHERE shop_domain = ? AND payment_id = ?",
            (install.shop_domain, payment_id),
        ).fetchone()
        if row is None:
            return None
        if row["fingerprint"] != fingerprint:
            raise Conflict(f"paymentId {payment_id} was already used with different parameters")
        return json.loads(row["answer"])

    def _insert_payment(
        self,
        conn,
        install,
        body,
        kind,
        fingerprint,
        channel_id,
        amount,
        currency,
        decision,
        reason,
        decided_at,
        pan,
        holder,
        magic_name,
        token,
        return_url,
        cancel_url,
        answer,
    ) -> None:
        captured = amount if decision == "SUCCESS" else Decimal(0)
        conn.execute(
            "INSERT INTO psp_payments (shop_domain, payment_id, channel_payment_id, kind, "
            "fingerprint, amount, currency, manual_capture, decision, reason, decided_at, "
            "captured, refunded, card_last4, holder, magic, action_token, return_url, "
            "cancel_url, answer, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '0', ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                install.shop_domain,
                body["paymentId"],
                channel_id,
                kind,
                fingerprint,
                str(amount),
                currency,
                int(bool(body["manualCapture"])),
                decision,
                reason,
                to_storage(decided_at) if decided_at else None,
                str(captured),
                pan[-4:] if pan else None,
                holder,
                magic_name,
                token,
                return_url,
                cancel_url,
                json.dumps(answer),
                to_storage(self.clock.now()),
            ),
        )

    def _report_payment(
        self, conn, install, payment_id, manual, decision, reason, channel_id, due, failures
    ) -> None:
        kind = "pre_authorize" if manual else "payment"
        self._callback(
            conn,
            install,
            kind,
            payment_id,
            payment_id,
            decision != "FAILURE",
            reason,
            channel_id,
            due,
            failures,
        )

    def _callback(
        self,
        conn,
        install,
        kind,
        object_id,
        payment_id,
        result,
        reason,
        channel_id,
        due: datetime,
        failures: int,
    ) -> None:
        """``PUT /api/202412/app/{kind}/{id}`` with the app's token, through the outbox."""
        id_field = {"payment": "paymentId", "pre_authorize": "paymentId"}.get(kind, f"{kind}Id")
        channel_field = {"payment": "channelPaymentId", "pre_authorize": "channelPaymentId"}.get(
            kind, f"channel{kind.capitalize()}Id"
        )
        pay: dict[str, Any] = {
            "result": "true" if result else "false",
            id_field: object_id,
            channel_field: channel_id,
        }
        if reason:
            pay["reason"] = reason
        self.outbox.schedule(
            conn,
            shop_id=install.shop_id,
            payment_id=payment_id,
            side="psp",
            kind=f"psp.{kind}_result",
            method="PUT",
            url=f"{install.platform_url}/api/202412/app/{kind}/{object_id}",
            headers={"X-Genstore-Access-Token": install.access_token},
            body={"pay": pay},
            due_at=due,
            fail_attempts=failures,
        )


class CardError(ValueError):
    pass


def _check_card(card: dict[str, Any], now: datetime) -> tuple[str, str | None]:
    pan = str(card.get("pan", "")).replace(" ", "")
    if not pan.isdigit():
        raise CardError("Invalid card number")
    try:
        month, year = int(card.get("month")), int(card.get("year"))
    except (TypeError, ValueError):
        raise CardError("Invalid expiry date") from None
    if not 1 <= month <= 12:
        raise CardError("Invalid expiry date")
    year = year + 2000 if year < 100 else year
    if (year, month) < (now.year, now.month):
        raise CardError("Expired card")
    holder = card.get("fullName")
    return pan, holder if isinstance(holder, str) else None


def _require_test(body: dict[str, Any]) -> None:
    if body.get("test") is not True:
        raise ApiError(
            "The sandbox payment app accepts test requests only (test: true)",
            details={"test": ["must be true"]},
            status=400,
        )


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).hexdigest()

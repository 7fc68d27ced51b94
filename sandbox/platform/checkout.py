"""The checkout driver: the platform side of a payment, as Genstore starts it.

It creates the order and the payment, encrypts the card to the app's registered key and sends
the platform -> app request through the outbox; later, captures, voids and refunds the same
way. It never waits for the app: results come back through the callbacks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.core import crypto, money, shapes
from sandbox.core.clock import Clock
from sandbox.core.digits import ascii_digits
from sandbox.core.fixtures import Fixtures
from sandbox.core.ids import Ids
from sandbox.core.timefmt import to_storage
from sandbox.errors import Conflict, NotFound, invalid, parse_amount_field
from sandbox.outbox import Outbound, Outbox
from sandbox.platform.lifecycle import Lifecycle, record_history
from sandbox.protocol import SHOP_HEADER, flag, manual_capture_flag
from sandbox.store import platform as rows
from sandbox.store.db import Database
from sandbox.store.records import (
    App,
    NewApp,
    NewOperation,
    NewPayment,
    Order,
    Payment,
    Shop,
    Step,
    Token,
)
from sandbox.store.tables import Connection

DEFAULT_CARD = "4242424242424242"


@dataclass(frozen=True)
class AppRegistration:
    """A payment app registered in a shop (yours, on any host)."""

    name: str
    urls: dict[str, str]
    public_key: str | None
    scopes: list[str]
    capture_flag: str = "published"
    activated: bool = False
    access_token: str | None = None  # the token its callbacks carry; default a new one
    status_query: str = "query"  # how Get payment / Get refund ask: protocol.STATUS_QUERY_FORMS
    move_token: bool = False  # take access_token from the app holding it (a reinstall)
    client_secret: str | None = None  # what signs its launch URLs; default a new one


@dataclass(frozen=True)
class CheckoutRequest:
    shop: str
    amount: str | None
    currency: str | None = None
    app: str | None = None
    card: str | None = None
    magic: str | None = None
    holder: str | None = None
    manual_capture: bool = False
    offsite: bool = False
    request_shape: str | None = None  # default: the shop's (shapes.REQUEST_SHAPES)


class CheckoutService:
    def __init__(
        self,
        db: Database,
        fixtures: Fixtures,
        clock: Clock,
        outbox: Outbox,
        ids: Ids,
        lifecycle: Lifecycle,
        self_url: str,
        hkdf_info: bytes = b"",
    ):
        self.db = db
        self.fixtures = fixtures
        self.clock = clock
        self.outbox = outbox
        self.ids = ids
        self.lifecycle = lifecycle
        self.self_url = self_url
        self.hkdf_info = hkdf_info

    # ---- checkout ---------------------------------------------------------------------------

    def _fresh_id(self, prefix: str, now: datetime, taken: Callable[[str], object]) -> str:
        """A Genstore-looking id no row of the shop has yet (checked inside the caller's write
        transaction): six random digits a second collide at a few hundred checkouts a second,
        and workers started with the same --seed draw the same digits."""
        while True:
            candidate = self.ids.numbered(prefix, now)
            if taken(candidate) is None:
                return candidate

    def checkout(self, request: CheckoutRequest) -> dict[str, Any]:
        shop = self._shop(request.shop)
        pan, holder, raw_amount = self._card_and_amount(request)
        currency = request.currency or shop.currency
        amount = parse_amount_field(raw_amount, currency)
        kind = "offsite_payment" if request.offsite else "payment"
        shape = shapes.resolve(request.request_shape or shop.request_shape, self.ids.pick)
        with self.db.write() as conn:
            app = self._app(conn, shop, request.app, kind)
            if kind == "payment" and not app.public_key:
                raise Conflict(f"App '{app.name}' has no public key to encrypt card data to")
            now = self.clock.now(shop.id)
            order_id = rows.next_order_id(conn, shop.id)
            legacy_id = rows.next_legacy_id(conn, shop.id)
            payment_id = self._fresh_id(
                "PI", now, lambda candidate: rows.load_payment(conn, shop.id, candidate)
            )
            stamp = to_storage(now)
            rows.insert_order(
                conn, Order(shop.id, order_id, f"{now:%Y%m%d%H%M%S}{order_id}", stamp)
            )
            method = {
                "gateway": app.name,
                "id": app.id,
                "name": app.name,
                "pay_type": "offsite" if request.offsite else "credit_card",
                "payment_method_type": "online",
            }
            initial = self.fixtures.machines["payment"].initial
            rows.insert_payment(
                conn,
                NewPayment(
                    shop_id=shop.id,
                    payment_id=payment_id,
                    legacy_id=legacy_id,
                    order_id=order_id,
                    app_id=app.id,
                    amount=money.format_amount(amount, currency),
                    currency=currency,
                    manual_capture=request.manual_capture,
                    state=initial,
                    state_entered_at=stamp,
                    method=method,
                    created_at=stamp,
                    updated_at=stamp,
                    kind="offsite" if request.offsite else "card",
                    card_last4=pan[-4:] if pan else None,
                    request_shape=shape,
                ),
            )
            record_history(
                conn,
                Step(
                    shop.id,
                    "payment",
                    payment_id,
                    payment_id,
                    "checkout",
                    "",
                    initial,
                    stamp,
                    "POST /_sandbox/checkouts",
                ),
            )
            self.lifecycle.events.payment_created(conn, shop.id, payment_id, order_id)
            body = self._payment_body(
                shop, app, payment_id, amount, currency, request, (pan, holder, shape)
            )
            self._send_to_app(conn, shop, app, payment_id, kind, body)
        return {
            "paymentId": payment_id,
            "orderId": order_id,
            "shop": shop.handle,
            "app": app.name,
            "amount": money.format_amount(amount, currency),
            "currency": currency,
            "manualCapture": request.manual_capture,
            "offsite": request.offsite,
            "cardLast4": pan[-4:] if pan else None,
            "requestShape": shape,
            "state": initial,
        }

    def _card_and_amount(self, request: CheckoutRequest) -> tuple[str | None, str | None, Any]:
        if request.card and request.magic:
            raise invalid("magic", "give card or magic, not both")
        pan, holder, amount = request.card, request.holder, request.amount
        if request.magic:
            entry = self.fixtures.magic_named(request.magic)
            if entry is None:
                names = ", ".join(m.name for m in self.fixtures.magic)
                raise invalid("magic", f"unknown magic value '{request.magic}' (known: {names})")
            if entry.luhn_invalid:
                pan = "4242424242424241"  # the catalogue's own example of a Luhn failure
            elif entry.card:
                pan = entry.card
            holder = entry.holder or holder
            if entry.amount_from is not None and amount is None:
                amount = str(entry.amount_from)
        if request.offsite:
            return None, holder, amount if amount is not None else "25.00"
        pan = (pan or DEFAULT_CARD).replace(" ", "")
        if not ascii_digits(pan) or not 12 <= len(pan) <= 19:
            raise invalid("card", "12 to 19 digits")
        return pan, holder, amount if amount is not None else "25.00"

    def _payment_body(
        self,
        shop: Shop,
        app: App,
        payment_id: str,
        amount: Decimal,
        currency: str,
        request: CheckoutRequest,
        card_holder_shape: tuple[str | None, str | None, str],
    ) -> dict[str, Any]:
        pan, holder, shape = card_holder_shape
        now = self.clock.now(shop.id)
        return_url = f"{self.self_url}/_sandbox/return?shop={shop.handle}&paymentId={payment_id}"
        base: dict[str, Any] = {
            "paymentId": payment_id,
            "amount": money.format_amount(amount, currency),
            "currency": currency,
            "test": flag(True),
            "manualCapture": manual_capture_flag(request.manual_capture, app.capture_flag),
        }
        if request.offsite:
            cancel = f"{return_url}&cancelled=true"
            data = {"returnUrl": return_url, "cancelUrl": cancel}
            return shapes.payment_body(shape, base, data, offsite=True)
        card = {
            "pan": pan,
            "month": 12,
            "year": now.year + 3,
            "verificationValue": "123",
            "fullName": holder or "John Smith",
        }
        try:
            encrypted = crypto.encrypt_card(card, app.public_key or "", self.hkdf_info)
        except crypto.CryptoError as exc:
            raise Conflict(f"App '{app.name}': {exc}") from None
        data = {**encrypted, "returnUrl": return_url}
        return shapes.payment_body(shape, base, data, offsite=False)

    # ---- captures, voids, refunds -----------------------------------------------------------

    def capture(self, handle: str, payment_id: str, raw_amount: Any) -> dict[str, Any]:
        return self._operation(handle, payment_id, "capture", raw_amount)

    def void(self, handle: str, payment_id: str) -> dict[str, Any]:
        return self._operation(handle, payment_id, "void", None)

    def refund(self, handle: str, payment_id: str, raw_amount: Any) -> dict[str, Any]:
        return self._operation(handle, payment_id, "refund", raw_amount)

    def _operation(
        self, handle: str, payment_id: str, kind: str, raw_amount: Any
    ) -> dict[str, Any]:
        shop = self._shop(handle)
        now = self.clock.now(shop.id)
        with self.db.write() as conn:
            payment = rows.load_payment(conn, shop.id, payment_id)
            if payment is None:
                raise NotFound(f"Payment {payment_id} not found in shop '{handle}'")
            payment = self.lifecycle.apply_payment_timeouts(conn, payment, now)
            amount = self._check_operation(conn, payment, kind, raw_amount)
            app = rows.load_app(conn, payment.app_id) if payment.app_id is not None else None
            if app is None:
                raise Conflict(f"Payment {payment_id} has no payment app to ask")
            prefix = {"capture": "CA", "void": "VO", "refund": "RE"}[kind]
            operation_id = self._fresh_id(
                prefix, now, lambda candidate: rows.load_operation(conn, shop.id, kind, candidate)
            )
            initial = self.fixtures.machines[kind].initial
            formatted = money.format_amount(amount, payment.currency) if amount else None
            stamp = to_storage(now)
            rows.insert_operation(
                conn,
                NewOperation(shop.id, kind, operation_id, payment_id, formatted, initial, stamp),
            )
            record_history(
                conn,
                Step(
                    shop.id,
                    kind,
                    operation_id,
                    payment_id,
                    "request",
                    "",
                    initial,
                    stamp,
                    f"POST /_sandbox/payments/{payment_id}/{kind}s",
                ),
            )
            self.lifecycle.events.operation_created(conn, shop.id, kind, operation_id)
            body: dict[str, Any] = {
                f"{kind}Id": operation_id,
                "paymentId": payment_id,
                "test": flag(True),
            }
            if formatted:
                body["amount"] = formatted
            self._send_to_app(conn, shop, app, payment_id, kind, body)
        return {
            "kind": kind,
            "id": operation_id,
            "paymentId": payment_id,
            "amount": formatted,
            "state": initial,
        }

    def _check_operation(
        self, conn: Connection, payment: Payment, kind: str, raw_amount: Any
    ) -> Decimal | None:
        """What the platform refuses before it ever asks the app: the payment's machine says
        whether the event may fire; the amount must fit what is left once the requests
        still waiting for the app's result are counted."""
        machine = self.fixtures.machines["payment"]
        pending: dict[str, Decimal] = {}
        for operation in rows.list_operations(conn, payment.shop_id, payment.payment_id):
            if operation.state == self.fixtures.machines[operation.kind].initial:
                pending[operation.kind] = pending.get(operation.kind, Decimal(0)) + (
                    operation.amount or Decimal(0)
                )
        if kind == "refund":
            left = payment.captured - payment.refunded - pending.get("refund", Decimal(0))
        else:
            left = payment.amount - payment.captured
        allowed = machine.can_fire(payment.state, kind, payment.facts(event_amount=left))
        if kind in ("capture", "void"):
            if not allowed:
                done = {"capture": "captured", "void": "voided"}[kind]
                raise Conflict(
                    f"Payment {payment.payment_id} is {payment.state}; only an "
                    f"authorized payment can be {done}"
                )
            if "capture" in pending or "void" in pending:
                raise Conflict(
                    f"Payment {payment.payment_id} already has a capture or void "
                    "waiting for the app's result"
                )
            if kind == "void":
                return None
        elif payment.captured <= 0 or not allowed:
            raise Conflict(
                f"Payment {payment.payment_id} is {payment.state}; only a "
                "captured payment can be refunded"
            )
        if left <= 0:
            raise Conflict(f"Payment {payment.payment_id} has nothing left to {kind}")
        amount = (
            parse_amount_field(raw_amount, payment.currency) if raw_amount is not None else left
        )
        if amount > left:
            what = "capturable" if kind == "capture" else "refundable"
            limit = money.format_amount(max(left, Decimal(0)), payment.currency)
            raise invalid("amount", f"more than the {limit} still {what}")
        return amount

    # ---- apps -------------------------------------------------------------------------------

    def register_app(self, handle: str, app: AppRegistration) -> dict[str, Any]:
        shop = self._shop(handle)
        name, urls, public_key, scopes = app.name, app.urls, app.public_key, app.scopes
        if public_key:
            try:
                crypto.load_public_key(public_key)
            except crypto.CryptoError as exc:
                raise invalid("publicKey", str(exc)) from None
        with self.db.write() as conn:
            if rows.find_app(conn, shop.id, name) is not None:
                raise Conflict(
                    f"App '{name}' already exists in shop '{handle}'",
                    details={"name": ["already taken"]},
                )
            moved_from = None
            held = rows.load_token(conn, app.access_token) if app.access_token else None
            if held is not None:
                if held.revoked_at is None and not app.move_token:
                    raise Conflict(
                        "That access token is taken (moveToken: true takes it from the app "
                        "holding it)",
                        details={"accessToken": ["already taken"]},
                    )
                holder = rows.load_shop(conn, held.shop_id)
                moved_from = holder.handle if holder and held.revoked_at is None else None
                rows.delete_token(conn, held)  # a revoked token is free again
            secret = app.client_secret or self.ids.secret()
            token = app.access_token or self.ids.token()
            now = to_storage(self.clock.now(shop.id))
            app_id = rows.insert_app(
                conn,
                NewApp(
                    shop_id=shop.id,
                    name=name,
                    client_id=f"{handle}-{name}",
                    client_secret=secret,
                    scopes=" ".join(scopes),
                    urls=urls,
                    public_key=public_key,
                    activated=app.activated,
                    activated_at=now if app.activated else None,
                    capture_flag=app.capture_flag,
                    status_query=app.status_query,
                ),
            )
            rows.insert_token(conn, Token(token, shop.id, app_id, " ".join(scopes), now))
        return {
            "shop": handle,
            "name": name,
            "clientId": f"{handle}-{name}",
            "clientSecret": secret,
            "accessToken": token,
            "scopes": scopes,
            "urls": urls,
            "shopDomain": shop.domain,
            "tokenMovedFrom": moved_from,
        }

    # ---- helpers ----------------------------------------------------------------------------

    def _send_to_app(
        self,
        conn: Connection,
        shop: Shop,
        app: App,
        payment_id: str,
        kind: str,
        body: dict[str, Any],
    ) -> None:
        """A platform -> app request, through the outbox (sent once the caller commits)."""
        url = app.urls.get(kind)
        if not url:
            raise Conflict(f"App '{app.name}' has no URL for {kind} requests")
        self.outbox.schedule(
            conn,
            Outbound(
                shop_id=shop.id,
                payment_id=payment_id,
                side="platform",
                kind=f"app.{kind}",
                method="POST",
                url=url,
                headers={SHOP_HEADER: shop.domain} if shop.shop_header else {},
                body=body,
            ),
        )

    def _shop(self, handle: str) -> Shop:
        shop = rows.find_shop(self.db.read(), handle)
        if shop is None:
            raise NotFound(f"Shop '{handle}' not found")
        return shop

    def _app(self, conn: Connection, shop: Shop, name: str | None, kind: str) -> App:
        apps = rows.list_apps(conn, shop.id)
        if name is not None:
            apps = [a for a in apps if a.name == name]
            if not apps:
                raise NotFound(
                    f"App '{name}' not found in shop '{shop.handle}'",
                    details={"app": [f"unknown app '{name}'"]},
                )
        usable = [a for a in apps if a.urls.get(kind)]
        if not usable:
            raise Conflict(f"No app in shop '{shop.handle}' has a URL for {kind} requests")
        ready = [a for a in usable if a.activated]
        if not ready:
            raise Conflict(
                f"App '{usable[0].name}' is not activated in shop '{shop.handle}': it has not "
                "reported ready through account_authorize (PUT /api/202412/app/"
                "account_authorize), so Genstore does not offer it at checkout",
                details={"app": ["not activated: account_authorize"]},
            )
        return ready[0]

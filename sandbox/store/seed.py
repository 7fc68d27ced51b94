"""Fixtures into rows: seed everything, create a fresh shop from a template, reset one shop."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sandbox.core import money
from sandbox.core.fixtures import Fixtures, builtin_psp_urls, payment_count, resolve_when
from sandbox.core.ids import Ids
from sandbox.core.timefmt import to_storage
from sandbox.protocol import channel_field
from sandbox.settings import default_fixtures_dir
from sandbox.store import platform as rows
from sandbox.store import psp, templates
from sandbox.store.db import Database
from sandbox.store.outbox import SANDBOX_URL
from sandbox.store.records import (
    NewApp,
    NewOperation,
    NewPayment,
    NewShop,
    Operation,
    Order,
    Result,
    Step,
    Token,
)
from sandbox.store.tables import Connection, delete

# Fixture times repeat (every payment made "-3d"): formatting each distinct one once makes
# seeding a large fixture measurably faster.
_stamp = lru_cache(maxsize=4096)(to_storage)


def fixture_credentials(template: dict[str, Any]) -> dict[str, Any]:
    """A fixture shop keeps the tokens and secrets written in its fixture."""
    return {
        "tokens": {t["token"]: t["token"] for t in template["tokens"]},
        "apps": {
            a["name"]: {
                "client_id": a["client_id"] or f"{template['handle']}-{a['name']}",
                "client_secret": a["client_secret"] or f"{template['handle']}-{a['name']}-secret",
            }
            for a in template["apps"]
        },
    }


def fresh_credentials(template: dict[str, Any], handle: str, ids: Ids) -> dict[str, Any]:
    """A created shop gets new tokens and secrets, so shops never share credentials."""
    return {
        "tokens": {t["token"]: ids.token() for t in template["tokens"]},
        "apps": {
            a["name"]: {"client_id": f"{handle}-{a['name']}", "client_secret": ids.secret()}
            for a in template["apps"]
        },
    }


def seed_all(db: Database, fixtures: Fixtures, now: datetime) -> None:
    """Wipe every shop and the clock, then load every fixture shop."""
    with db.bulk_write() as conn:
        rows.wipe_shops(conn)
        for table in ("clock", "faults"):
            delete(conn, table, {})
        for template in fixtures.shops:
            insert_shop(conn, fixtures, template, template["handle"], None, now)
        psp.import_rows(conn, fixtures.psp)
        db.set_meta(conn, "seeded_at", _stamp(now))


def insert_shop(
    conn: Connection,
    fixtures: Fixtures,
    template: dict[str, Any],
    handle: str,
    credentials: dict[str, Any] | None,
    now: datetime,
    name: str | None = None,
) -> int:
    credentials = credentials or fixture_credentials(template)
    limit = template["rate_limit"]
    shop_id = rows.insert_shop(
        conn,
        NewShop(
            handle=handle,
            name=name or template["name"] or handle,
            domain=f"{handle}.genmystore.com"
            if handle != template["handle"]
            else template["domain"] or f"{handle}.genmystore.com",
            utc_offset=template["utc_offset"],
            currency=template["currency"],
            fee_rule=template["fee_rule"],
            rate_size=limit["size"] if limit["enabled"] else None,
            rate_per_second=limit["per_second"] if limit["enabled"] else None,
            template=template["handle"],
            credentials=credentials,
            created_at=_stamp(now),
            shop_header=bool(template["shop_domain_header"]),
            strict=bool(template["strict"]),
            request_shape=template["request_shape"],
        ),
    )
    load_shop_data(conn, fixtures, shop_id, template, credentials, now)
    return shop_id


def clear_shop_data(conn: Connection, shop_id: int) -> None:
    rows.clear_shop(conn, shop_id)


def load_shop_data(
    conn: Connection,
    fixtures: Fixtures,
    shop_id: int,
    template: dict[str, Any],
    credentials: dict[str, Any],
    now: datetime,
) -> None:
    """Apps, tokens, orders, payments and their operations, as the template declares them."""
    stamp = _stamp(now)
    shop = rows.load_shop(conn, shop_id)
    assert shop is not None  # inserted in this transaction
    app_ids: dict[str, int] = {}
    for app in template["apps"]:
        creds = credentials["apps"][app["name"]]
        builtin = builtin_psp_urls(shop.domain) if app["builtin_psp"] else {}
        urls = {**builtin, **app["urls"]}
        public_key = app["public_key"] or (builtin_public_key() if app["builtin_psp"] else None)
        app_ids[app["name"]] = rows.insert_app(
            conn,
            NewApp(
                shop_id=shop_id,
                name=app["name"],
                client_id=creds["client_id"],
                client_secret=creds["client_secret"],
                scopes=" ".join(app["scopes"]),
                urls=urls,
                public_key=public_key,
                activated=bool(app["activated"]),
                activated_at=stamp if app["activated"] else None,
                capture_flag=app["capture_flag"],
                status_query=app["status_query"],
            ),
        )
    _install_builtin_psp(conn, shop_id, template, credentials, stamp)
    for token in template["tokens"]:
        rows.insert_token(
            conn,
            Token(
                credentials["tokens"][token["token"]],
                shop_id,
                app_ids.get(token["app"]) if token["app"] else None,
                " ".join(token["scopes"]),
                stamp,
                _when(token["expires_at"], now),
                _when(token["revoked_at"], now),
                token["user_id"],
            ),
        )
    for hook in template["webhooks"]:
        rows.insert_webhook(
            conn,
            shop_id,
            app_ids[hook["app"]],
            hook["address"],
            hook["topic"],
            stamp,
            hook["failures"],
            _when(hook["disabled_at"], now),
        )
    next_legacy_id = template.get("next_legacy_id") or first_free_legacy_id(template["orders"])
    for order in template["orders"]:
        order_created = resolve_when(order["created_at"], now)
        rows.insert_order(
            conn,
            Order(
                shop_id,
                order["id"],
                order["order_no"] or str(order["id"]),
                _stamp(order_created),
            ),
        )
        for payment in order["payments"]:
            legacy_id = payment["id"]
            if legacy_id is None:
                legacy_id, next_legacy_id = next_legacy_id, next_legacy_id + 1
            _insert_payment(
                conn, fixtures, (shop_id, template, app_ids), (order["id"], legacy_id), payment, now
            )
    fake_app_ids = {app_ids[a["name"]] for a in template["apps"] if a["builtin_psp"]}
    _seed_fake_app(conn, fixtures, shop.domain, shop_id, fake_app_ids)


def first_free_legacy_id(orders: Iterable[dict[str, Any]]) -> int:
    """Where numbering starts for fixture payments that give no legacy id."""
    given = (p["id"] for o in orders for p in o["payments"] if p["id"] is not None)
    return max(given, default=0) + 1


def keep_bulk(conn: Connection, fixtures: Fixtures, location: str) -> Fixtures:
    """Write the fixtures' bulk (orders, fake-app rows) into the store at ``location``: the same
    fixtures, with each piece of bulk read back from there when iterated."""
    templates.clear_sections(conn)
    shops = []
    for template in fixtures.shops:
        section = f"orders:{template['handle']}"
        count = templates.save_section(conn, section, template["orders"])
        stored = templates.StoredRows(location, section, count)
        first_free = first_free_legacy_id(template["orders"])
        shops.append(
            {
                **template,
                "orders": stored,
                "next_legacy_id": first_free,
                "payment_count": payment_count(template),
            }
        )
    psp_rows: dict[str, Iterable[dict[str, Any]]] = {
        name: templates.StoredRows(
            location, f"psp:{name}", templates.save_section(conn, f"psp:{name}", items)
        )
        for name, items in fixtures.psp.items()
    }
    return dataclasses.replace(fixtures, shops=shops, psp=psp_rows)


def _seed_fake_app(
    conn: Connection, fixtures: Fixtures, domain: str, shop_id: int, app_ids: set[int]
) -> None:
    """The fake app's own records of the shop's payments through it, as it would have kept
    them: so captures, voids and refunds on fixture payments succeed at the app too. An
    operation still waiting for its result is recorded as the app decided it (success); its
    callback is for you to send. A snapshot's ``psp`` section, loaded after, replaces these."""
    machine = fixtures.machines["payment"]
    # Three queries for the whole shop, not three per payment (a large fixture has 100k).
    results = {(r.kind, r.object_id): r for r in rows.list_results(conn, shop_id)}
    operations_of: dict[str, list[Operation]] = {}
    for operation in rows.list_shop_operations(conn, shop_id):
        operations_of.setdefault(operation.payment_id, []).append(operation)
    for payment in rows.list_shop_payments(conn, shop_id):
        if payment.app_id not in app_ids:
            continue
        shown = machine.view(payment.state, "app_status")
        result = results.get(("payment", payment.payment_id))
        operations = operations_of.get(payment.payment_id, [])
        voided = any(o.kind == "void" and o.state != "failed" for o in operations)
        decision = None if shown == "PROCESSING" else shown
        if payment.manual_capture and (shown == "SUCCESS" or voided):
            decision = "AUTH_SUCCESS"  # authorized first, then captured or voided
        decided = _stamp(payment.state_entered_at) if decision else None
        captured = payment.captured + sum(
            (o.amount or Decimal(0) for o in operations if _waiting(fixtures, o, "capture")),
            Decimal(0),
        )
        refunded = payment.refunded + sum(
            (o.amount or Decimal(0) for o in operations if _waiting(fixtures, o, "refund")),
            Decimal(0),
        )
        psp.insert_payment(
            conn,
            psp.PspPayment(
                shop_domain=domain,
                payment_id=payment.payment_id,
                channel_payment_id=payment.channel_payment_id or f"psp_pay_{payment.legacy_id}",
                kind=payment.kind,
                fingerprint="fixture",
                amount=str(payment.amount),
                currency=payment.currency,
                manual_capture=payment.manual_capture,
                decision=decision,
                reason=result.reason if result is not None else None,
                decided_at=decided,
                captured=str(captured),
                refunded=str(refunded),
                answer=json.dumps(payment.app_answer or {"error": ""}),
                created_at=_stamp(payment.created_at),
                voided=voided,
                card_last4=payment.card_last4,
            ),
        )
        for operation in operations:
            shown = fixtures.machines[operation.kind].view(operation.state, "app_status")
            failed = shown == "FAILURE"
            channel_id = (
                operation.channel_id or f"psp_{operation.kind[:3]}_{operation.operation_id}"
            )
            psp.insert_operation(
                conn,
                psp.PspOperation(
                    shop_domain=domain,
                    kind=operation.kind,
                    operation_id=operation.operation_id,
                    payment_id=payment.payment_id,
                    fingerprint="fixture",
                    amount=str(operation.amount) if operation.amount is not None else None,
                    channel_id=channel_id,
                    decision="FAILURE" if failed else "SUCCESS",
                    reason=None,
                    answer=json.dumps({channel_field(operation.kind): channel_id}),
                    created_at=_stamp(operation.created_at),
                ),
            )


def _waiting(fixtures: Fixtures, operation: Operation, kind: str) -> bool:
    """An operation of ``kind`` still waiting for its result at the platform."""
    return operation.kind == kind and operation.state == fixtures.machines[kind].initial


def builtin_public_key() -> str:
    return (default_fixtures_dir() / "keys" / "sandbox-psp.public.b64").read_text().strip()


def _install_builtin_psp(
    conn: Connection,
    shop_id: int,
    template: dict[str, Any],
    credentials: dict[str, Any],
    stamp: str,
) -> None:
    """Install the fake payment app in the shop, as OAuth would: it learns where the platform
    is and the access token its callbacks carry. That is all it ever knows of the shop."""
    shop = rows.load_shop(conn, shop_id)
    assert shop is not None  # inserted in this transaction
    for app in template["apps"]:
        if not app["builtin_psp"]:
            continue
        token = next(
            (
                t["token"]
                for t in template["tokens"]
                if t["app"] == app["name"] and "write_payment" in t["scopes"]
            ),
            None,
        )
        if token is None:
            continue
        install = psp.Installation(
            shop.domain,
            shop_id,
            SANDBOX_URL,
            credentials["tokens"][token],
            credentials["apps"][app["name"]]["client_secret"],
            app["capture_flag"],
        )
        psp.save_installation(conn, install, stamp)


def _insert_payment(
    conn: Connection,
    fixtures: Fixtures,
    shop: tuple[int, dict[str, Any], dict[str, int]],
    place: tuple[int, int],
    p: dict[str, Any],
    now: datetime,
) -> None:
    """One fixture payment with its operations; ``shop`` is (id, template, app ids by name)
    and ``place`` (order id, legacy payment id)."""
    shop_id, template, app_ids = shop
    order_id, legacy_id = place
    machine = fixtures.machines["payment"]
    currency = p["currency"] or template["currency"]
    amount = money.parse_amount(p["amount"], currency)
    created = resolve_when(p["created_at"], now)
    success = machine.view(p["state"], "transaction_code") == "2"
    paid_at = resolve_when(p["paid_at"], now) if p["paid_at"] else (created if success else None)
    entered = (
        resolve_when(p["state_entered_at"], now) if p["state_entered_at"] else (paid_at or created)
    )
    succeeded = {
        key: sum(
            (
                money.parse_amount(c["amount"], currency)
                for c in p[key]
                if c["state"] == "succeeded"
            ),
            Decimal(0),
        )
        for key in ("captures", "refunds")
    }
    if p["captured_amount"] is not None:
        captured = money.parse_amount(p["captured_amount"], currency, allow_zero=True)
    elif p["manual_capture"] and succeeded["captures"]:
        captured = succeeded["captures"]
    else:
        captured = amount if success else Decimal(0)
    refunded = (
        money.parse_amount(p["refunded_amount"], currency, allow_zero=True)
        if p["refunded_amount"] is not None
        else succeeded["refunds"]
    )
    rows.insert_payment(
        conn,
        NewPayment(
            shop_id=shop_id,
            payment_id=p["payment_id"],
            legacy_id=legacy_id,
            order_id=order_id,
            app_id=app_ids.get(p["app"]) if p["app"] else None,
            amount=money.format_amount(amount, currency),
            currency=currency,
            manual_capture=bool(p["manual_capture"]),
            test=bool(p["test"]),
            state=p["state"],
            state_entered_at=_stamp(entered),
            channel_payment_id=p["channel_payment_id"],
            captured_amount=money.format_amount(captured, currency),
            refunded_amount=money.format_amount(refunded, currency),
            method=p["method"],
            bank_code=p["bank_code"],
            pay_by_other=bool(p["pay_by_other"]),
            created_at=_stamp(created),
            updated_at=_stamp(max(created, entered)),
            paid_at=_stamp(paid_at) if paid_at else None,
            kind=p["kind"],
            card_last4=p["card_last4"],
            app_answer=p["app_answer"],
        ),
    )
    _result(conn, shop_id, "payment", p["payment_id"], p["result"], now)
    _history(conn, shop_id, "payment", p["payment_id"], p["payment_id"], p["state"], entered)
    for kind, key in (("capture", "captures"), ("void", "voids"), ("refund", "refunds")):
        for op in p[key]:
            op_created = resolve_when(op["created_at"], now)
            op_amount = op.get("amount")
            rows.insert_operation(
                conn,
                NewOperation(
                    shop_id,
                    kind,
                    op[f"{kind}_id"],
                    p["payment_id"],
                    money.format_amount(money.parse_amount(op_amount, currency), currency)
                    if op_amount is not None
                    else None,
                    op["state"],
                    _stamp(op_created),
                    op[f"channel_{kind}_id"],
                ),
            )
            _history(
                conn, shop_id, kind, op[f"{kind}_id"], p["payment_id"], op["state"], op_created
            )
            _result(conn, shop_id, kind, op[f"{kind}_id"], op["result"], now)


def _when(value: Any, now: datetime) -> str | None:
    return _stamp(resolve_when(value, now)) if value is not None else None


def _result(
    conn: Connection,
    shop_id: int,
    kind: str,
    object_id: str,
    result: dict[str, Any] | None,
    now: datetime,
) -> None:
    if result is not None:
        rows.insert_result(
            conn,
            Result(
                shop_id,
                kind,
                object_id,
                result["result"],
                result["reason"],
                result["channel_id"],
                _when(result["received_at"], now) or _stamp(now),
            ),
        )


def _history(
    conn: Connection,
    shop_id: int,
    kind: str,
    object_id: str,
    payment_id: str,
    state: str,
    at: datetime,
) -> None:
    step = Step(shop_id, kind, object_id, payment_id, "fixture", "", state, _stamp(at), "fixtures")
    rows.insert_step(conn, step)

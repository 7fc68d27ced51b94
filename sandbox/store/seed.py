"""Fixtures into rows: seed everything, create a fresh shop from a template, reset one shop."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.core import money
from sandbox.core.fixtures import BUILTIN_PSP_URLS, Fixtures, resolve_when
from sandbox.core.ids import Ids
from sandbox.core.timefmt import to_storage
from sandbox.outbox import SANDBOX_URL
from sandbox.settings import default_fixtures_dir
from sandbox.store.db import Database
from sandbox.store.results import insert_result
from sandbox.store.schema import PSP_TABLES, SHOP_TABLES


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
    with db.write() as conn:
        for table in (*SHOP_TABLES, *PSP_TABLES, "shops", "clock", "faults"):
            conn.execute(f"DELETE FROM {table}")
        for template in fixtures.shops:
            insert_shop(conn, fixtures, template, template["handle"], None, now)
        load_psp_rows(conn, fixtures.psp)
        db.set_meta(conn, "seeded_at", to_storage(now))


def insert_shop(
    conn: sqlite3.Connection,
    fixtures: Fixtures,
    template: dict[str, Any],
    handle: str,
    credentials: dict[str, Any] | None,
    now: datetime,
    name: str | None = None,
) -> int:
    credentials = credentials or fixture_credentials(template)
    cursor = conn.execute(
        "INSERT INTO shops (handle, name, domain, utc_offset, currency, fee_rule, rate_size, "
        "rate_per_second, template, credentials, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            handle,
            name or template["name"] or handle,
            f"{handle}.genmystore.com"
            if handle != template["handle"]
            else template["domain"] or f"{handle}.genmystore.com",
            template["utc_offset"],
            template["currency"],
            template["fee_rule"],
            template["rate_limit"]["size"] if template["rate_limit"]["enabled"] else None,
            template["rate_limit"]["per_second"] if template["rate_limit"]["enabled"] else None,
            template["handle"],
            json.dumps(credentials),
            to_storage(now),
        ),
    )
    shop_id = cursor.lastrowid
    load_shop_data(conn, fixtures, shop_id, template, credentials, now)
    return shop_id


def clear_shop_data(conn: sqlite3.Connection, shop_id: int) -> None:
    domain = conn.execute("SELECT domain FROM shops WHERE id = ?", (shop_id,)).fetchone()[0]
    for table in PSP_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE shop_domain = ?", (domain,))
    for table in SHOP_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE shop_id = ?", (shop_id,))


def load_shop_data(
    conn: sqlite3.Connection,
    fixtures: Fixtures,
    shop_id: int,
    template: dict[str, Any],
    credentials: dict[str, Any],
    now: datetime,
) -> None:
    """Apps, tokens, orders, payments and their operations, as the template declares them."""
    stamp = to_storage(now)
    app_ids: dict[str, int] = {}
    for app in template["apps"]:
        creds = credentials["apps"][app["name"]]
        urls = {**(BUILTIN_PSP_URLS if app["builtin_psp"] else {}), **app["urls"]}
        public_key = app["public_key"] or (builtin_public_key() if app["builtin_psp"] else None)
        app_ids[app["name"]] = conn.execute(
            "INSERT INTO apps (shop_id, name, client_id, client_secret, scopes, activated, "
            "activated_at, urls, public_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                shop_id,
                app["name"],
                creds["client_id"],
                creds["client_secret"],
                " ".join(app["scopes"]),
                int(app["activated"]),
                stamp if app["activated"] else None,
                json.dumps(urls),
                public_key,
            ),
        ).lastrowid
    _install_builtin_psp(conn, shop_id, template, credentials, stamp)
    for token in template["tokens"]:
        conn.execute(
            "INSERT INTO tokens (token, shop_id, app_id, scopes, created_at, expires_at, "
            "revoked_at, user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
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
        conn.execute(
            "INSERT INTO webhooks (shop_id, app_id, address, topic, created_at, updated_at, "
            "failures, disabled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                shop_id,
                app_ids[hook["app"]],
                hook["address"],
                hook["topic"],
                stamp,
                stamp,
                hook["failures"],
                _when(hook["disabled_at"], now),
            ),
        )
    given = [p["id"] for o in template["orders"] for p in o["payments"] if p["id"] is not None]
    next_legacy_id = max(given, default=0) + 1
    for order in template["orders"]:
        order_created = resolve_when(order["created_at"], now)
        conn.execute(
            "INSERT INTO orders (shop_id, id, order_no, created_at) VALUES (?, ?, ?, ?)",
            (
                shop_id,
                order["id"],
                order["order_no"] or str(order["id"]),
                to_storage(order_created),
            ),
        )
        for payment in order["payments"]:
            legacy_id = payment["id"]
            if legacy_id is None:
                legacy_id, next_legacy_id = next_legacy_id, next_legacy_id + 1
            _insert_payment(
                conn, fixtures, shop_id, template, order["id"], legacy_id, payment, app_ids, now
            )


def builtin_public_key() -> str:
    return (default_fixtures_dir() / "keys" / "sandbox-psp.public.b64").read_text().strip()


def _install_builtin_psp(conn, shop_id, template, credentials, stamp) -> None:
    """Install the fake payment app in the shop, as OAuth would: it learns where the platform
    is and the access token its callbacks carry. That is all it ever knows of the shop."""
    domain = conn.execute("SELECT domain FROM shops WHERE id = ?", (shop_id,)).fetchone()[0]
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
        conn.execute(
            "INSERT INTO psp_installations (shop_domain, shop_id, platform_url, access_token, "
            "client_secret, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (shop_domain) "
            "DO UPDATE SET shop_id = excluded.shop_id, platform_url = excluded.platform_url, "
            "access_token = excluded.access_token, client_secret = excluded.client_secret",
            (
                domain,
                shop_id,
                SANDBOX_URL,
                credentials["tokens"][token],
                credentials["apps"][app["name"]]["client_secret"],
                stamp,
            ),
        )


def _insert_payment(conn, fixtures, shop_id, template, order_id, legacy_id, p, app_ids, now):
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
    conn.execute(
        "INSERT INTO payments (shop_id, payment_id, legacy_id, order_id, app_id, amount, currency, "
        "manual_capture, test, state, state_entered_at, channel_payment_id, captured_amount, "
        "refunded_amount, method, bank_code, pay_by_other, created_at, updated_at, paid_at, "
        "kind, card_last4, app_answer) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            shop_id,
            p["payment_id"],
            legacy_id,
            order_id,
            app_ids.get(p["app"]) if p["app"] else None,
            money.format_amount(amount, currency),
            currency,
            int(p["manual_capture"]),
            int(p["test"]),
            p["state"],
            to_storage(entered),
            p["channel_payment_id"],
            money.format_amount(captured, currency),
            money.format_amount(refunded, currency),
            json.dumps(p["method"], sort_keys=True),
            p["bank_code"],
            int(p["pay_by_other"]),
            to_storage(created),
            to_storage(max(created, entered)),
            to_storage(paid_at) if paid_at else None,
            p["kind"],
            p["card_last4"],
            json.dumps(p["app_answer"]) if p["app_answer"] is not None else None,
        ),
    )
    _result(conn, shop_id, "payment", p["payment_id"], p["result"], now)
    _history(conn, shop_id, "payment", p["payment_id"], p["payment_id"], p["state"], entered)
    for kind, key in (("capture", "captures"), ("void", "voids"), ("refund", "refunds")):
        for op in p[key]:
            op_created = resolve_when(op["created_at"], now)
            op_amount = op.get("amount")
            conn.execute(
                "INSERT INTO operations (shop_id, kind, operation_id, payment_id, amount, state, "
                "state_entered_at, channel_id, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    shop_id,
                    kind,
                    op[f"{kind}_id"],
                    p["payment_id"],
                    money.format_amount(money.parse_amount(op_amount, currency), currency)
                    if op_amount is not None
                    else None,
                    op["state"],
                    to_storage(op_created),
                    op[f"channel_{kind}_id"],
                    to_storage(op_created),
                    to_storage(op_created),
                ),
            )
            _history(
                conn, shop_id, kind, op[f"{kind}_id"], p["payment_id"], op["state"], op_created
            )
            _result(conn, shop_id, kind, op[f"{kind}_id"], op["result"], now)


def _when(value, now) -> str | None:
    return to_storage(resolve_when(value, now)) if value is not None else None


def _result(conn, shop_id, kind, object_id, result, now) -> None:
    if result is not None:
        insert_result(
            conn,
            shop_id,
            kind,
            object_id,
            result["result"],
            result["reason"],
            result["channel_id"],
            _when(result["received_at"], now),
        )


def load_psp_rows(conn, psp: dict[str, list[dict[str, Any]]], domain: str | None = None) -> None:
    """The fake app's own records from a snapshot (all of them, or one shop domain's)."""
    for table, rows in (
        ("psp_installations", psp.get("installations", [])),
        ("psp_payments", psp.get("payments", [])),
        ("psp_operations", psp.get("operations", [])),
    ):
        for row in rows:
            if domain is not None and row.get("shop_domain") != domain:
                continue
            if table == "psp_installations":
                row = {"shop_id": 0, **row}
            columns = ", ".join(row)
            conn.execute(
                f"INSERT OR REPLACE INTO {table} ({columns}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
    # Shop ids are this store's own: re-attach installations by domain.
    conn.execute(
        "UPDATE psp_installations SET shop_id = (SELECT id FROM shops WHERE shops.domain = "
        "psp_installations.shop_domain) WHERE shop_domain IN (SELECT domain FROM shops)"
    )


def _history(conn, shop_id, kind, object_id, payment_id, state, at) -> None:
    conn.execute(
        "INSERT INTO history (shop_id, kind, object_id, payment_id, event, from_state, to_state, "
        "at, cause) VALUES (?, ?, ?, ?, 'fixture', '', ?, ?, 'fixtures')",
        (shop_id, kind, object_id, payment_id, state, to_storage(at)),
    )

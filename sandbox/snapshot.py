"""Snapshots: the state as YAML in the fixture format, and back.

An export holds fee rules, shops (apps, tokens, webhook subscriptions, orders, payments with
their captures, voids, refunds and the results apps reported) and the fake payment app's own
records. Importing it replaces those shops (or, with ``mode=replace``, everything); the file
also works as ``--fixtures``. Logs are not state: the journal, history and outbox stay out.
"""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from sandbox.core import money
from sandbox.core.fixtures import BUILTIN_PSP_URLS, FixtureError, Fixtures, load_fixtures
from sandbox.errors import ApiError, BadRequest, NotFound
from sandbox.store.db import Database
from sandbox.store.schema import PSP_TABLES, SHOP_TABLES
from sandbox.store.seed import builtin_public_key, clear_shop_data, insert_shop, load_psp_rows

PSP_SECTIONS = {
    "installations": "psp_installations",
    "payments": "psp_payments",
    "operations": "psp_operations",
}


def export(db: Database, fixtures: Fixtures, handle: str | None) -> str:
    conn = db.read()
    if handle is None:
        shops = conn.execute("SELECT * FROM shops ORDER BY id").fetchall()
    else:
        shops = conn.execute("SELECT * FROM shops WHERE handle = ?", (handle,)).fetchall()
        if not shops:
            raise NotFound(f"Shop '{handle}' not found")
    document: dict[str, Any] = {
        "fee_rules": {
            name: {"percent": str(rule.percent), "fixed": str(rule.fixed)}
            for name, rule in fixtures.fee_rules.items()
        },
        "shops": [_shop(conn, row) for row in shops],
    }
    domains = [row["domain"] for row in shops]
    psp: dict[str, list] = {}
    for section, table in PSP_SECTIONS.items():
        marks = ", ".join("?" * len(domains))
        rows = conn.execute(
            f"SELECT * FROM {table} WHERE shop_domain IN ({marks}) ORDER BY rowid", domains
        ).fetchall()
        # shop_id is this store's own; an import re-attaches installations by domain
        psp[section] = [{k: v for k, v in dict(r).items() if k != "shop_id"} for r in rows]
    document["psp"] = psp
    header = "# Genstore Sandbox snapshot: load with POST /_sandbox/snapshots or --fixtures.\n"
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def _shop(conn, shop) -> dict[str, Any]:
    apps = conn.execute("SELECT * FROM apps WHERE shop_id = ? ORDER BY id", (shop["id"],))
    app_names = {}
    exported_apps = []
    for app in apps:
        app_names[app["id"]] = app["name"]
        urls = json.loads(app["urls"])
        entry: dict[str, Any] = {
            "name": app["name"],
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scopes": app["scopes"].split(),
            "activated": bool(app["activated"]),
        }
        if urls == BUILTIN_PSP_URLS and app["public_key"] == builtin_public_key():
            entry["builtin_psp"] = True
        else:
            entry["urls"] = urls
            if app["public_key"]:
                entry["public_key"] = app["public_key"]
        exported_apps.append(entry)
    tokens = [
        _drop_none(
            {
                "token": t["token"],
                "app": app_names.get(t["app_id"]),
                "scopes": t["scopes"].split(),
                "expires_at": t["expires_at"],
                "revoked_at": t["revoked_at"],
                "user_id": t["user_id"],
            }
        )
        for t in conn.execute(
            "SELECT * FROM tokens WHERE shop_id = ? ORDER BY rowid", (shop["id"],)
        )
    ]
    webhooks = [
        _drop_none(
            {
                "app": app_names[w["app_id"]],
                "address": w["address"],
                "topic": w["topic"],
                "failures": w["failures"],
                "disabled_at": w["disabled_at"],
            }
        )
        for w in conn.execute("SELECT * FROM webhooks WHERE shop_id = ? ORDER BY id", (shop["id"],))
    ]
    results = {
        (r["kind"], r["object_id"]): _drop_none(
            {
                "result": bool(r["result"]),
                "reason": r["reason"],
                "channel_id": r["channel_id"],
                "received_at": r["received_at"],
            }
        )
        for r in conn.execute("SELECT * FROM results WHERE shop_id = ?", (shop["id"],))
    }
    orders = []
    for order in conn.execute("SELECT * FROM orders WHERE shop_id = ? ORDER BY id", (shop["id"],)):
        payments = conn.execute(
            "SELECT * FROM payments WHERE shop_id = ? AND order_id = ? ORDER BY created_at, "
            "legacy_id",
            (shop["id"], order["id"]),
        ).fetchall()
        orders.append(
            {
                "id": order["id"],
                "order_no": order["order_no"],
                "created_at": order["created_at"],
                "payments": [_payment(conn, shop["id"], p, app_names, results) for p in payments],
            }
        )
    return _drop_none(
        {
            "handle": shop["handle"],
            "name": shop["name"],
            "domain": shop["domain"],
            "utc_offset": shop["utc_offset"],
            "currency": shop["currency"],
            "fee_rule": shop["fee_rule"],
            "rate_limit": {
                "enabled": shop["rate_size"] is not None,
                "size": shop["rate_size"] or 40,
                "per_second": shop["rate_per_second"] or 2.0,
            },
            "apps": exported_apps,
            "tokens": tokens,
            "webhooks": webhooks,
            "orders": orders,
        }
    )


def _payment(conn, shop_id, p, app_names, results) -> dict[str, Any]:
    entry = _drop_none(
        {
            "payment_id": p["payment_id"],
            "id": p["legacy_id"],
            "amount": p["amount"],
            "currency": p["currency"],
            "state": p["state"],
            "manual_capture": bool(p["manual_capture"]),
            "test": bool(p["test"]),
            "app": app_names.get(p["app_id"]),
            "channel_payment_id": p["channel_payment_id"],
            "created_at": p["created_at"],
            "state_entered_at": p["state_entered_at"],
            "paid_at": p["paid_at"],
            "captured_amount": _money(p["captured_amount"], p["currency"]),
            "refunded_amount": _money(p["refunded_amount"], p["currency"]),
            "method": json.loads(p["method"]),
            "bank_code": p["bank_code"],
            "pay_by_other": bool(p["pay_by_other"]),
            "kind": p["kind"],
            "card_last4": p["card_last4"],
            "app_answer": json.loads(p["app_answer"]) if p["app_answer"] else None,
            "result": results.get(("payment", p["payment_id"])),
        }
    )
    for kind, key in (("capture", "captures"), ("void", "voids"), ("refund", "refunds")):
        rows = conn.execute(
            "SELECT * FROM operations WHERE shop_id = ? AND payment_id = ? AND kind = ? "
            "ORDER BY created_at, operation_id",
            (shop_id, p["payment_id"], kind),
        ).fetchall()
        if rows:
            entry[key] = [
                _drop_none(
                    {
                        f"{kind}_id": op["operation_id"],
                        "amount": _money(op["amount"], p["currency"]),
                        "state": op["state"],
                        f"channel_{kind}_id": op["channel_id"],
                        "created_at": op["created_at"],
                        "result": results.get((kind, op["operation_id"])),
                    }
                )
                for op in rows
            ]
            if kind == "void":
                for item in entry[key]:
                    item.pop("amount", None)
    return entry


def _money(text: str | None, currency: str) -> str | None:
    return None if text is None else money.format_amount(Decimal(text), currency)


def _drop_none(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None}


def import_snapshot(
    db: Database, running: Fixtures, defaults: Path, text: str, mode: str, now
) -> dict[str, Any]:
    """Load a snapshot; its shops replace the shops of the same handle (``merge``) or
    everything (``replace``). Machines and fee rules stay the running sandbox's."""
    if mode not in ("merge", "replace"):
        raise BadRequest(
            "Invalid request: mode: merge or replace", details={"mode": ["merge or replace"]}
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "snapshot.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            snapshot = load_fixtures(path, defaults=defaults)
        except FixtureError as exc:
            problems = [p.replace(str(path), "snapshot") for p in exc.problems]
            raise ApiError(
                "Invalid snapshot: " + "; ".join(problems),
                details={"snapshot": problems},
                status=400,
            ) from None
    if snapshot.machines != running.machines:
        raise ApiError(
            "The snapshot declares other state machines than this sandbox runs; "
            "start it with --fixtures pointing at the snapshot instead",
            status=409,
        )
    unknown = {s["fee_rule"] for s in snapshot.shops if s["fee_rule"]} - set(running.fee_rules)
    if unknown:
        raise ApiError(
            f"The snapshot uses fee rules this sandbox lacks: {', '.join(sorted(unknown))}",
            status=409,
        )
    with db.write() as conn:
        if mode == "replace":
            for table in (*SHOP_TABLES, *PSP_TABLES, "shops"):
                conn.execute(f"DELETE FROM {table}")
        for template in snapshot.shops:
            row = conn.execute(
                "SELECT id FROM shops WHERE handle = ?", (template["handle"],)
            ).fetchone()
            if row is not None:
                clear_shop_data(conn, row["id"])
                conn.execute("DELETE FROM shops WHERE id = ?", (row["id"],))
            insert_shop(conn, snapshot, template, template["handle"], None, now)
            load_psp_rows(
                conn, snapshot.psp, template["domain"] or f"{template['handle']}.genmystore.com"
            )
    return {"imported": [s["handle"] for s in snapshot.shops], "mode": mode}

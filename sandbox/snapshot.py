"""Snapshots: the state as YAML in the fixture format, and back.

An export holds fee rules, shops (apps, tokens, webhook subscriptions, orders, payments with
their captures, voids, refunds and the results apps reported) and the fake payment app's own
records. Importing it replaces those shops (or, with ``mode=replace``, everything); the file
also works as ``--fixtures``. Logs are not state: the journal, history and outbox are not in a
snapshot; on import, a replaced shop's logs carry over to its replacement unless the caller
asks to drop them.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from sandbox.core import money
from sandbox.core.fixtures import FixtureError, Fixtures, builtin_psp_urls, load_fixtures
from sandbox.core.timefmt import to_storage
from sandbox.errors import ApiError, BadRequest, NotFound
from sandbox.store import platform as rows
from sandbox.store import psp
from sandbox.store.db import Database
from sandbox.store.records import Payment, Result, Shop
from sandbox.store.seed import builtin_public_key, insert_shop
from sandbox.store.tables import Connection


def export(db: Database, fixtures: Fixtures, handle: str | None) -> str:
    conn = db.read()
    if handle is None:
        shops = rows.list_shops(conn)
    else:
        found = rows.find_shop(conn, handle)
        if found is None:
            raise NotFound(f"Shop '{handle}' not found")
        shops = [found]
    document: dict[str, Any] = {
        "fee_rules": {
            name: {"percent": str(rule.percent), "fixed": str(rule.fixed)}
            for name, rule in fixtures.fee_rules.items()
        },
        "shops": [_shop(conn, shop) for shop in shops],
    }
    document["psp"] = psp.export_rows(conn, [shop.domain for shop in shops])
    header = "# Genstore Sandbox snapshot: load with POST /_sandbox/snapshots or --fixtures.\n"
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def _shop(conn: Connection, shop: Shop) -> dict[str, Any]:
    app_names = {}
    exported_apps = []
    for app in rows.list_apps(conn, shop.id):
        app_names[app.id] = app.name
        entry: dict[str, Any] = {
            "name": app.name,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "scopes": app.scopes.split(),
            "activated": app.activated,
        }
        if app.capture_flag != "published":
            entry["capture_flag"] = app.capture_flag
        if app.status_query != "query":
            entry["status_query"] = app.status_query
        if app.urls == builtin_psp_urls(shop.domain) and app.public_key == builtin_public_key():
            entry["builtin_psp"] = True
        else:
            entry["urls"] = app.urls
            if app.public_key:
                entry["public_key"] = app.public_key
        exported_apps.append(entry)
    tokens = [
        _drop_none(
            {
                "token": t.token,
                "app": app_names.get(t.app_id) if t.app_id is not None else None,
                "scopes": t.scopes.split(),
                "expires_at": t.expires_at,
                "revoked_at": t.revoked_at,
                "user_id": t.user_id,
            }
        )
        for t in rows.list_tokens(conn, shop.id)
    ]
    webhooks = [
        _drop_none(
            {
                "app": app_names[w.app_id],
                "address": w.address,
                "topic": w.topic,
                "failures": w.failures,
                "disabled_at": w.disabled_at,
            }
        )
        for w in rows.list_webhooks(conn, shop.id)
    ]
    results = {(r.kind, r.object_id): _result(r) for r in rows.list_results(conn, shop.id)}
    orders = [
        {
            "id": order.id,
            "order_no": order.order_no,
            "created_at": order.created_at,
            "payments": [
                _payment(conn, p, app_names, results)
                for p in rows.load_order_payments(conn, shop.id, order.id)
            ],
        }
        for order in rows.list_orders(conn, shop.id)
    ]
    return _drop_none(
        {
            "handle": shop.handle,
            "name": shop.name,
            "domain": shop.domain,
            "utc_offset": shop.utc_offset,
            "currency": shop.currency,
            "fee_rule": shop.fee_rule,
            "rate_limit": {
                "enabled": shop.rate_size is not None,
                "size": shop.rate_size or 40,
                "per_second": shop.rate_per_second or 2.0,
            },
            "shop_domain_header": shop.shop_header or None,
            "strict": shop.strict or None,
            "request_shape": shop.request_shape if shop.request_shape != "example" else None,
            "apps": exported_apps,
            "tokens": tokens,
            "webhooks": webhooks,
            "orders": orders,
        }
    )


def _result(result: Result) -> dict[str, Any]:
    return _drop_none(
        {
            "result": result.result,
            "reason": result.reason,
            "channel_id": result.channel_id,
            "received_at": result.received_at,
        }
    )


def _payment(
    conn: Connection,
    p: Payment,
    app_names: dict[int, str],
    results: dict[tuple[str, str], dict[str, Any]],
) -> dict[str, Any]:
    currency = p.currency
    entry = _drop_none(
        {
            "payment_id": p.payment_id,
            "id": p.legacy_id,
            "amount": money.format_amount(p.amount, currency),
            "currency": currency,
            "state": p.state,
            "manual_capture": p.manual_capture,
            "test": p.test,
            "app": app_names.get(p.app_id) if p.app_id is not None else None,
            "channel_payment_id": p.channel_payment_id,
            "created_at": to_storage(p.created_at),
            "state_entered_at": to_storage(p.state_entered_at),
            "paid_at": to_storage(p.paid_at) if p.paid_at else None,
            "captured_amount": money.format_amount(p.captured, currency),
            "refunded_amount": money.format_amount(p.refunded, currency),
            "method": p.method,
            "bank_code": p.bank_code,
            "pay_by_other": p.pay_by_other,
            "kind": p.kind,
            "card_last4": p.card_last4,
            "app_answer": p.app_answer,
            "result": results.get(("payment", p.payment_id)),
        }
    )
    operations = sorted(
        rows.list_operations(conn, p.shop_id, p.payment_id),
        key=lambda op: (op.created_at, op.operation_id),
    )
    for kind, key in (("capture", "captures"), ("void", "voids"), ("refund", "refunds")):
        of_kind = [op for op in operations if op.kind == kind]
        if of_kind:
            entry[key] = [
                _drop_none(
                    {
                        f"{kind}_id": op.operation_id,
                        "amount": money.format_amount(op.amount, currency)
                        if op.amount is not None and kind != "void"
                        else None,
                        "state": op.state,
                        f"channel_{kind}_id": op.channel_id,
                        "created_at": to_storage(op.created_at),
                        "result": results.get((kind, op.operation_id)),
                    }
                )
                for op in of_kind
            ]
    return entry


MAX_DEPTH = 64  # a snapshot nests about 8 levels


def flow_depth(text: str) -> int:
    """How deep ``[`` and ``{`` nest outside quoted strings, and how deep indentation goes
    (two spaces a level): enough to refuse a nesting bomb without parsing it."""
    deepest = depth = 0
    quote = ""
    for char in text:
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    indent = max((len(line) - len(line.lstrip(" ")) for line in text.splitlines()), default=0)
    return max(deepest, indent // 2)


def _check_shape(text: str) -> None:
    """A snapshot is a YAML mapping naming its shops (a fixture file without them would fall
    back to the bundled shops, which is not what an import means)."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return  # the fixture loader names the line that is wrong
    if not isinstance(document, dict) or "shops" not in document:
        got = type(document).__name__ if not isinstance(document, dict) else "no shops section"
        raise ApiError(
            f"Invalid snapshot: a YAML mapping with a 'shops' section is expected ({got})",
            details={"snapshot": ["a YAML mapping with a 'shops' section"]},
            status=400,
        )


def _drop_none(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None}


@dataclass(frozen=True)
class ImportOptions:
    """``mode``: the snapshot's shops replace those of the same handle (``merge``) or
    everything (``replace``). ``logs``: a replaced shop's journal, history and outbox carry
    over to its replacement (``keep``; messages not yet sent are cancelled) or go with it
    (``drop``)."""

    mode: str = "merge"
    logs: str = "keep"


def import_snapshot(
    db: Database,
    running: Fixtures,
    defaults: Path,
    text: str,
    options: ImportOptions,
    now: datetime,
) -> dict[str, Any]:
    """Load a snapshot (see :class:`ImportOptions`). Machines and fee rules stay the running
    sandbox's."""
    mode, logs = options.mode, options.logs
    if mode not in ("merge", "replace"):
        raise BadRequest(
            "Invalid request: mode: merge or replace", details={"mode": ["merge or replace"]}
        )
    if logs not in ("keep", "drop"):
        raise BadRequest("Invalid request: logs: keep or drop", details={"logs": ["keep or drop"]})
    depth = flow_depth(text)
    if depth > MAX_DEPTH:  # refused before any YAML parser recurses into it
        raise ApiError(
            f"Invalid snapshot: nested {depth} levels deep (at most {MAX_DEPTH})",
            details={"snapshot": [f"nested deeper than {MAX_DEPTH} levels"]},
            status=400,
        )
    _check_shape(text)
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
    incoming = {template["handle"] for template in snapshot.shops}
    replaced: dict[str, int] = {}  # handle -> the id of the shop it replaces, logs kept
    cancelled = 0
    with db.bulk_write() as conn:
        seeded_after = rows.last_history_seq(conn)
        for shop in rows.list_shops(conn):
            if shop.handle in incoming or mode == "replace":
                keep = logs == "keep" and shop.handle in incoming
                rows.delete_shop(conn, shop.id, keep_logs=keep)
                if keep:
                    replaced[shop.handle] = shop.id
        if mode == "replace":
            psp.clear_all(conn)  # the fake app's rows no shop of ours owns (other platforms)
        for template in snapshot.shops:
            handle = template["handle"]
            shop_id = insert_shop(conn, snapshot, template, handle, None, now)
            psp.import_rows(conn, snapshot.psp, template["domain"] or f"{handle}.genmystore.com")
            if handle in replaced:
                cancelled += rows.adopt_logs(conn, replaced[handle], shop_id, seeded_after)
    return {
        "imported": [s["handle"] for s in snapshot.shops],
        "mode": mode,
        "logs": logs,
        "logsKept": sorted(replaced),
        "cancelledMessages": cancelled,
    }

"""The fake payment app's own tables, keyed by the shop's domain: it knows nothing else of a
shop. Its records are dataclasses here, so no insert takes a row of positional arguments."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from sandbox.store.tables import Connection, Row, Scope, columns_of, delete, insert, select_one

# The fake app's tables, as snapshots name their sections.
SECTIONS = {
    "installations": "psp_installations",
    "payments": "psp_payments",
    "operations": "psp_operations",
}
RECORD_TABLES = ("psp_payments", "psp_operations")
# Each table's primary key: an imported row replaces the one with the same key.
KEYS = {
    "psp_installations": ("shop_domain",),
    "psp_payments": ("shop_domain", "payment_id"),
    "psp_operations": ("shop_domain", "kind", "operation_id"),
}


@dataclass(frozen=True)
class Installation:
    """What the app learnt when a shop installed it: where the platform is, which token its
    callbacks carry, and the client secret launch URLs are signed with."""

    shop_domain: str
    shop_id: int
    platform_url: str
    access_token: str
    client_secret: str | None = None
    capture_flag: str = "published"  # how this app reads manualCapture


@dataclass(frozen=True)
class PspPayment:
    shop_domain: str
    payment_id: str
    channel_payment_id: str
    kind: str  # card or offsite
    fingerprint: str  # what must match when the same paymentId comes again
    amount: str
    currency: str
    manual_capture: bool
    decision: str | None  # SUCCESS, AUTH_SUCCESS or FAILURE once decided
    reason: str | None
    decided_at: str | None
    captured: str
    refunded: str
    answer: str  # the first answer, as JSON: replayed to a repeated request
    created_at: str
    voided: bool = False
    card_last4: str | None = None
    holder: str | None = None
    magic: str | None = None
    action_token: str | None = None  # the buyer's 3-D Secure or offsite session
    return_url: str | None = None
    cancel_url: str | None = None

    @classmethod
    def from_row(cls, row: Row) -> PspPayment:
        values = {f.name: row[f.name] for f in fields(cls)}
        values["manual_capture"] = bool(values["manual_capture"])
        values["voided"] = bool(values["voided"])
        return cls(**values)


@dataclass(frozen=True)
class PspOperation:
    shop_domain: str
    kind: str
    operation_id: str
    payment_id: str
    fingerprint: str
    amount: str | None
    channel_id: str
    decision: str
    reason: str | None
    answer: str
    created_at: str

    @classmethod
    def from_row(cls, row: Row) -> PspOperation:
        return cls(**{f.name: row[f.name] for f in fields(cls)})


# ---- installations ----------------------------------------------------------------------------


def load_installation(conn: Connection, domain: str) -> Installation | None:
    row = select_one(conn, "psp_installations", {"shop_domain": domain})
    if row is None:
        return None
    return Installation(
        row["shop_domain"],
        row["shop_id"],
        row["platform_url"],
        row["access_token"],
        row["client_secret"],
        row["capture_flag"],
    )


def save_installation(conn: Connection, install: Installation, at: str) -> None:
    """Install (or reinstall) the app in a shop: every field is replaced."""
    insert(
        conn,
        "psp_installations",
        {**columns_of(install), "created_at": at},
        conflict="ON CONFLICT (shop_domain) DO UPDATE SET shop_id = excluded.shop_id, "
        "platform_url = excluded.platform_url, access_token = excluded.access_token, "
        "client_secret = excluded.client_secret, capture_flag = excluded.capture_flag",
    )


def point_installation(conn: Connection, install: Installation, at: str) -> None:
    """Send the shop's callbacks to another platform; the client secret is kept."""
    values = columns_of(install)
    values.pop("client_secret")
    insert(
        conn,
        "psp_installations",
        {**values, "created_at": at},
        conflict="ON CONFLICT (shop_domain) DO UPDATE SET platform_url = excluded.platform_url, "
        "access_token = excluded.access_token, capture_flag = excluded.capture_flag",
    )


# ---- payments and operations ------------------------------------------------------------------


def load_payment(conn: Connection, domain: str, payment_id: str) -> PspPayment | None:
    row = _scope(conn, domain).one("psp_payments", payment_id=payment_id)
    return PspPayment.from_row(row) if row else None


def payment_by_session(conn: Connection, token: str) -> PspPayment | None:
    row = select_one(conn, "psp_payments", {"action_token": token})
    return PspPayment.from_row(row) if row else None


def insert_payment(conn: Connection, payment: PspPayment) -> None:
    values = columns_of(payment)
    values["manual_capture"] = int(payment.manual_capture)
    values["voided"] = int(payment.voided)
    insert(conn, "psp_payments", values)


def update_payment(conn: Connection, domain: str, payment_id: str, **values: Any) -> None:
    """Change some of a payment's money or decision fields (``voided`` as a bool)."""
    if "voided" in values:
        values["voided"] = int(values["voided"])
    _scope(conn, domain).update("psp_payments", values, payment_id=payment_id)


def load_operation(
    conn: Connection, domain: str, kind: str, operation_id: str
) -> PspOperation | None:
    row = _scope(conn, domain).one("psp_operations", kind=kind, operation_id=operation_id)
    return PspOperation.from_row(row) if row else None


def insert_operation(conn: Connection, operation: PspOperation) -> None:
    insert(conn, "psp_operations", columns_of(operation))


def _scope(conn: Connection, domain: str) -> Scope:
    return Scope(conn, domain, column="shop_domain")


# ---- whole shops: reset and snapshots ---------------------------------------------------------


def clear_domain(conn: Connection, domain: str) -> None:
    for table in RECORD_TABLES:
        _scope(conn, domain).delete(table)


def clear_all(conn: Connection) -> None:
    for table in RECORD_TABLES:
        delete(conn, table, {})


def export_rows(conn: Connection, domains: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each section's rows for these shops, in the order they were written."""
    exported: dict[str, list[dict[str, Any]]] = {}
    marks = ", ".join("?" * len(domains))
    for section, table in SECTIONS.items():
        rows = conn.execute(
            f"SELECT * FROM {table} WHERE shop_domain IN ({marks}) ORDER BY rowid", domains
        ).fetchall()
        # shop_id is this store's own; an import re-attaches installations by domain
        exported[section] = [{k: r[k] for k in r.keys() if k != "shop_id"} for r in rows]  # noqa: SIM118 (a Row iterates values)
    return exported


def import_rows(
    conn: Connection, sections: Mapping[str, Iterable[dict[str, Any]]], domain: str | None = None
) -> None:
    """Rows from a snapshot (all of them, or one shop domain's), then installations
    re-attached to this store's shop ids by domain."""
    for section, table in SECTIONS.items():
        for row in sections.get(section, []):
            if domain is not None and row.get("shop_domain") != domain:
                continue
            values = {"shop_id": 0, **row} if table == "psp_installations" else row
            delete(conn, table, {key: values.get(key) for key in KEYS[table]})  # replaced
            insert(conn, table, values)
    conn.execute(
        "UPDATE psp_installations SET shop_id = (SELECT id FROM shops WHERE shops.domain = "
        "psp_installations.shop_domain) WHERE shop_domain IN (SELECT domain FROM shops)"
    )


def answer_of(record: PspPayment | PspOperation) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(record.answer)
    return answer

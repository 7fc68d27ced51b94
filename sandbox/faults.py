"""Faults armed on purpose: make a target fail, slow down, drop, lose answers, duplicate or
reorder, for the next N requests or with a probability under a seed.

Targets: an outbound message kind (``app.payment``, ``app.offsite_payment``, ``app.capture``,
``app.void``, ``app.refund``, ``app.get_payment``, ``app.get_refund``), ``callbacks`` (the fake
app's result callbacks), ``webhook`` (deliveries), or ``platform`` (inbound requests to the
platform API, optionally only under a ``path`` prefix). Everything a fault does is journaled.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from sandbox.core.clock import Clock
from sandbox.core.timefmt import to_storage
from sandbox.errors import NotFound, invalid
from sandbox.store import faults as rows
from sandbox.store.db import Database

OUTBOUND_TARGETS = (
    "app.payment",
    "app.offsite_payment",
    "app.capture",
    "app.void",
    "app.refund",
    "app.get_payment",
    "app.get_refund",
    "callbacks",
    "webhook",
)
TARGETS = (*OUTBOUND_TARGETS, "platform")
KINDS = {
    "status": "answer with an HTTP status and an error body (nothing is processed or sent)",
    "latency": "add latencyMs before handling or sending",
    "drop": "drop the connection (nothing is processed or sent)",
    "commit_lost": "process or send it for real, then lose the answer",
    "duplicate": "deliver the message twice (outbound only)",
    "reorder": "hold the message back delaySeconds so later ones overtake it (outbound only)",
}
OUTBOUND_ONLY = ("duplicate", "reorder")


@dataclass(frozen=True)
class Fault:
    id: int
    target: str
    kind: str
    shop_id: int | None
    payment_id: str | None
    path: str | None
    remaining: int | None
    probability: float | None
    seed: int
    status: int
    body: str
    latency_ms: int
    delay_seconds: float

    def label(self) -> str:
        return f"{self.kind} (fault {self.id})"


def target_of(kind: str) -> str:
    """The fault target an outbox message kind answers to."""
    return "callbacks" if kind.startswith("psp.") else kind


class Faults:
    def __init__(self, db: Database, clock: Clock, default_seed: int | None):
        self.db = db
        self.clock = clock
        self.default_seed = default_seed if default_seed is not None else 0

    def arm(self, spec: dict[str, Any], shop_id: int | None) -> dict[str, Any]:
        if spec["target"] not in TARGETS:
            raise invalid("target", f"one of {', '.join(TARGETS)}")
        if spec["kind"] not in KINDS:
            raise invalid("kind", f"one of {', '.join(KINDS)}")
        if spec["target"] == "platform" and spec["kind"] in OUTBOUND_ONLY:
            raise invalid("kind", f"{spec['kind']} applies to outbound targets only")
        probability = spec.get("probability")
        count = spec.get("count")
        if probability is None and count is None:
            count = 1
        seed = spec.get("seed", self.default_seed)
        values = {
            "target": spec["target"],
            "kind": spec["kind"],
            "shop_id": shop_id,
            "payment_id": spec.get("paymentId"),
            "path": spec.get("path"),
            "remaining": count,
            "probability": probability,
            "seed": seed,
            "status": spec.get("status", 503),
            "body": spec.get("body") or '{"error": "Injected fault: service unavailable"}',
            "latency_ms": spec.get("latencyMs", 1000),
            "delay_seconds": spec.get("delaySeconds", 5),
            "created_at": to_storage(self.clock.now()),
        }
        with self.db.write() as conn:
            fault_id = rows.insert_fault(conn, values)
        return self.view(fault_id)

    def list(self) -> list[dict[str, Any]]:
        return [_view(r) for r in rows.list_faults(self.db.read())]

    def view(self, fault_id: int) -> dict[str, Any]:
        row = rows.load_fault(self.db.read(), fault_id)
        if row is None:
            raise NotFound(f"Fault {fault_id} not found")
        return _view(row)

    def clear(self, fault_id: int | None = None) -> int:
        with self.db.write() as conn:
            if fault_id is None:
                return rows.delete_faults(conn)
            if rows.delete_faults(conn, fault_id) == 0:
                raise NotFound(f"Fault {fault_id} not found")
            return 1

    def armed(self) -> tuple[Fault, ...]:
        return self.db.memo(("faults",), self._armed)

    def pick(
        self, target: str, shop_id: int | None, payment_id: str | None, path: str | None = None
    ) -> Fault | None:
        """The armed fault that fires for this request, if any (consumed atomically)."""
        armed = self.armed()
        candidates = [f for f in armed if _matches(f, target, shop_id, payment_id, path)]
        if not candidates:
            return None
        with self.db.write() as conn:
            for fault in candidates:
                row = rows.load_fault(conn, fault.id)
                if row is None or (row["remaining"] is not None and row["remaining"] <= 0):
                    continue
                seen = row["seen"]
                fires = True
                if fault.probability is not None:
                    draw = random.Random(f"{fault.seed}:{seen}").random()
                    fires = draw < fault.probability
                rows.count_seen(conn, fault.id, fires)
                if fires:
                    return fault
        return None

    def _armed(self) -> tuple[Fault, ...]:
        return tuple(
            Fault(
                r["id"],
                r["target"],
                r["kind"],
                r["shop_id"],
                r["payment_id"],
                r["path"],
                r["remaining"],
                r["probability"],
                r["seed"],
                r["status"],
                r["body"],
                r["latency_ms"],
                r["delay_seconds"],
            )
            for r in rows.list_faults(self.db.read(), armed_only=True)
        )


def _matches(fault: Fault, target, shop_id, payment_id, path) -> bool:
    return (
        fault.target == target
        and (fault.shop_id is None or fault.shop_id == shop_id)
        and (fault.payment_id is None or fault.payment_id == payment_id)
        and (fault.path is None or (path or "").startswith(fault.path))
    )


def _view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "target": row["target"],
        "kind": row["kind"],
        "shopId": row["shop_id"],
        "paymentId": row["payment_id"],
        "path": row["path"],
        "remaining": row["remaining"],
        "probability": row["probability"],
        "seed": row["seed"],
        "status": row["status"],
        "body": row["body"],
        "latencyMs": row["latency_ms"],
        "delaySeconds": row["delay_seconds"],
        "seen": row["seen"],
        "fired": row["fired"],
    }

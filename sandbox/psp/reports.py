"""The callbacks the fake app makes to the platform: the field table in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox import protocol
from sandbox.store.psp import Installation


@dataclass(frozen=True)
class Report:
    """One result callback, as the outbox will send it."""

    kind: str  # payment, pre_authorize, capture, void or refund
    object_id: str
    payment_id: str
    result: bool
    reason: str | None
    channel_id: str

    def url(self, install: Installation) -> str:
        return install.platform_url + protocol.callback_path(self.kind, self.object_id)

    def headers(self, install: Installation) -> dict[str, str]:
        return {protocol.TOKEN_HEADER: install.access_token}

    def body(self) -> dict[str, Any]:
        pay: dict[str, Any] = {
            "result": protocol.flag(self.result),
            protocol.id_field(self.kind): self.object_id,
            protocol.channel_field(self.kind): self.channel_id,
        }
        if self.reason:
            pay["reason"] = self.reason
        return {"pay": pay}


def payment_report(
    payment_id: str, manual_capture: bool, status: str, reason: str | None, channel_id: str
) -> Report:
    """A payment's result: through ``pre_authorize`` when it was authorized only."""
    kind = "pre_authorize" if manual_capture else "payment"
    return Report(kind, payment_id, payment_id, status != "FAILURE", reason, channel_id)

"""Magic values to a decision: what the fake app answers and what it reports later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sandbox.core import magic

DECLINE_ON_CANCEL = "Buyer cancelled the payment"
THREE_DS_FAILED = "3-D Secure authentication failed"


@dataclass(frozen=True)
class Decision:
    """``status`` is SUCCESS, AUTH_SUCCESS or FAILURE; None while the buyer must act first
    (3-D Secure). ``answered_reason`` is what the immediate answer's ``error`` says."""

    magic: str
    status: str | None
    reason: str | None = None
    delay: timedelta = timedelta(0)
    callback_failures: int = 0
    answered_reason: str = ""


def success_status(manual_capture: bool) -> str:
    return "AUTH_SUCCESS" if manual_capture else "SUCCESS"


def for_card(chosen: magic.Magic, amount: Decimal, manual_capture: bool) -> Decision:
    """The decision a card's magic value makes."""
    if chosen.outcome == "three_ds":
        return Decision(chosen.name, None)
    if chosen.outcome == "decline":
        reason = chosen.reason_for(amount)
        return Decision(
            chosen.name,
            "FAILURE",
            reason,
            chosen.delay,
            chosen.callback_failures,
            answered_reason="" if chosen.delay else reason or "",
        )
    return Decision(
        chosen.name,
        success_status(manual_capture),
        None,
        chosen.delay,
        chosen.callback_failures,
    )


def unreadable(error: str) -> Decision:
    """Card data that cannot be decrypted or used: declined at once."""
    return Decision("unreadable_card", "FAILURE", error, answered_reason=error)


def for_buyer(
    catalogue: list[magic.Magic], action: str, amount: Decimal, manual_capture: bool
) -> tuple[str, str | None]:
    """The status and reason after the buyer passed or failed 3-D Secure, or approved or
    cancelled offsite (an approved payment can still be declined by its amount)."""
    if action in ("pass", "approve"):
        chosen = magic.choose(catalogue, None, None, amount)
        if chosen.outcome == "decline":
            return "FAILURE", chosen.reason_for(amount)
        return success_status(manual_capture), None
    if action == "fail":
        return "FAILURE", THREE_DS_FAILED
    return "FAILURE", DECLINE_ON_CANCEL

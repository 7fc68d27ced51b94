"""Small builders shared by tests."""

from __future__ import annotations

KIND_FIELDS = {
    "payment": ("paymentId", "channelPaymentId"),
    "pre_authorize": ("paymentId", "channelPaymentId"),
    "capture": ("captureId", "channelCaptureId"),
    "void": ("voidId", "channelVoidId"),
    "refund": ("refundId", "channelRefundId"),
}


def result_body(kind: str, object_id: str, result=True, reason=None, channel="ch_test") -> dict:
    id_field, channel_field = KIND_FIELDS[kind]
    pay = {"result": result, id_field: object_id, channel_field: channel}
    if reason is not None:
        pay["reason"] = reason
    return {"pay": pay}

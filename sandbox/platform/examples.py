"""The seeds' own examples, shown in the platform's OpenAPI document: the six result calls
(seed 000), the transaction query's answer (seed 002) and the legacy Order API (seed 003)."""

from __future__ import annotations

from typing import Any

ACCOUNT_AUTHORIZE = {"pay": {"ready": "true"}}
PAYMENT_RESULT = {
    "pay": {
        "result": "true",
        "reason": "Insufficient balance of bank card",
        "paymentId": "PI00202510281513381",
        "channelPaymentId": "2025102815",
    }
}
PRE_AUTHORIZE_RESULT = {
    "pay": {
        "result": "true",
        "reason": "Abnormal bank card number",
        "paymentId": "PI00202510281513381",
        "channelPaymentId": "20251028151338",
    }
}
CAPTURE_RESULT = {
    "pay": {
        "result": "true",
        "reason": "Payment do not support multiple captures",
        "channelCaptureId": "510281513",
        "captureId": "PI00202510281513381",
    }
}
VOID_RESULT = {
    "pay": {
        "result": "true",
        "reason": "Payment status is abnormal",
        "voidId": "PI00204453245701197",
        "channelVoidId": "I002044532457",
    }
}
REFUND_RESULT = {
    "pay": {
        "result": "true",
        "reason": "The Reason for refund failure",
        "channelRefundId": "100202712119",
        "refundId": "RI00202510281513381",
    }
}
TRANSACTION = {
    "payment": {
        "successPaymentTime": "2019-06-28T18:03:50+01:00",
        "amount": "123.23",
        "channelTrxNo": "0SX593062F1597043",
        "paymentId": "PI0020241010151755224",
        "fee": "5.01",
        "currency": "USD",
        "net": "118.22",
        "outOrderNo": "101010101000000000136",
        "status": "1",
    }
}
_METHOD = {
    "gateway": "alipay",
    "id": 22,
    "name": "支付宝(担保交易) - 自主配置",
    "pay_type": "alipay_partner",
    "payment_method_type": "online",
}
LEGACY_PAYMENT: dict[str, Any] = {
    "amount": 10,
    "bank_code": "",
    "created_at": "2015-05-12T16:48:06.468+08:00",
    "exipired_at": "2015-05-14T16:48:06.468+08:00",
    "gateway_payment_no": None,
    "id": 318,
    "is_available": True,
    "mode": "online",
    "payment_method": _METHOD,
    "status": "pending",
    "updated_at": "2015-05-12T16:48:06.468+08:00",
}
LEGACY_PAYMENTS = {
    "payments": [
        {
            **LEGACY_PAYMENT,
            "amount": 11,
            "created_at": "2015-05-12T16:47:20.179+08:00",
            "exipired_at": "2015-05-14T03:00:00.000+08:00",
            "id": 317,
            "is_available": False,
        },
        LEGACY_PAYMENT,
    ]
}
LEGACY_COUNT = {"count": 2}
LEGACY_ONE = {"payment": LEGACY_PAYMENT}

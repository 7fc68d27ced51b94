"""Small builders shared by tests."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sandbox.settings import Settings
from sandbox.testing.live import LiveSandbox

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


def store_settings(**values) -> Settings:
    """Settings for an in-process app on the store this session runs on: the data
    directory's SQLite file, or (``GENSTORE_SANDBOX_TEST_STORE=postgresql``) a PostgreSQL
    database of the session's throwaway cluster, the same one for the same directory."""
    stores = LiveSandbox.stores
    if stores is not None and "database" not in values:
        values["database"] = stores(values["data_dir"])
    return Settings(**values)


def freeze_clock(client):
    """Freeze an in-process app's clock; a function that advances it (the ``frozen``
    fixture)."""
    assert client.post("/_sandbox/clock", json={"frozen": True}).status_code == 200

    def advance(by):
        response = client.post("/_sandbox/clock", json={"advance": by})
        assert response.status_code == 200, response.json
        return response.json

    return advance


def at_once(call, arguments) -> list:
    """``call`` for each argument, all released together from a barrier."""
    barrier = threading.Barrier(len(arguments))

    def run(argument):
        barrier.wait()
        return call(argument)

    with ThreadPoolExecutor(len(arguments)) as pool:
        return list(pool.map(run, arguments))

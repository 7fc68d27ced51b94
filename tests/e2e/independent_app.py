"""A small payment app written from Genstore's docs alone: its own routes, its own GENSTORE-V1
decryption, no sandbox imports. The swap test registers it and drives it as Genstore would."""

from __future__ import annotations

import base64
import json
import struct
import threading

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, request
from werkzeug.serving import make_server

# Werkzeug compiles each route with ``ast``; CPython 3.11 before 3.11.8 can fail that when
# several threads compile at once ("AST constructor recursion depth mismatch", gh-106905), and
# the verify test builds two dozen of these apps in parallel threads.
BUILDING = threading.Lock()


class IndependentApp:
    def __init__(self, port: int = 0, key: ec.EllipticCurvePrivateKey | None = None):
        self._key = key or ec.generate_private_key(ec.SECP256R1())
        self.private_key = self._key
        spki = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(spki).decode()
        self.received: list[dict] = []
        self.cards: dict[str, dict] = {}
        self.callbacks: list[tuple[str, dict]] = []
        self.fail_next = 0
        self.hang_next = 0  # requests to hold until release() (a slow or stuck app)
        self.answers: dict[str, object] = {}  # a call's answer, instead of the usual one
        self.statuses: dict[str, str] = {}  # what Get payment / Get refund answer, by id
        self._release = threading.Event()
        self.platform_url = ""
        self.token = ""
        with BUILDING:
            app = self._build()
        self._server = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> IndependentApp:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def release(self) -> None:
        self._release.set()

    def close(self) -> None:
        """Release the port of an app that was never started."""
        self._server.server_close()

    def urls(self) -> dict[str, str]:
        names = (
            "payment",
            "offsite_payment",
            "capture",
            "void",
            "refund",
            "get_payment",
            "get_refund",
        )
        return {name: f"{self.url}/genstore/{name}" for name in names}

    def send_callbacks(self) -> list[int]:
        """Report every queued result to the platform, as the app's worker would."""
        statuses = []
        while self.callbacks:
            path, body = self.callbacks.pop(0)
            response = requests.put(
                self.platform_url + path,
                json=body,
                headers={"X-Genstore-Access-Token": self.token},
                timeout=10,
            )
            statuses.append(response.status_code)
        return statuses

    def decrypt(self, data: dict) -> dict:
        """GENSTORE-V1 as documented: ECDH P-256, HKDF-SHA256(salt) to 16 bytes, AES-128-GCM
        with AAD = TLV(suite) || TLV(eph) || TLV(iv)."""
        eph_der = base64.b64decode(data["ephemeralPublicKey"])
        iv = base64.b64decode(data["iv"])
        shared = self._key.exchange(ec.ECDH(), serialization.load_der_public_key(eph_der))
        key = HKDF(hashes.SHA256(), 16, data["salt"].encode(), b"").derive(shared)

        def tlv(name: str, value: bytes) -> bytes:
            return (
                struct.pack(">H", len(name)) + name.encode() + struct.pack(">I", len(value)) + value
            )

        aad = tlv("suite", data["suit"].encode()) + tlv("eph", eph_der) + tlv("iv", iv)
        plain = AESGCM(key).decrypt(iv, base64.b64decode(data["cipherText"]), aad)
        return json.loads(plain)

    def _build(self) -> Flask:
        app = Flask("independent-payment-app")

        @app.get("/genstore/<any(get_payment, get_refund):call>")
        def query(call):
            self.received.append({"call": call, "query": dict(request.args)})
            name, channel = (
                ("paymentId", "channelPaymentId")
                if call == "get_payment"
                else ("refundId", "channelRefundId")
            )
            object_id = request.args.get(name, "")
            if call in self.answers:
                return self.answers[call]
            return {
                channel: f"ind-{object_id}",
                "status": self.statuses.get(object_id, "PROCESSING"),
            }

        @app.post("/genstore/<call>")
        def call(call):
            body = request.get_json(force=True)
            self.received.append({"call": call, "body": body, "headers": dict(request.headers)})
            if self.hang_next > 0:
                self.hang_next -= 1
                self._release.wait(30)
                return {"error": "too late"}, 504
            if self.fail_next > 0:
                self.fail_next -= 1
                return {"error": "temporarily unavailable"}, 503
            if call in self.answers:
                return self.answers[call]
            if call == "payment":
                self.cards[body["paymentId"]] = self.decrypt(body["paymentMethod"]["data"])
                # Seed 001: manualCapture "true for automatic capture, false for manual".
                kind = "pre_authorize" if body["manualCapture"] == "false" else "payment"
                self._queue(
                    f"/api/202412/app/{kind}/{body['paymentId']}",
                    "paymentId",
                    body["paymentId"],
                    "channelPaymentId",
                    "ind-" + body["paymentId"],
                )
                return {"error": ""}
            name = {"capture": "Capture", "void": "Void", "refund": "Refund"}[call]
            object_id = body[f"{call}Id"]
            self._queue(
                f"/api/202412/app/{call}/{object_id}",
                f"{call}Id",
                object_id,
                f"channel{name}Id",
                f"ind-{object_id}",
            )
            return {f"channel{name}Id": f"ind-{object_id}"}

        return app

    def _queue(self, path, id_field, object_id, channel_field, channel_id) -> None:
        pay = {"result": "true", id_field: object_id, channel_field: channel_id}
        self.callbacks.append((path, {"pay": pay}))

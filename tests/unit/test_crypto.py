"""GENSTORE-V1 card encryption: known answers, an independent decryption, tampering."""

import base64
import json
import struct

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sandbox.core import crypto
from tests.conftest import FIXTURES

PRIVATE_PEM = (FIXTURES / "keys" / "sandbox-psp.private.pem").read_text()
PUBLIC_B64 = (FIXTURES / "keys" / "sandbox-psp.public.b64").read_text().strip()
EPHEMERAL = ec.derive_private_key(
    0x1F2E3D4C5B6A79881726354453627180A9B8C7D6E5F40312233445566778899, ec.SECP256R1()
)
CARD = (
    b'{"pan":"4242424242424242","month":12,"year":2030,"verificationValue":"123",'
    b'"fullName":"John Smith"}'
)
# Known answer for CARD with the shipped test key, EPHEMERAL and IV 00 01 .. 0b.
VECTOR = {
    "cipherText": "4MorM1ZVNm1vAZ/y5xYqeH5KkJERcjCVzAmoxpgqv0Tt4vsZnqqy5yPCMTwpC7HY8A3e+sYRMrOk"
    "S53dGvZMgrB/WxCo3nEiWaO+tasc7knO2Z40FPde4EAbCi7V+8OHtWgpC55AHXvDGopulLU8r7Gpxw==",
    "salt": "GENSTORE-HKDF-SALT",
    "ephemeralPublicKey": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAELyOIP77UDcKstIn5whtNibaKCPOX"
    "fTkT86c81DILhw95R1OebT8ChwhDCKByx6pyqBHZrlHWNyiZ31ifXcoBMw==",
    "suit": "GENSTORE-V1",
    "iv": "AAECAwQFBgcICQoL",
}


def documented_decrypt(data: dict, private_pem: str) -> bytes:
    """Decryption written from GENSTORE-API.md's steps alone, without the module under test."""
    private_key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    eph_der = base64.b64decode(data["ephemeralPublicKey"])
    iv = base64.b64decode(data["iv"])
    shared = private_key.exchange(ec.ECDH(), serialization.load_der_public_key(eph_der))
    key = HKDF(hashes.SHA256(), 16, data["salt"].encode(), b"").derive(shared)

    def field(name: str, value: bytes) -> bytes:
        return struct.pack(">H", len(name)) + name.encode() + struct.pack(">I", len(value)) + value

    aad = field("suite", data["suit"].encode()) + field("eph", eph_der) + field("iv", iv)
    return AESGCM(key).decrypt(iv, base64.b64decode(data["cipherText"]), aad)


def test_known_answer_vector():
    app_key = crypto.load_public_key(PUBLIC_B64)
    assert crypto.encrypt(CARD, app_key, ephemeral_key=EPHEMERAL, iv=bytes(range(12))) == VECTOR


def test_the_vector_decrypts_by_the_documented_steps_and_by_the_module():
    assert documented_decrypt(VECTOR, PRIVATE_PEM) == CARD
    assert crypto.decrypt(VECTOR, crypto.load_private_key(PRIVATE_PEM)) == CARD


def test_fresh_encryptions_differ_and_decrypt_independently():
    card = {
        "pan": "4000000000000002",
        "month": 1,
        "year": 2031,
        "verificationValue": "999",
        "fullName": "Ana Lima",
    }
    first = crypto.encrypt_card(card, PUBLIC_B64)
    second = crypto.encrypt_card(card, PUBLIC_B64)
    assert first["cipherText"] != second["cipherText"] and first["iv"] != second["iv"]
    assert json.loads(documented_decrypt(first, PRIVATE_PEM)) == card
    assert crypto.decrypt_card(second, PRIVATE_PEM) == card
    assert len(base64.b64decode(first["iv"])) == 12
    assert (
        len(base64.b64decode(first["cipherText"]))
        == len(json.dumps(card, separators=(",", ":"))) + 16
    )


def _flip(b64: str, index: int = 0) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cipherText": _flip(VECTOR["cipherText"])}, "authentication failed"),
        ({"cipherText": _flip(VECTOR["cipherText"], -1)}, "authentication failed"),  # the tag
        ({"iv": _flip(VECTOR["iv"])}, "authentication failed"),
        ({"salt": "OTHER-SALT"}, "authentication failed"),
        ({"suit": "GENSTORE-V2"}, "unsupported suit"),
        ({"iv": base64.b64encode(b"short").decode()}, "iv must be 12 bytes"),
        ({"cipherText": "not base64!"}, "must be base64"),
        ({"ephemeralPublicKey": base64.b64encode(b"junk").decode()}, "ephemeralPublicKey"),
        (
            {"ephemeralPublicKey": crypto.public_key_b64(ec.generate_private_key(ec.SECP256R1()))},
            "authentication failed",
        ),
        ({"cipherText": ""}, "cipherText is missing"),
    ],
)
def test_tampering_is_refused_with_a_clear_error(change, message):
    with pytest.raises(crypto.CryptoError, match=message):
        crypto.decrypt({**VECTOR, **change}, crypto.load_private_key(PRIVATE_PEM))


def test_the_wrong_private_key_is_refused():
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(crypto.CryptoError, match="authentication failed"):
        crypto.decrypt(VECTOR, other)


def test_suite_is_bound_by_the_aad():
    """Re-encrypting under another suite name changes the AAD: same key, different result."""
    app_key = crypto.load_public_key(PUBLIC_B64)
    other = crypto.encrypt(
        CARD, app_key, suit="OTHER", ephemeral_key=EPHEMERAL, iv=bytes(range(12))
    )
    assert other["cipherText"][:24] == VECTOR["cipherText"][:24]  # same keystream, ...
    assert other["cipherText"] != VECTOR["cipherText"]  # ... different tag


def test_info_is_configurable_and_must_match():
    data = crypto.encrypt(CARD, crypto.load_public_key(PUBLIC_B64), info=b"shop-1")
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(data, crypto.load_private_key(PRIVATE_PEM))
    assert crypto.decrypt(data, crypto.load_private_key(PRIVATE_PEM), info=b"shop-1") == CARD


@pytest.mark.parametrize("bad", ["", "bm90IGEga2V5", "!!!", base64.b64encode(b"x" * 91).decode()])
def test_bad_public_keys_are_refused(bad):
    with pytest.raises(crypto.CryptoError, match="public key"):
        crypto.load_public_key(bad)

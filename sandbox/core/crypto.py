"""GENSTORE-V1: how Genstore encrypts card data for a payment app.

ECDH (P-256) between a fresh ephemeral key and the app's long-term key; HKDF-SHA256 over the
raw shared secret (the 32-byte x coordinate) with the payload's ``salt`` as salt and ``info``
(empty unless configured) to a 16-byte key; AES-128-GCM with a random 12-byte IV, the 16-byte
tag appended to the ciphertext. The additional authenticated data binds the suite, the
ephemeral key and the IV::

    AAD = TLV("suite", suit) || TLV("eph", ephemeral SPKI DER) || TLV("iv", iv)
    TLV = [2-byte big-endian name length][ASCII name][4-byte big-endian value length][value]

``ephemeralPublicKey`` is base64 of the ephemeral key's X.509 SubjectPublicKeyInfo DER, ``iv``
and ``cipherText`` (ciphertext || tag) base64 too. The app registers its public key as base64
SPKI DER and keeps its private key (PKCS#8 PEM).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import struct
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SUITE = "GENSTORE-V1"
DEFAULT_SALT = "GENSTORE-HKDF-SALT"
IV_BYTES = 12
KEY_BYTES = 16


@dataclass(frozen=True)
class CardKeys:
    """What an app needs to read GENSTORE-V1 card data: its private key and HKDF's info."""

    private_key_pem: str
    info: bytes = b""


class CryptoError(ValueError):
    """Card data that cannot be decrypted, with what is wrong."""


def tlv(name: str, value: bytes) -> bytes:
    label = name.encode("ascii")
    return struct.pack(">H", len(label)) + label + struct.pack(">I", len(value)) + value


def aad(suit: str, ephemeral_spki: bytes, iv: bytes) -> bytes:
    return tlv("suite", suit.encode("utf-8")) + tlv("eph", ephemeral_spki) + tlv("iv", iv)


def derive_key(shared_secret: bytes, salt: str, info: bytes = b"") -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt.encode("utf-8"), info=info
    ).derive(shared_secret)


def spki_der(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key(b64_spki: str) -> ec.EllipticCurvePublicKey:
    """An app's registered key: base64 X.509 SubjectPublicKeyInfo DER of a P-256 key."""
    try:
        key = serialization.load_der_public_key(base64.b64decode(b64_spki, validate=True))
    except (ValueError, TypeError, binascii.Error):
        raise CryptoError("public key is not base64 X.509 SubjectPublicKeyInfo DER") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise CryptoError("public key must be an EC key on P-256 (secp256r1)")
    return key


def load_private_key(pem: str | bytes) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(
            pem.encode() if isinstance(pem, str) else pem, password=None
        )
    except (ValueError, TypeError):
        raise CryptoError("private key is not an unencrypted PKCS#8 PEM") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise CryptoError("private key must be an EC key on P-256 (secp256r1)")
    return key


def public_key_b64(private_key: ec.EllipticCurvePrivateKey) -> str:
    return base64.b64encode(spki_der(private_key.public_key())).decode()


@dataclass(frozen=True)
class KeyPair:
    """A payment app's P-256 key pair as files hold it and registration takes it."""

    private_pem: str  # PKCS#8 PEM, unencrypted: what the app decrypts card data with
    public_pem: str  # X.509 SubjectPublicKeyInfo PEM
    public_b64: str  # base64 SPKI DER: POST /_sandbox/apps publicKey


def generate_key_pair() -> KeyPair:
    key = ec.generate_private_key(ec.SECP256R1())
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return KeyPair(private_pem, public_pem, public_key_b64(key))


def encrypt(
    plaintext: bytes,
    app_public_key: ec.EllipticCurvePublicKey,
    *,
    salt: str = DEFAULT_SALT,
    suit: str = SUITE,
    info: bytes = b"",
    ephemeral_key: ec.EllipticCurvePrivateKey | None = None,
    iv: bytes | None = None,
) -> dict[str, str]:
    """The ``paymentMethod.data`` fields for ``plaintext`` (fixed key and IV for test vectors)."""
    ephemeral_key = ephemeral_key or ec.generate_private_key(ec.SECP256R1())
    iv = iv if iv is not None else os.urandom(IV_BYTES)
    ephemeral_spki = spki_der(ephemeral_key.public_key())
    key = derive_key(ephemeral_key.exchange(ec.ECDH(), app_public_key), salt, info)
    sealed = AESGCM(key).encrypt(iv, plaintext, aad(suit, ephemeral_spki, iv))
    return {
        "cipherText": base64.b64encode(sealed).decode(),
        "salt": salt,
        "ephemeralPublicKey": base64.b64encode(ephemeral_spki).decode(),
        "suit": suit,
        "iv": base64.b64encode(iv).decode(),
    }


def decrypt(
    data: dict[str, Any], private_key: ec.EllipticCurvePrivateKey, info: bytes = b""
) -> bytes:
    """Reverse :func:`encrypt`; every way it can fail says which part is wrong."""
    for name in ("cipherText", "salt", "ephemeralPublicKey", "suit", "iv"):
        if not isinstance(data.get(name), str) or not data[name]:
            raise CryptoError(f"paymentMethod.data.{name} is missing")
    if data["suit"] != SUITE:
        raise CryptoError(f"unsupported suit '{data['suit']}' (expected {SUITE})")
    try:
        iv = base64.b64decode(data["iv"], validate=True)
        ephemeral_spki = base64.b64decode(data["ephemeralPublicKey"], validate=True)
        sealed = base64.b64decode(data["cipherText"], validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("iv, ephemeralPublicKey and cipherText must be base64") from None
    if len(iv) != IV_BYTES:
        raise CryptoError(f"iv must be {IV_BYTES} bytes, got {len(iv)}")
    try:
        ephemeral = serialization.load_der_public_key(ephemeral_spki)
    except (ValueError, TypeError):
        raise CryptoError("ephemeralPublicKey is not an X.509 SubjectPublicKeyInfo key") from None
    if not isinstance(ephemeral, ec.EllipticCurvePublicKey) or ephemeral.curve.name != "secp256r1":
        raise CryptoError("ephemeralPublicKey must be a P-256 key")
    key = derive_key(private_key.exchange(ec.ECDH(), ephemeral), data["salt"], info)
    try:
        return AESGCM(key).decrypt(iv, sealed, aad(data["suit"], ephemeral_spki, iv))
    except InvalidTag:
        raise CryptoError(
            "authentication failed: the ciphertext, IV, suite, ephemeral key or salt was "
            "altered, or the data was encrypted to another key"
        ) from None


def encrypt_card(
    card: dict[str, Any], app_public_key_b64: str, info: bytes = b""
) -> dict[str, str]:
    """Card JSON ``{pan, month, year, verificationValue, fullName}`` -> payload fields."""
    plaintext = json.dumps(card, separators=(",", ":")).encode()
    return encrypt(plaintext, load_public_key(app_public_key_b64), info=info)


def decrypt_card(
    data: dict[str, Any], private_key_pem: str | bytes, info: bytes = b""
) -> dict[str, Any]:
    plaintext = decrypt(data, load_private_key(private_key_pem), info)
    try:
        card = json.loads(plaintext)
    except ValueError:
        raise CryptoError("decrypted card data is not JSON") from None
    if not isinstance(card, dict):
        raise CryptoError("decrypted card data is not a JSON object")
    return card

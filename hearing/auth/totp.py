"""Time-based one-time passwords (RFC 6238) for staff sign-in.

The secret is stored AES-GCM encrypted, bound to the user name. A code is
accepted for the current 30-second step or one step either side, and only
if its step is later than the last accepted one: a code cannot be replayed,
not even within its own step.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hearing.errors import ConfigurationError
from hearing.interpreter import otp

ISSUER = "Hearing"
TOLERANCE_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32(length=32)


def encrypt_secret(key: bytes, username: str, secret: str) -> bytes:
    nonce = secrets.token_bytes(12)
    return nonce + AESGCM(key).encrypt(nonce, secret.encode("ascii"), b"totp:" + username.encode())


def decrypt_secret(key: bytes, username: str, blob: bytes) -> str:
    try:
        plain = AESGCM(key).decrypt(blob[:12], blob[12:], b"totp:" + username.encode())
    except InvalidTag as exc:
        raise ConfigurationError("TOTP secret does not decrypt: wrong key file?") from exc
    return plain.decode("ascii")


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def accepted_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step this code belongs to, or None if it must be refused."""
    # issue 12, codes: the project's one OTP path (RFC 6238 through RFC 4226,
    # its vectors tested in tests/interpreter/test_otp.py), the same rule.
    return otp.accepted_step(otp.secret_bytes(secret), code, now, last_step, tolerance=TOLERANCE_STEPS)

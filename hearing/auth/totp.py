"""Time-based one-time passwords (RFC 6238) for staff sign-in.

The secret is stored AES-GCM encrypted, bound to the user name. A code is
accepted for the current 30-second step or one step either side, and only
if its step is later than the last accepted one: a code cannot be replayed,
not even within its own step.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hearing.errors import ConfigurationError

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
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    match: int | None = None
    # Check every candidate step, so timing says nothing about which matched.
    for step in range(current - TOLERANCE_STEPS, current + TOLERANCE_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and match is None:
            match = step
    if match is None or (last_step is not None and match <= last_step):
        return None
    return match

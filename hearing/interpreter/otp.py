"""One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238), the project's
one code path for both.

pyotp computes the HMAC truncation underneath; this module gives it raw
secret bytes (pyotp wants base32), takes the time step itself (pyotp's
`timecode` reads a naive datetime as local time) and names the digests
the RFCs name. The RFCs' own test vectors run through these functions
(tests/interpreter/test_otp.py). Pure: no framework, no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pyotp

DIGESTS: dict[str, Callable[..., Any]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}
MIN_DIGITS, MAX_DIGITS = 6, 10
DEFAULT_STEP = 30
# A typed TOTP longer than this is not one (checked before any work on it).
MAX_TYPED = 64


def _engine(secret: bytes, digits: int, digest: str) -> pyotp.HOTP:
    if digest not in DIGESTS:
        raise ValueError(f"unknown digest: {digest!r}")
    if not MIN_DIGITS <= digits <= MAX_DIGITS:
        raise ValueError(f"digits must be {MIN_DIGITS}-{MAX_DIGITS}")
    # RFC 4226 asks for at least 128 bits of secret and recommends 160;
    # pyotp refuses less than 112. The RFCs' own vectors use 160 and more.
    return pyotp.HOTP(base64.b32encode(secret).decode("ascii"), digits=digits, digest=DIGESTS[digest])


def hotp(secret: bytes, counter: int, *, digits: int = 6, digest: str = "sha1") -> str:
    """RFC 4226: the code for this counter value."""
    if not 0 <= counter < 2**64:
        raise ValueError("the counter is an unsigned 64-bit number")
    return _engine(secret, digits, digest).generate_otp(counter)


def time_step(at: float | datetime, *, step: int = DEFAULT_STEP, t0: int = 0) -> int:
    """RFC 6238's T: whole steps of `step` seconds since `t0` (Unix time)."""
    if step < 1:
        raise ValueError("the time step is at least one second")
    if isinstance(at, datetime):
        if at.tzinfo is None:
            raise ValueError("a time for TOTP must carry a time zone")
        at = at.timestamp()
    return int((at - t0) // step)


def totp(
    secret: bytes,
    at: float | datetime,
    *,
    step: int = DEFAULT_STEP,
    digits: int = 6,
    digest: str = "sha1",
    t0: int = 0,
) -> str:
    """RFC 6238: the code for the time step that `at` falls in."""
    return hotp(secret, time_step(at, step=step, t0=t0), digits=digits, digest=digest)


def secret_bytes(base32_secret: str) -> bytes:
    """A base32 secret (what authenticator apps and pyotp's URIs carry) as bytes."""
    padded = base32_secret + "=" * (-len(base32_secret) % 8)
    return base64.b32decode(padded, casefold=True)


def accepted_step(
    secret: bytes, code: str, now: datetime, last_step: int | None, *, tolerance: int = 1, digits: int = 6
) -> int | None:
    """The time step a typed TOTP belongs to, or None if it must be refused:
    the current step or `tolerance` either side (clocks drift), and only a
    step later than the last accepted one (a code is never accepted twice,
    not even within its own step). The rule hearing/auth/totp.py applies to
    staff."""
    if not isinstance(code, str) or len(code) > MAX_TYPED:
        return None
    code = code.strip().replace(" ", "")
    if len(code) != digits or not (code.isascii() and code.isdigit()):
        return None
    current = time_step(now)
    match: int | None = None
    # Check every candidate step, so timing says nothing about which matched.
    for candidate in range(current - tolerance, current + tolerance + 1):
        if hmac.compare_digest(hotp(secret, candidate, digits=digits), code) and match is None:
            match = candidate
    if match is None or (last_step is not None and match <= last_step):
        return None
    return match

"""Password hashing with scrypt (RFC 7914) from the standard library.

Parameters follow OWASP's scrypt guidance (N=2^15, r=8, p=1: 32 MiB, about
50 ms here). Hashing is CPU-bound and memory-hungry: sign-in runs it in a
`HashPool` of its own, outside any database transaction, so that a flood of
attempts costs a bounded number of cores and megabytes and never holds the
database's write lock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from hearing.errors import InvalidInput, SignInBusy

T = TypeVar("T")

N, R, P = 2**15, 8, 1
_MAXMEM = 64 * 1024 * 1024
MIN_LENGTH = 12
MAX_LENGTH = 256


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=32)


def check_policy(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"A password must be at least {MIN_LENGTH} characters.", field="password")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"A password must be at most {MAX_LENGTH} characters.", field="password")


def hash_password(password: str) -> str:
    check_policy(password)
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, N, R, P)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password[:MAX_LENGTH], base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# A real hash to check against when the user does not exist, so that an
# unknown username costs the same time as a wrong password.
DUMMY = f"scrypt${N}${R}${P}${_b64(b'0' * 16)}${_b64(b'0' * 32)}"


def generate_password() -> str:
    return secrets.token_urlsafe(15)


class HashPool:
    """At most `workers` hashes at once and `waiting` more in line; a
    submission beyond that is refused with `SignInBusy` at once, so neither
    the queue nor the memory (workers x 32 MiB) grows with a flood."""

    def __init__(self, workers: int, waiting: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="password-hash")
        self._places = threading.BoundedSemaphore(workers + waiting)

    def submit(self, work: Callable[[], T]) -> Future[T]:
        if not self._places.acquire(blocking=False):
            raise SignInBusy()
        try:
            future = self._executor.submit(work)
        except BaseException:
            self._places.release()
            raise
        future.add_done_callback(lambda _: self._places.release())
        return future

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

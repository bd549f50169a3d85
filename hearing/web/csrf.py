"""CSRF protection for every form, signed-in or not.

Each browser gets a random, HttpOnly, SameSite=Strict cookie. Forms carry
HMAC(key, cookie): an attacker can neither read the cookie nor, should they
plant one, compute the matching form token without the server's key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from hearing.errors import CsrfRejected

COOKIE = "hearing_csrf"
FIELD = "csrf_token"
HEADER = "x-csrf-token"


def _cookie_value(request: Request) -> str:
    value = request.cookies.get(COOKIE, "")
    if not value or len(value) > 64:
        # A fresh value for this response; set_cookie() below stores it.
        value = request.scope.setdefault("hearing.new_csrf", secrets.token_urlsafe(32))
    return value


def form_token(request: Request, key: bytes) -> str:
    return hmac.new(key, _cookie_value(request).encode(), hashlib.sha256).hexdigest()


def check(request: Request, key: bytes, submitted: str | None) -> None:
    cookie = request.cookies.get(COOKIE, "")
    if not cookie or not submitted or len(submitted) != 64:
        raise CsrfRejected()
    expected = hmac.new(key, cookie.encode(), hashlib.sha256).hexdigest()
    # As bytes: compare_digest refuses str with non-ASCII characters (a 500).
    if not hmac.compare_digest(expected.encode(), submitted.encode("utf-8", "surrogateescape")):
        raise CsrfRejected()


def set_cookie(request: Request, response: Response, *, secure: bool) -> None:
    new = request.scope.get("hearing.new_csrf")
    if new:
        response.set_cookie(COOKIE, new, httponly=True, secure=secure, samesite="strict", path="/")

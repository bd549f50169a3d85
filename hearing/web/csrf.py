"""CSRF protection for every form, signed-in or not.

Each browser gets a random, HttpOnly, SameSite=Strict cookie (a `__Host-`
name where cookies are Secure, so that nothing but this origin can plant
it). Forms carry HMAC(key, cookie, session cookie): an attacker can neither
read the cookie nor compute a token without the server's key. The token is
bound to the session too, and the cookie is replaced at sign-in and
sign-out, so that a cookie planted before sign-in (with the token the
attacker got for it) is worth nothing once the victim has signed in.

At the external gateway (issue 12) the same holds with the gateway's own
cookies: its CSRF cookie, and the remote party's session in place of the
staff session (web/routing.py's `csrf_cookies`), rotated when a code opens
a session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from hearing.errors import CsrfRejected
from hearing.web.routing import csrf_cookies
from hearing.web.routing import set_cookie as _set_cookie

FIELD = "csrf_token"
HEADER = "x-csrf-token"
_NEW = "hearing.new_csrf"
MAX_COOKIE = 64


def _token(key: bytes, cookie: str, session: str) -> str:
    # The session's part is its signed cookie (empty before sign-in): it
    # names the session, and no one without the server's key can forge it.
    message = f"{cookie}\x00{session}".encode("ascii", "replace")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _session(request: Request) -> str:
    return request.cookies.get(csrf_cookies(request)[1], "")


def _cookie_value(request: Request) -> str:
    value = request.cookies.get(csrf_cookies(request)[0], "")
    if not value or len(value) > MAX_COOKIE:
        # A fresh value for this response; set_cookie() below stores it.
        value = request.scope.setdefault(_NEW, secrets.token_urlsafe(32))
    return value


def form_token(request: Request, key: bytes) -> str:
    return _token(key, _cookie_value(request), _session(request))


def check(request: Request, key: bytes, submitted: str | None) -> None:
    cookie = request.cookies.get(csrf_cookies(request)[0], "")
    if not cookie or len(cookie) > MAX_COOKIE or not submitted or len(submitted) != 64:
        raise CsrfRejected()
    expected = _token(key, cookie, _session(request))
    # As bytes: compare_digest refuses str with non-ASCII characters (a 500).
    if not hmac.compare_digest(expected.encode(), submitted.encode("utf-8", "surrogateescape")):
        raise CsrfRejected()


def set_cookie(request: Request, response: Response) -> None:
    new = request.scope.get(_NEW)
    if new:
        _set_cookie(request, response, csrf_cookies(request)[0], new)


def rotate(request: Request, key: bytes, *, session: str) -> str:
    """A new cookie, which set_cookie() puts on the response, for a browser
    whose session has just begun or ended (`session`: its new session
    cookie, or ""); returns the form token that goes with the pair."""
    new = request.scope[_NEW] = secrets.token_urlsafe(32)
    return _token(key, new, session)

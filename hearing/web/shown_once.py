"""A secret shown to one browser once, after a redirect (issue 12: a remote
party's fresh one-time code).

Issuing is a POST; the page with the code is the GET it redirects to, so
that reloading it can never issue again. The code is not stored anywhere
but as a keyed hash (invariant 5), so the POST hands it to the GET in a
cookie: AES-GCM under a key of its own, bound to the staff session that
issued it and to the page it is for, valid for a minute. The GET reads it
and deletes it in the same answer: a reload, a second tab or the back
button find nothing, and the page says the code is gone. Nothing is kept
on the server, so any node of a deployment can answer the GET.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.requests import HTTPConnection
from starlette.responses import Response

from hearing.services import Services
from hearing.web.routing import cookie_names, delete_cookie, set_cookie

LIFETIME_SECONDS = 60
MAX_COOKIE_CHARS = 1024
_PURPOSE = b"hearing/shown-once"
_NAME = "hearing_shown_once"


def _name(connection: HTTPConnection) -> str:
    # The same prefix rule as every cookie of the application (routing.CookieNames).
    prefix = "__Host-" if cookie_names(connection).session.startswith("__Host-") else ""
    return prefix + _NAME


def _key(svc: Services) -> bytes:
    return svc.keys.derive(_PURPOSE)


def _bound(page: str, session_id: int) -> bytes:
    return f"{page}\x00{session_id}".encode()


def hand_over(
    connection: HTTPConnection, response: Response, *, page: str, session_id: int, secret: dict[str, Any]
) -> None:
    """Put `secret` on `response` for the next GET of `page` by this session."""
    svc: Services = connection.app.state.services
    body = json.dumps({**secret, "expires": time.time() + LIFETIME_SECONDS}).encode()
    nonce = os.urandom(12)
    sealed = AESGCM(_key(svc)).encrypt(nonce, body, _bound(page, session_id))
    set_cookie(connection, response, _name(connection), base64.urlsafe_b64encode(nonce + sealed).decode())


def take(connection: HTTPConnection, *, page: str, session_id: int) -> dict[str, Any] | None:
    """The secret handed over for this page and session, if one came and is
    still fresh; the caller must `forget` it on its answer."""
    raw = connection.cookies.get(_name(connection), "")
    if not raw or len(raw) > MAX_COOKIE_CHARS:
        return None
    svc: Services = connection.app.state.services
    try:
        sealed = base64.urlsafe_b64decode(raw.encode("ascii"))
        body = AESGCM(_key(svc)).decrypt(sealed[:12], sealed[12:], _bound(page, session_id))
        secret = json.loads(body)
    except (binascii.Error, UnicodeEncodeError, ValueError, InvalidTag):
        return None
    if not isinstance(secret, dict) or not isinstance(secret.get("expires"), int | float):
        return None
    if secret.pop("expires") < time.time():
        return None
    return secret


def forget(connection: HTTPConnection, response: Response) -> None:
    delete_cookie(connection, response, _name(connection))

"""Routes that say who may call them.

Every route of the application is built with `route()`: it names its
audience (public, staff, device) and, for staff, the permission it needs.
The guard authenticates before the handler runs, so a handler never sees
an anonymous or unauthorised caller. tests/web/test_permissions.py walks
every route for every role against hearing/auth/permissions.py.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from urllib.parse import urlsplit

from itsdangerous import BadSignature, Signer
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute

from hearing.actors import Actor
from hearing.auth import devices, signin
from hearing.auth.permissions import Permission, allowed
from hearing.auth.roles import Role
from hearing.clock import utcnow
from hearing.custody.presence import EndpointPresence, TestCalls
from hearing.docket.parties import ParticipantRole
from hearing.errors import DeviceNotAuthorised, NotAuthenticated, PermissionDenied, RemoteSessionEnded
from hearing.interpreter import admission
from hearing.live.registry import LiveHearings
from hearing.services import Services

DEVICE_AUTH_SCHEME = "Device"
# A remote session's token is 43 characters (32 random bytes, URL-safe); a
# longer cookie is refused before it is looked up.
REMOTE_TOKEN_MAX = 128

Handler = Callable[[Request], Awaitable[Response]]


class Audience(enum.Enum):
    PUBLIC = "public"
    STAFF = "staff"
    DEVICE = "device"
    # The hearing's own parties: a staff session or an enrolled device (the
    # socket's handler decides, per hearing, whether and at which seat).
    PARTICIPANT = "participant"
    # issue 12, gateway: a remote party's session, opened by a one-time code
    # at the external gateway (hearing/web/remote.py); one hearing, one seat.
    REMOTE = "remote"


@dataclasses.dataclass(frozen=True)
class StaffPrincipal:
    user_id: int
    session_id: int
    username: str
    display_name: str
    role: Role
    courtroom_id: int | None
    facility_id: int | None

    @property
    def actor(self) -> Actor:
        return Actor("user", self.user_id, self.role.value)

    def can(self, permission: Permission) -> bool:
        return allowed(self.role, permission)


@dataclasses.dataclass(frozen=True)
class DevicePrincipal:
    endpoint_id: int
    name: str
    kind: str

    @property
    def actor(self) -> Actor:
        return Actor("device", self.endpoint_id, self.kind)


@dataclasses.dataclass(frozen=True)
class RemotePrincipal:
    """A remote party (interpreter, remote counsel, prosecutor, witness) in
    the session their one-time code opened: one hearing, one seat."""

    participant_id: int
    hearing_id: int
    session_id: int
    seat: str
    role: ParticipantRole
    name: str
    language: str | None

    @property
    def actor(self) -> Actor:
        return Actor("remote", self.participant_id, self.role.value)


def services(request: HTTPConnection) -> Services:
    svc: Services = request.app.state.services
    return svc


@dataclasses.dataclass(frozen=True)
class CookieNames:
    """Every cookie's name, decided here. With Secure cookies each name has
    the `__Host-` prefix, so that a browser takes it only from this origin
    over HTTPS with Path=/ and no Domain (what `set_cookie` gives every one):
    a sibling subdomain or a plain-HTTP answer cannot plant it. The
    plain-HTTP loopback demo cannot have the prefix and uses plain names."""

    session: str
    csrf: str
    language: str
    device: str
    # issue 12, gateway: the remote party's session and the gateway's own
    # CSRF cookie (the gateway never reads a staff cookie; on one host, as
    # the loopback demo is, the two listeners' cookies must not collide).
    remote: str
    remote_csrf: str

    @staticmethod
    @functools.cache
    def for_scheme(secure: bool) -> CookieNames:
        prefix = "__Host-" if secure else ""
        return CookieNames(
            session=f"{prefix}hearing_session",
            csrf=f"{prefix}hearing_csrf",
            language=f"{prefix}hearing_lang",
            device=f"{prefix}hearing_device",
            remote=f"{prefix}hearing_remote",
            remote_csrf=f"{prefix}hearing_remote_csrf",
        )


def _secure_cookies(connection: HTTPConnection) -> bool:
    # The application's own settings (create_app sets it), as for HSTS.
    secure: bool = connection.app.state.cookie_secure
    return secure


def cookie_names(connection: HTTPConnection) -> CookieNames:
    return CookieNames.for_scheme(_secure_cookies(connection))


def is_gateway(connection: HTTPConnection) -> bool:
    """Whether this request reached the external gateway's listener."""
    return bool(getattr(connection.app.state, "gateway", False))


def csrf_cookies(connection: HTTPConnection) -> tuple[str, str]:
    """The CSRF cookie's name and the session cookie its tokens are bound
    to: the staff session's on the internal app, the remote party's at the
    gateway."""
    names = cookie_names(connection)
    return (names.remote_csrf, names.remote) if is_gateway(connection) else (names.csrf, names.session)


def set_cookie(
    connection: HTTPConnection, response: Response, name: str, value: str, max_age: int | None = None
) -> None:
    """Every cookie the same way: HttpOnly, SameSite=Strict, Path=/, no
    Domain, and Secure except on the plain-HTTP demo."""
    secure = _secure_cookies(connection)
    response.set_cookie(name, value, max_age=max_age, httponly=True, secure=secure, samesite="strict", path="/")


def delete_cookie(connection: HTTPConnection, response: Response, name: str) -> None:
    secure = _secure_cookies(connection)
    response.delete_cookie(name, httponly=True, secure=secure, samesite="strict", path="/")


def live_hearings(connection: HTTPConnection) -> LiveHearings:
    hearings: LiveHearings = connection.app.state.live_hearings
    return hearings


def endpoint_presence(connection: HTTPConnection) -> EndpointPresence:
    presence: EndpointPresence = connection.app.state.endpoint_presence
    return presence


def running_test_calls(connection: HTTPConnection) -> TestCalls:
    running: TestCalls = connection.app.state.test_calls
    return running


def client_address(connection: HTTPConnection) -> str:
    """Who is asking: the socket's peer, or what the trusted proxy hop says
    (uvicorn's proxy headers, from `trusted_proxies` only: hearing/cli/serve.py)."""
    return connection.client.host if connection.client else "unknown"


def limit_guessing(request: Request) -> None:
    """Rate-limit the endpoints that take a secret from an unknown caller."""
    request.app.state.guess_limiter.hit(client_address(request))


def session_signer(svc: Services) -> Signer:
    return Signer(svc.keys.session_signing, salt="staff-session")


async def authenticate_staff(request: HTTPConnection) -> StaffPrincipal:
    svc = services(request)
    cookie = request.cookies.get(cookie_names(request).session)
    if not cookie or len(cookie) > 256:
        raise NotAuthenticated()
    try:
        token = session_signer(svc).unsign(cookie).decode("ascii")
    except (BadSignature, UnicodeDecodeError):
        raise NotAuthenticated() from None
    settings = svc.settings
    now = utcnow()

    def load(db: Session) -> tuple[StaffPrincipal | None, bool]:
        record = signin.load_session(
            db,
            token,
            now,
            idle=timedelta(seconds=settings.session_idle_seconds),
            max_age=timedelta(seconds=settings.session_max_seconds),
        )
        if record is None:
            return None, False
        user = record.user
        principal = StaffPrincipal(
            user.id, record.id, user.username, user.display_name, user.role, user.courtroom_id, user.facility_id
        )
        # The read is read-only; a refresh of last_seen_at that it asks for
        # (once a minute) is made below, in a short write of its own.
        return principal, _keep_out(db, record)

    principal, touch = await svc.read(load)
    if principal is None:
        raise NotAuthenticated("Your session has ended. Sign in again.")
    if touch:
        session_id = principal.session_id
        await svc.run(lambda db: signin.touch_session(db, session_id, now))
    return principal


def _keep_out(db: Session, record: object) -> bool:
    """Whether a read changed `record`, which then leaves the read-only
    transaction unwritten (the caller writes what is due on its own)."""
    changed = db.is_modified(record)
    db.expunge(record)
    return changed


def device_token(request: HTTPConnection) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme == DEVICE_AUTH_SCHEME and value:
        return value.strip()
    return request.cookies.get(cookie_names(request).device)


async def authenticate_device(request: HTTPConnection) -> DevicePrincipal:
    svc = services(request)
    token = device_token(request)
    if not token:
        raise DeviceNotAuthorised()

    now = utcnow()

    def load(db: Session) -> tuple[DevicePrincipal, bool]:
        endpoint = devices.authenticate(db, svc.keys, token, now)
        return DevicePrincipal(endpoint.id, endpoint.name, endpoint.kind.value), _keep_out(db, endpoint)

    principal, touch = await svc.read(load)
    if touch:
        endpoint_id = principal.endpoint_id
        await svc.run(lambda db: devices.touch(db, endpoint_id, now))
    return principal


async def authenticate_remote(request: HTTPConnection) -> RemotePrincipal:
    """The remote party's session, from its cookie at the gateway: only one
    whose every factor passed, of a hearing that has not ended, within its
    window (the codes' service decides: hearing/interpreter/issuing.py)."""
    svc = services(request)
    token = request.cookies.get(cookie_names(request).remote)
    if not token or len(token) > REMOTE_TOKEN_MAX:
        raise NotAuthenticated()
    now = utcnow()
    info = await svc.read(lambda db: admission.load_session(db, svc.keys, token, now=now))
    if info is None:
        raise RemoteSessionEnded()
    return RemotePrincipal(
        info.participant_id, info.hearing_id, info.session_id, info.seat, info.role, info.name, info.language
    )


def remote_token(connection: HTTPConnection) -> str | None:
    """The remote session's token as the browser presented it (bounded)."""
    token = connection.cookies.get(cookie_names(connection).remote)
    return token if token and len(token) <= REMOTE_TOKEN_MAX else None


def route(
    path: str,
    handler: Handler,
    *,
    audience: Audience,
    permission: Permission | None = None,
    methods: Sequence[str] = ("GET",),
    name: str | None = None,
) -> GuardedRoute:
    if audience is not Audience.STAFF and permission is not None:
        raise ValueError("only staff routes take a permission")

    async def guarded(request: Request) -> Response:
        if audience is Audience.STAFF:
            principal = await authenticate_staff(request)
            request.state.principal = principal
            if permission is not None and not principal.can(permission):
                raise PermissionDenied()
        elif audience is Audience.DEVICE:
            request.state.principal = await authenticate_device(request)
        elif audience is Audience.REMOTE:
            request.state.principal = await authenticate_remote(request)
        return await handler(request)

    return GuardedRoute(
        path, guarded, methods=methods, name=name or handler.__name__, audience=audience, permission=permission
    )


class GuardedRoute(Route):
    """A route that remembers whom it admits, for the route-by-role test."""

    def __init__(
        self,
        path: str,
        endpoint: Handler,
        *,
        methods: Sequence[str],
        name: str,
        audience: Audience,
        permission: Permission | None,
    ) -> None:
        super().__init__(path, endpoint, methods=list(methods), name=name)
        self.audience = audience
        self.permission = permission


class GuardedWebSocketRoute(WebSocketRoute):
    """A socket that, like every HTTP route, says whom it admits (built by
    hearing/web/sockets.py's `socket_route`)."""

    def __init__(
        self, path: str, endpoint: object, *, audience: Audience, name: str, permission: Permission | None = None
    ) -> None:
        super().__init__(path, endpoint, name=name)  # type: ignore[arg-type]
        self.audience = audience
        self.permission = permission


def same_origin(connection: HTTPConnection) -> bool:
    """A browser names the page that opened a socket: only our own pages may
    (cookies are SameSite=Strict too; this also stops cross-site sockets)."""
    origin = connection.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == connection.headers.get("host")


def staff(request: Request) -> StaffPrincipal:
    principal: StaffPrincipal = request.state.principal
    return principal


def device(request: Request) -> DevicePrincipal:
    principal: DevicePrincipal = request.state.principal
    return principal


def remote(request: Request) -> RemotePrincipal:
    principal: RemotePrincipal = request.state.principal
    return principal

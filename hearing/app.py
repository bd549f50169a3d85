"""The application factory: routes, middleware and lifespan, wired here only."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from hearing.config import Settings
from hearing.custody.presence import EndpointPresence, TestCalls
from hearing.errors import HearingError
from hearing.live.registry import LiveHearings
from hearing.live.watch import SocketWatch
from hearing.media import aiortc_hooks
from hearing.recording.desk import RecordingDesk
from hearing.services import Services
from hearing.web import (
    audit,
    custody,
    devices,
    hearings,
    media,
    panel,
    recording,
    remote,
    remote_parties,
    staff,
    testcall,
)
from hearing.web import record as hearing_record  # issue 14, timeline
from hearing.web.errors import domain_error, http_error, server_error
from hearing.web.middleware import AccessLog, BodyLimit, SecurityHeaders
from hearing.web.ratelimit import SlidingWindow
from hearing.web.routing import Audience, route
from hearing.web.sockets import standing_check

STATIC_DIR = Path(__file__).parent / "web" / "static"


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def routes() -> list[BaseRoute]:
    return [
        *staff.ROUTES,
        *hearings.ROUTES,
        *devices.ROUTES,
        *audit.ROUTES,
        *media.ROUTES,
        *panel.ROUTES,
        *custody.ROUTES,
        *testcall.ROUTES,
        *remote_parties.ROUTES,  # issue 12, pages
        *recording.ROUTES,  # issue 14: the judge's recording controls, the export
        *hearing_record.ROUTES,  # issue 14, timeline: the hearing's record
        route("/healthz", healthz, audience=Audience.PUBLIC),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]


class Application(Starlette):
    """Starlette, with the access log and the security headers wrapped round
    everything: Starlette answers an unhandled fault from its outermost
    layer, outside ordinary middleware, so a 500 page would otherwise go out
    without its headers."""

    def __init__(self, *, outer: Sequence[Middleware], **kwargs: Any) -> None:
        self.outer = list(outer)
        super().__init__(**kwargs)

    def build_middleware_stack(self) -> ASGIApp:
        app = super().build_middleware_stack()
        for cls, args, kwargs in reversed(self.outer):
            app = cls(app, *args, **kwargs)
        return app


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    svc = services or Services.from_settings(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.socket_watch.start()
        # issue 14: what a process that died left recording is sealed first.
        await app.state.recordings.recover()
        yield
        await app.state.socket_watch.stop()
        await app.state.recordings.close_all()
        await app.state.live_hearings.close_all()
        if services is None:
            svc.close()

    app = Application(
        routes=routes(),
        outer=[Middleware(AccessLog), Middleware(SecurityHeaders, hsts=settings.cookie_secure)],
        middleware=[Middleware(BodyLimit, max_bytes=settings.max_body_bytes)],
        exception_handlers={
            HearingError: domain_error,
            HTTPException: http_error,
            Exception: server_error,
        },
        lifespan=lifespan,
    )
    app.state.services = svc
    # Secure (and so __Host-) cookies, or the plain-HTTP demo's: web/routing.py's CookieNames.
    app.state.cookie_secure = settings.cookie_secure
    app.state.guess_limiter = SlidingWindow(settings.signin_attempts_per_minute)
    app.state.connection_limiter = SlidingWindow(settings.socket_connections_per_minute)
    # issue 14: the recordings, following each live hearing's lifecycle.
    app.state.recordings = RecordingDesk(svc, settings)
    app.state.live_hearings = LiveHearings(observer=app.state.recordings)
    # Which kiosks (custody, booth) have their page open and answering.
    app.state.endpoint_presence = EndpointPresence()
    # Which endpoints have a test call running (one each).
    app.state.test_calls = TestCalls()
    app.state.socket_watch = SocketWatch(standing_check(svc), interval=settings.socket_recheck_seconds)
    # Process-wide: aioice offers every interface unless told otherwise.
    aiortc_hooks.restrict_host_addresses(settings.media_address_list)
    aiortc_hooks.faster_audio_levels()
    return app


# --- issue 12, gateway: the external gateway ----------------------------------------------


def gateway_routes() -> list[BaseRoute]:
    """All the gateway serves: the remote party's pages, their socket and an
    allow-list of static files (hearing/web/remote.py). Nothing of the
    internal app's, so every internal route is a 404 there."""
    return list(remote.ROUTES)


def create_gateway_app(settings: Settings, services: Services, live_hearings: LiveHearings) -> Starlette:
    """The external gateway's application: its own listener, on the only
    interface facing outside, in the same process as the internal app (a
    hearing's media room lives in one process). It shares the internal
    app's services and live hearings; its limits, its socket watch and its
    count of unknown invitations are its own."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.socket_watch.start()
        app.state.unknown_attempts.start()
        yield
        # What is counted when the gateway stops is appended now.
        await app.state.unknown_attempts.stop()
        await app.state.socket_watch.stop()

    app = Application(
        routes=gateway_routes(),
        outer=[Middleware(AccessLog), Middleware(SecurityHeaders, hsts=settings.cookie_secure)],
        middleware=[Middleware(BodyLimit, max_bytes=settings.max_body_bytes)],
        exception_handlers={
            HearingError: remote.gateway_error,
            HTTPException: remote.gateway_http_error,
            Exception: remote.gateway_server_error,
        },
        lifespan=lifespan,
    )
    # A socket to a path the gateway does not serve is refused with a 404 too.
    app.router.default = remote.not_found
    app.state.gateway = True
    app.state.services = services
    app.state.cookie_secure = settings.cookie_secure
    app.state.live_hearings = live_hearings
    app.state.connection_limiter = SlidingWindow(settings.socket_connections_per_minute)
    app.state.attempts_per_source = SlidingWindow(settings.gateway_attempts_per_minute)
    app.state.attempts_global = SlidingWindow(settings.gateway_attempts_global_per_minute)
    app.state.unknown_attempts = remote.UnknownLog(services)
    app.state.socket_watch = SocketWatch(standing_check(services), interval=settings.socket_recheck_seconds)
    # A remote party's peer offers ICE candidates on the gateway's addresses
    # only (aiortc_hooks.host_addresses, per negotiation, not process-wide).
    app.state.gateway_media_addresses = settings.gateway_media_address_list
    aiortc_hooks.faster_audio_levels()
    return app

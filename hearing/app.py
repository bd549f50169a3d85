"""The application factory: routes, middleware and lifespan, wired here only."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from hearing.config import Settings
from hearing.errors import HearingError
from hearing.live.registry import LiveHearings
from hearing.media import aiortc_hooks
from hearing.services import Services
from hearing.web import audit, devices, hearings, media, panel, staff
from hearing.web.errors import domain_error, http_error, server_error
from hearing.web.middleware import AccessLog, BodyLimit, SecurityHeaders
from hearing.web.ratelimit import SlidingWindow
from hearing.web.routing import Audience, route

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
        route("/healthz", healthz, audience=Audience.PUBLIC),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    svc = services or Services.from_settings(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await app.state.live_hearings.close_all()
        if services is None:
            svc.close()

    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(AccessLog),
            Middleware(SecurityHeaders, hsts=settings.cookie_secure),
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
        ],
        exception_handlers={
            HearingError: domain_error,
            HTTPException: http_error,
            Exception: server_error,
        },
        lifespan=lifespan,
    )
    app.state.services = svc
    app.state.guess_limiter = SlidingWindow(settings.signin_attempts_per_minute)
    app.state.live_hearings = LiveHearings()
    # Process-wide: aioice offers every interface unless told otherwise.
    aiortc_hooks.restrict_host_addresses(settings.media_address_list)
    aiortc_hooks.faster_audio_levels()
    return app

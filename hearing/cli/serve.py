"""`hearing serve`, `hearing gateway` and `hearing demo`.

The web stack (Starlette, uvicorn, aiortc) is imported inside the commands
that serve, so every other command starts without it.

One process, two listeners (issue 12): the internal app on `host:port`
and, when `gateway_port` is not 0, the external gateway on
`gateway_host:gateway_port`, two uvicorn servers on one event loop. They
share the services and the live hearings: a hearing's media room lives in
one process, and the remote party's peer joins it there.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import TYPE_CHECKING

from hearing.cli.common import Command, Subcommands, out
from hearing.config import Settings
from hearing.errors import InvalidInput

if TYPE_CHECKING:
    import uvicorn
    from starlette.types import ASGIApp

    from hearing.services import Services

logger = logging.getLogger(__name__)
WS_MAX_BYTES = 256 * 1024


def _with_address(settings: Settings, args: argparse.Namespace) -> Settings:
    changes = {k: v for k, v in (("host", args.host), ("port", args.port)) if v}
    if changes and settings.base_url == f"http://{settings.host}:{settings.port}":
        # A derived base URL follows the address actually served; a
        # configured one (the public name behind nginx) stays.
        changes["base_url"] = ""
    gateway = {
        k: v
        for k, v in (
            ("gateway_host", getattr(args, "gateway_host", None)),
            ("gateway_port", getattr(args, "gateway_port", None)),
        )
        if v
    }
    if gateway and settings.gateway_base_url == _derived_gateway_url(settings):
        gateway["gateway_base_url"] = ""
    changes.update(gateway)
    return settings.replace(**changes) if changes else settings


def _derived_gateway_url(settings: Settings) -> str:
    return f"http://{settings.gateway_host}:{settings.gateway_port or 8443}"


def server(app: ASGIApp, host: str, port: int, settings: Settings) -> uvicorn.Server:
    """One listener. uvicorn believes X-Forwarded-For from any loopback peer
    by default; here only the configured proxy hop may say who the client
    is, on either listener (the gateway's rate limits count that source)."""
    import uvicorn

    proxies = settings.trusted_proxy_list
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=False,
        log_config=None,
        ws_max_size=WS_MAX_BYTES,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or [],
        lifespan="on",
    )
    return uvicorn.Server(config)


def listeners(settings: Settings, services: Services, *, gateway: bool) -> list[uvicorn.Server]:
    """The internal listener and, if asked, the gateway's, over one set of
    services and live hearings."""
    from hearing.app import create_app, create_gateway_app

    app = create_app(settings, services)
    servers = [server(app, settings.host, settings.port, settings)]
    if gateway:
        outside = create_gateway_app(settings, services, app.state.live_hearings)
        servers.append(server(outside, settings.gateway_host, settings.gateway_port, settings))
    return servers


async def serve_all(servers: list[uvicorn.Server]) -> None:
    """Serve every listener on this loop until one stops (a signal, or a
    failure to bind); then stop the others and wait for them all."""
    tasks = [asyncio.create_task(s.serve(), name=f"listener {s.config.host}:{s.config.port}") for s in servers]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for s in servers:
            s.should_exit = True
        results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


def _serve(settings: Settings, *, gateway: bool) -> int:
    from hearing.services import Services

    with Services.from_settings(settings) as svc:
        servers = listeners(settings, svc, gateway=gateway)
        logger.info("serving", extra={"host": settings.host, "port": settings.port})
        if gateway:
            logger.info("gateway", extra={"host": settings.gateway_host, "port": settings.gateway_port})
        try:
            asyncio.run(serve_all(servers))
        except KeyboardInterrupt:  # uvicorn re-raises the signal once it has shut down
            pass
    return 0


def cmd_serve(cmd: Command) -> int:
    settings = _with_address(cmd.settings, cmd.args)
    return _serve(settings, gateway=settings.gateway_port != 0)


def cmd_gateway(cmd: Command) -> int:
    settings = _with_address(cmd.settings, cmd.args)
    if settings.gateway_port == 0:
        raise InvalidInput(
            "The gateway needs a port: --gateway-port, or gateway_port in the settings.", field="gateway_port"
        )
    if (settings.gateway_host, settings.gateway_port) == (settings.host, settings.port):
        raise InvalidInput("The gateway needs a listener of its own, not the internal one.", field="gateway_port")
    return _serve(settings, gateway=True)


def cmd_demo(cmd: Command) -> int:
    from hearing import demo

    settings = _with_address(cmd.settings, cmd.args).replace(cookie_secure=False)
    if not demo.is_loopback(settings.host):
        raise InvalidInput("The demo serves plain HTTP and binds to loopback only.", field="host")
    settings = demo.with_gateway(settings)
    rig_config = demo.prepare(settings, out=out)
    if cmd.args.no_serve:
        return 0
    # The courtroom's rig, with synthetic cameras and voices: its own process, as in a courtroom.
    rig = demo.start_rig(rig_config)
    try:
        return _serve(settings, gateway=True)
    finally:
        rig.terminate()
        rig.wait(timeout=10)


def register(commands: Subcommands) -> None:
    p = commands.add_parser("serve", help="run the server (and the gateway, if gateway_port is set)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(run=cmd_serve)

    p = commands.add_parser("gateway", help="run the server with the external gateway for remote parties")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--gateway-host", help="the gateway's bind address: the interface facing outside")
    p.add_argument("--gateway-port", type=int, help="the gateway's port")
    p.set_defaults(run=cmd_gateway)

    p = commands.add_parser("demo", help="seed a demo court and serve it on loopback")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--no-serve", action="store_true", help="seed and print, then exit")
    p.set_defaults(run=cmd_demo)

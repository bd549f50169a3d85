"""`hearing serve` and `hearing demo`.

The web stack (Starlette, uvicorn, aiortc) is imported inside the commands
that serve, so every other command starts without it.
"""

from __future__ import annotations

import argparse
import logging

from hearing.cli.common import Command, Subcommands, out
from hearing.config import Settings
from hearing.errors import InvalidInput

logger = logging.getLogger(__name__)


def _with_address(settings: Settings, args: argparse.Namespace) -> Settings:
    changes = {k: v for k, v in (("host", args.host), ("port", args.port)) if v}
    if changes and settings.base_url == f"http://{settings.host}:{settings.port}":
        # A derived base URL follows the address actually served; a
        # configured one (the public name behind nginx) stays.
        changes["base_url"] = ""
    return settings.replace(**changes) if changes else settings


def cmd_serve(cmd: Command) -> int:
    import uvicorn

    from hearing.app import create_app

    settings = _with_address(cmd.settings, cmd.args)
    app = create_app(settings)
    logger.info("serving", extra={"host": settings.host, "port": settings.port})
    # uvicorn believes X-Forwarded-For from any loopback peer by default;
    # here only the configured proxy hop may say who the client is.
    proxies = settings.trusted_proxy_list
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_config=None,
        ws_max_size=256 * 1024,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or [],
    )
    return 0


def cmd_demo(cmd: Command) -> int:
    from hearing import demo

    settings = _with_address(cmd.settings, cmd.args).replace(cookie_secure=False)
    if not demo.is_loopback(settings.host):
        raise InvalidInput("The demo serves plain HTTP and binds to loopback only.", field="host")
    demo.prepare(settings, out=out)
    if cmd.args.no_serve:
        return 0
    cmd.settings = settings
    return cmd_serve(cmd)


def register(commands: Subcommands) -> None:
    p = commands.add_parser("serve", help="run the server")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(run=cmd_serve)

    p = commands.add_parser("demo", help="seed a demo court and serve it on loopback")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--no-serve", action="store_true", help="seed and print, then exit")
    p.set_defaults(run=cmd_demo)

"""What the harness walks: every route of every application, from the route
table itself, with the fields each handler really reads.

Nothing here is a hand-written list of routes. A route is found in the
table its application factory serves (`hearing.app.routes()`); its path
parameters come from its convertors; its query and form fields from the
handler's own source (and the helpers of its module it calls) and from
the templates' forms that post to it. A new route is walked the moment it
exists; a new field the moment a handler reads it.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FunctionType, ModuleType
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount

from hearing import app as application
from hearing.auth.permissions import ROLE_PERMISSIONS, Permission
from hearing.auth.roles import Role
from hearing.config import Settings
from hearing.live.registry import LiveHearings
from hearing.services import Services
from hearing.web.routing import Audience, GuardedRoute, GuardedWebSocketRoute


@dataclasses.dataclass(frozen=True)
class App:
    """An application under test: its route table and its factory."""

    routes: Callable[[], list[BaseRoute]]
    factory: Callable[[Settings, Services], Starlette]


# Every application the project serves. The external gateway (a later issue)
# is one more line here, e.g. "gateway": App(application.gateway_routes, application.create_gateway).
APPS: dict[str, App] = {
    "internal": App(application.routes, application.create_app),
    # issue 12, gateway: the external gateway, beside live hearings of its own here.
    "gateway": App(application.gateway_routes, lambda s, svc: application.create_gateway_app(s, svc, LiveHearings())),
}

PRINCIPALS = ("anonymous", *(r.value for r in Role), "courtroom_device", "custody_device")
DEVICES = {"courtroom_device": "courtroom", "custody_device": "custody"}

TEMPLATES = Path(application.__file__).parent / "web" / "templates"
_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_NAME = re.compile(r'name="([a-z_][a-z0-9_]*)"')
_QUERY_READ = re.compile(r'query_params(?:\.get\(|\[)\s*"([a-z_][a-z0-9_]*)"')
_FIELD_READ = re.compile(r'fields(?:\.get\(|\[|, )\s*"([a-z_][a-z0-9_]*)"')
_JSON_READ = re.compile(r"json\.loads|request\.json\(")


@dataclasses.dataclass(frozen=True)
class Target:
    """One method of one route, and what it reads."""

    app: str
    method: str
    path: str
    name: str
    audience: Audience
    permission: Permission | None
    params: tuple[tuple[str, str], ...]  # (name, convertor class name)
    query: tuple[str, ...]
    form: tuple[str, ...]
    json: bool

    @property
    def key(self) -> str:
        return f"{self.app}:{self.method} {self.path}"

    def admits(self, principal: str) -> bool:
        """Whether the route's guard lets this principal through to the handler."""
        if self.audience is Audience.PUBLIC:
            return True
        if self.audience is Audience.DEVICE:
            return principal in DEVICES
        if self.audience is Audience.PARTICIPANT:
            return principal != "anonymous"
        if self.audience is Audience.REMOTE:
            return False  # a remote session only: no principal of the harness has one

        if principal == "anonymous" or principal in DEVICES:
            return False
        return self.permission is None or self.permission in ROLE_PERMISSIONS[Role(principal)]


def _handler(route: GuardedRoute) -> Callable[..., Any]:
    """The handler inside the route's guard (a closure of `route()`)."""
    handler = inspect.getclosurevars(route.endpoint).nonlocals.get("handler")
    return handler if callable(handler) else route.endpoint


def _sources(function: Callable[..., Any], module: ModuleType, seen: set[str]) -> Iterator[str]:
    """The function's source and that of its own module's functions it calls."""
    if not isinstance(function, FunctionType) or function.__qualname__ in seen:
        return
    seen.add(function.__qualname__)
    try:
        yield inspect.getsource(function)
    except (OSError, TypeError):
        return
    for name in function.__code__.co_names:
        called = getattr(module, name, None)
        if isinstance(called, FunctionType) and called.__module__ == module.__name__:
            yield from _sources(called, module, seen)


def _template_forms() -> list[tuple[str, str, set[str]]]:
    """(method, action, field names) of every form in the templates."""
    forms = []
    for template in sorted(TEMPLATES.glob("*.html")):
        for attrs, body in _FORM.findall(template.read_text()):
            values = dict(_ATTR.findall(attrs))
            action = re.sub(r"\{\{.*?\}\}", "1", values.get("action", ""))
            forms.append((values.get("method", "get").upper(), action, set(_NAME.findall(body))))
    return forms


def _reads(route: GuardedRoute, method: str) -> tuple[set[str], set[str], bool]:
    handler = _handler(route)
    module = importlib.import_module(handler.__module__)
    source = "\n".join(_sources(handler, module, set()))
    query, form = set(_QUERY_READ.findall(source)), set(_FIELD_READ.findall(source))
    for form_method, action, names in _template_forms():
        if form_method == method and route.path_regex.match(action.split("?")[0]):
            (form if method == "POST" else query).update(names)
    return query, form, bool(_JSON_READ.search(source))


def targets(app_name: str) -> list[Target]:
    """Every HTTP route and method of one application."""
    found = []
    for route in APPS[app_name].routes():
        if isinstance(route, GuardedWebSocketRoute):
            continue  # walked by test_socket_fuzz.py
        if isinstance(route, Mount):
            # Static files: one public GET with the rest of the path as its parameter.
            path = route.path + "/{path:path}"
            found.append(
                Target(
                    app_name,
                    "GET",
                    path,
                    route.name or path,
                    Audience.PUBLIC,
                    None,
                    (("path", "PathConvertor"),),
                    (),
                    (),
                    False,
                )
            )
            continue
        assert isinstance(route, GuardedRoute), f"{route!r} is not built with hearing.web.routing.route()"
        params = tuple((name, type(conv).__name__) for name, conv in route.param_convertors.items())
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            query, form, json_body = _reads(route, method)
            found.append(
                Target(
                    app_name,
                    method,
                    route.path,
                    route.name,
                    route.audience,
                    route.permission,
                    params,
                    tuple(sorted(query)),
                    tuple(sorted(form)),
                    json_body,
                )
            )
    return found


def all_targets() -> list[Target]:
    return [t for app in APPS for t in targets(app)]


def sockets(app_name: str) -> list[GuardedWebSocketRoute]:
    return [r for r in APPS[app_name].routes() if isinstance(r, GuardedWebSocketRoute)]

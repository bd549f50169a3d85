"""Rendering pages and reading forms, the same way on every route."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from hearing.errors import InvalidInput
from hearing.web import csrf, language
from hearing.web.routing import services

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
MAX_FIELDS = 40
MAX_FIELD_CHARS = 2000


def render(request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200) -> HTMLResponse:
    svc = services(request)
    lang = language.language(request)
    values = {
        "request": request,
        "lang": lang,
        "t": language.translator(lang),
        "principal": getattr(request.state, "principal", None),
        "csrf_token": csrf.form_token(request, svc.keys.csrf),
        "csrf_field": csrf.FIELD,
        **(context or {}),
    }
    response = TEMPLATES.TemplateResponse(request, template, values, status_code=status)
    csrf.set_cookie(request, response)
    return response


async def read_form(request: Request) -> dict[str, str]:
    """The submitted fields, after the CSRF check. Files are refused."""
    svc = services(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type not in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        raise InvalidInput("Send the form as application/x-www-form-urlencoded.")
    form = await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_FIELD_CHARS * 4)
    fields: dict[str, str] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile) or key in fields:
            raise InvalidInput("The form has unexpected fields.")
        if len(value) > MAX_FIELD_CHARS:
            raise InvalidInput(f"The field {key[:40]!r} is too long.", field=key)
        if "\x00" in value:
            # No text of ours holds a NUL, and PostgreSQL refuses one in any query.
            raise InvalidInput(f"The field {key[:40]!r} contains a NUL character.", field=key)
        fields[key] = value
    csrf.check(request, svc.keys.csrf, fields.pop(csrf.FIELD, None))
    return fields

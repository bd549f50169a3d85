"""The auditor's pages: which hearings have a log, and one hearing's events
in plain words, in the viewer's language, at the court's local time.
Opening a hearing's events is itself written to the log; the index shows
only case numbers and counts. The system's own events (sign-ins, refusals
without a hearing, devices, accounts) have a filtered page of their own,
read the same way."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from hearing.audit import query, reader
from hearing.audit.actions import Action
from hearing.auth.permissions import Permission
from hearing.db.models import Hearing
from hearing.recording import service as recording_service
from hearing.web import language
from hearing.web.pages import render
from hearing.web.routing import Audience, route, services, staff


async def audit_index(request: Request) -> Response:
    tz = services(request).settings.timezone

    def load(db: Session) -> list[dict[str, Any]]:
        rows = reader.hearings_with_entries(db)
        ids = [r[0] for r in rows]
        cases = {
            hid: case for hid, case in db.execute(select(Hearing.id, Hearing.case_number).where(Hearing.id.in_(ids)))
        }
        return [
            {"id": hid, "case_number": cases.get(hid), "entries": count, "last": last.astimezone(tz)}
            for hid, count, last in rows
        ]

    hearings = await services(request).run(load)
    return render(request, "audit_index.html", {"hearings": hearings, "zone": tz.key})


async def audit_hearing(request: Request) -> Response:
    principal = staff(request)
    hearing_id: int = request.path_params["hearing_id"]
    tz = services(request).settings.timezone
    lang = language.language(request)

    def load(db: Session) -> dict[str, Any]:
        entries = reader.read(db, principal.actor, hearing_id)
        case = db.scalar(select(Hearing.case_number).where(Hearing.id == hearing_id))
        return {
            "hearing_id": hearing_id,
            "case_number": case,
            "zone": tz.key,
            "entries": [{"seq": e.seq, "at": e.at.astimezone(tz), "sentence": e.in_words(lang, tz)} for e in entries],
            # issue 14: the auditor takes a hearing's sealed recordings from here.
            "recordings": recording_service.listed(db, hearing_id),
            "can_export": principal.can(Permission.EXPORT_RECORDING),
        }

    return render(request, "audit_hearing.html", await services(request).run(load))


async def audit_system(request: Request) -> Response:
    principal = staff(request)
    tz = services(request).settings.timezone
    lang = language.language(request)
    # The form's own words, echoed back; validated before anything is read.
    given = {name: request.query_params.get(name, "")[:100] for name in query.FIELDS}
    asked = query.parse(given, tz)

    def load(db: Session) -> dict[str, Any]:
        page = reader.read_system(db, principal.actor, asked)
        older = None
        if page.older is not None:
            older = "/audit/system?" + urlencode({**{k: v for k, v in given.items() if v}, "before": page.older})
        return {
            "given": given,
            "actions": [a.value for a in Action],
            "zone": tz.key,
            "older": older,
            "entries": [
                {"seq": e.seq, "at": e.at.astimezone(tz), "sentence": e.in_words(lang, tz)} for e in page.entries
            ],
        }

    return render(request, "audit_system.html", await services(request).run(load))


ROUTES = [
    route("/audit", audit_index, audience=Audience.STAFF, permission=Permission.READ_AUDIT),
    route("/audit/hearings/{hearing_id:id}", audit_hearing, audience=Audience.STAFF, permission=Permission.READ_AUDIT),
    route("/audit/system", audit_system, audience=Audience.STAFF, permission=Permission.READ_AUDIT),
]

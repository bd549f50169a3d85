"""The hearing's record for the court's case file: its timeline, built from
the audit log (hearing/recording/timeline.py), as a page that prints and as
JSON. For the hearing's judge, the clerk and the auditor. The record is read
from the log, and reading the log is itself written to the log (the same
audit.read entry as the auditor's page), so a record's every reading shows."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any

import anyio.to_thread
from babel.lists import format_list
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hearing.audit import reader, sentences
from hearing.auth.permissions import Permission
from hearing.auth.roles import Role
from hearing.db.models import Hearing
from hearing.errors import HearingNotFound, PermissionDenied
from hearing.recording import timeline as tl
from hearing.web import language, printed
from hearing.web.pages import render
from hearing.web.routing import Audience, StaffPrincipal, route, services, staff

SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")  # a case number in a file name

# Which spans each section of the page shows (events go in their own section).
SECTION_SPANS: dict[str, tuple[str, ...]] = {
    tl.LIFECYCLE: (tl.STATE,),
    tl.ADMISSION: (),
    tl.FLOOR: (tl.HOLDS_FLOOR,),
    tl.MUTES: (tl.MUTED, tl.HIDDEN),
    tl.CONSULTATION: (tl.IN_CONSULTATION,),
    tl.INTERRUPTION: (tl.INTERRUPTED,),
    tl.INTERPRETATION: (tl.INTERPRETED,),
    tl.RECORDING: (tl.RECORDED, tl.RECORDING_PAUSED),
}


def _read(db: Session, principal: StaffPrincipal, hearing_id: int) -> tuple[Hearing | None, list[reader.ReadEntry]]:
    """The hearing and its entries, once the caller may read them. A judge
    reads the record of their own courtroom's hearings only."""
    if not reader.has_log(db, hearing_id):
        raise HearingNotFound()
    hearing = db.get(Hearing, hearing_id)
    if principal.role is Role.JUDGE and (hearing is None or hearing.courtroom_id != principal.courtroom_id):
        raise PermissionDenied("A judge reads the record of their own courtroom's hearings.")
    return hearing, reader.read(db, principal.actor, hearing_id)


def _when(at: datetime | None, tz: tzinfo) -> str:
    # In full, for the case file: the date with every time, to the second.
    return "" if at is None else at.astimezone(tz).strftime("%d.%m.%Y %H:%M:%S")


def _duration(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return language.TEXT["record.ongoing"][lang]
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    if minutes == 0:
        return language.TEXT["record.seconds"][lang].format(s=rest)
    return language.TEXT["record.minutes"][lang].format(m=minutes, s=rest)


def _seat(value: str | None, lang: str) -> str:
    if value is None:
        return ""
    if value == tl.EVERYONE:
        return language.TEXT["record.everyone"][lang]
    return sentences.seat(value, lang)


def _seats(values: tuple[str, ...], lang: str) -> str:
    return format_list([sentences.seat(v, lang) for v in values], locale=sentences.LOCALES[lang]) if values else ""


def _what(span: tl.Span, lang: str) -> str:
    """The span in words: whose floor, which seat, which mode."""
    t = language.translator(lang)
    d = span.details
    if span.kind == tl.STATE:
        state = str(d.get("state"))
        return t(f"state.{state}") if f"state.{state}" in language.TEXT else state
    if span.kind == tl.HOLDS_FLOOR:
        return sentences.speaker(span.speaker, lang) if span.speaker else t("record.first_in_queue")
    if span.kind == tl.MUTED:
        return t("record.muted").format(seat=_seat(span.seat, lang))
    if span.kind == tl.HIDDEN:
        medium = sentences.MEDIA.get(str(d.get("medium")), {}).get(lang, str(d.get("medium")))
        receiver = _seat(str(d.get("receiver")), lang)
        return t("record.hidden").format(medium=medium, source=_seat(span.seat, lang), receiver=receiver)
    if span.kind == tl.IN_CONSULTATION:
        return t("record.members").format(members=_seats(span.members, lang)) if span.members else ""
    if span.kind == tl.INTERRUPTED:
        measured = d.get("duration_seconds")
        said = t("record.lost").format(seat=_seat(span.seat, lang))
        if isinstance(measured, float | int):
            said += " " + t("record.measured").format(seconds=measured)
        return said
    if span.kind == tl.INTERPRETED:
        mode = sentences.INTERPRETATIONS.get(str(d.get("mode")), {}).get(lang, str(d.get("mode")))
        return mode + (" — " + _seats(span.members, lang) if span.members else "")
    if span.kind == tl.RECORDED:
        said = t("record.recording").format(id=d.get("recording_id"))
        if span.end is not None:
            said += ": " + t("record.sealed").format(segments=d.get("segments"), seconds=d.get("seconds"))
            if d.get("interrupted"):
                said += " " + t("record.interrupted")
        return said
    reason = sentences.PAUSE_REASONS.get(str(d.get("why")), {}).get(lang, str(d.get("why")))
    return t("record.paused").format(id=d.get("recording_id"), reason=reason, at=d.get("at_seconds"))


def _page(record: tl.Timeline, lang: str, tz: tzinfo) -> list[dict[str, Any]]:
    sections = []
    for name in tl.SECTIONS:
        spans = [
            {
                "what": _what(s, lang),
                "start": _when(s.start, tz),
                "start_iso": s.start.isoformat(),
                "end": _when(s.end, tz),
                "end_iso": None if s.end is None else s.end.isoformat(),
                "duration": _duration(s.seconds, lang),
            }
            for s in record.spans_of(*SECTION_SPANS[name])
        ]
        events = [
            {"seq": e.seq, "at": _when(e.at, tz), "at_iso": e.at.isoformat(), "sentence": e.words[lang]}
            for e in record.section(name)
        ]
        sections.append({"name": name, "spans": spans, "events": events})
    return sections


async def _context(request: Request) -> dict[str, Any]:
    principal = staff(request)
    hearing_id: int = request.path_params["hearing_id"]
    tz = services(request).settings.timezone
    lang = language.language(request)

    def load(db: Session) -> dict[str, Any]:
        hearing, entries = _read(db, principal, hearing_id)
        record = tl.timeline(entries, tz=tz)
        return {
            "hearing_id": hearing_id,
            "case_number": None if hearing is None else hearing.case_number,
            "zone": tz.key,
            "sections": _page(record, lang, tz),
            "course": [
                {"seq": e.seq, "at": _when(e.at, tz), "at_iso": e.at.isoformat(), "sentence": e.words[lang]}
                for e in record.events
            ],
        }

    return await services(request).run(load)


async def record_page(request: Request) -> Response:
    return render(request, "record.html", await _context(request))


async def record_pdf(request: Request) -> Response:
    """The page as a PDF/A document, in the page's language (a download)."""
    context = await _context(request)
    html = bytes(render(request, "record.html", context).body).decode()
    document = await anyio.to_thread.run_sync(printed.pdf, html)
    name = SAFE_NAME.sub("-", context["case_number"] or str(context["hearing_id"]))
    prefix = language.TEXT["record.file"][language.language(request)]
    return Response(
        document,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{prefix}-{name}.pdf"'},
    )


async def record_json(request: Request) -> Response:
    principal = staff(request)
    hearing_id: int = request.path_params["hearing_id"]
    tz = services(request).settings.timezone

    def load(db: Session) -> dict[str, Any]:
        hearing, entries = _read(db, principal, hearing_id)
        case = None if hearing is None else hearing.case_number
        return {"hearing": {"id": hearing_id, "case_number": case}, "timezone": tz.key} | tl.timeline(
            entries, tz=tz
        ).to_json()

    return JSONResponse(await services(request).run(load))


ROUTES = [
    route("/hearings/{hearing_id:id}/record", record_page, audience=Audience.STAFF, permission=Permission.READ_RECORD),
    route(
        "/hearings/{hearing_id:id}/record.pdf", record_pdf, audience=Audience.STAFF, permission=Permission.READ_RECORD
    ),
    route(
        "/hearings/{hearing_id:id}/record.json", record_json, audience=Audience.STAFF, permission=Permission.READ_RECORD
    ),
]

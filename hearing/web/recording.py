"""The recording from the judge's page, and its download (issue 14).

`POST /hearings/{id}/recording` (the hearing's judge): `action` start,
pause or resume; the recording desk does it and audits it. A private
consultation is never recorded: it pauses the recording by itself, and
the judge cannot resume it during one.

`GET /hearings/{id}/recordings/{recording}/export` (the hearing's judge and
the auditor only; anyone else 403, audited): the sealed recording, verified
against its manifest and the audit log's seal, as one MP4; every download
is audited with who and the file's hash.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response

from hearing.auth.permissions import Permission
from hearing.auth.roles import Role
from hearing.db.models import Hearing, Recording, StaffUser
from hearing.docket.lifecycle import LIVE_STATES, HearingState
from hearing.errors import HearingNotFound, HearingNotOpen, InvalidInput, PermissionDenied
from hearing.recording import export, service
from hearing.recording.desk import RecordingDesk
from hearing.speaker_order import presiding
from hearing.speaker_order.floor import Floor
from hearing.web.errors import wants_json
from hearing.web.pages import read_form
from hearing.web.routing import Audience, StaffPrincipal, live_hearings, route, services, staff

ACTIONS = ("start", "pause", "resume")


def desk(request: Request) -> RecordingDesk:
    recordings: RecordingDesk = request.app.state.recordings
    return recordings


def _judge_of(db: Session, principal: StaffPrincipal, hearing_id: int) -> Hearing:
    hearing = db.get(Hearing, hearing_id)
    if hearing is None:
        raise HearingNotFound()
    if hearing.courtroom_id != db.get_one(StaffUser, principal.user_id).courtroom_id:
        raise PermissionDenied("This hearing is not in your courtroom.")
    return hearing


async def recording_control(request: Request) -> Response:
    principal = staff(request)
    hearing_id: int = request.path_params["hearing_id"]
    fields = await read_form(request)
    action = fields.get("action", "")
    if action not in ACTIONS:
        raise InvalidInput("The recording's action is start, pause or resume.", field="action")

    def load(db: Session) -> tuple[HearingState, Floor]:
        hearing = _judge_of(db, principal, hearing_id)
        return hearing.state, presiding.current(db, hearing)

    state, floor = await services(request).read(load)
    if state not in LIVE_STATES:
        raise HearingNotOpen("The hearing is not in progress: there is nothing to record.")
    # Recorded whether or not anyone has connected yet: the room runs from the committed floor.
    live = await live_hearings(request).open(hearing_id, floor, state)
    recordings = desk(request)
    if action == "start":
        await recordings.start(live, principal.actor)
    elif action == "pause":
        await recordings.pause(hearing_id, principal.actor)
    else:
        await recordings.resume(hearing_id, principal.actor)
    if wants_json(request):
        return JSONResponse({"recording": action != "pause"})
    return RedirectResponse(f"/hearings/{hearing_id}", status_code=303)


async def recording_export(request: Request) -> Response:
    principal = staff(request)
    hearing_id: int = request.path_params["hearing_id"]
    recording_id: int = request.path_params["recording_id"]
    directory = services(request).settings.recording_dir

    def prepare(db: Session) -> tuple[service.Checked, bytes]:
        recording = db.get(Recording, recording_id)
        if recording is None or recording.hearing_id != hearing_id:
            raise service.RecordingNotFound()
        # The auditor may take any recording; a judge only their courtroom's.
        if principal.role is not Role.AUDITOR:
            _judge_of(db, principal, hearing_id)
        result = service.verify_sealed(db, principal.actor, recording_id, directory)
        return result, service.data_key(db, result.recording)

    svc = services(request)
    result, key = await svc.run(prepare)
    if not result.verdict.ok:
        raise service.RecordingConflict(
            "recording_corrupt", "The recording does not verify against its seal; it is not handed out."
        )
    folder = Path(tempfile.mkdtemp(prefix="hearing-export-"))
    target = folder / f"hearing-{hearing_id}-recording-{recording_id}.mp4"
    try:
        await asyncio.to_thread(export.export, service.folder(directory, recording_id), result.manifest, key, target)
        await svc.run(lambda db: service.exported(db, principal.actor, recording_id, target))
    except BaseException:
        _remove(folder)
        raise
    return FileResponse(
        target,
        media_type="video/mp4",
        filename=target.name,
        background=BackgroundTask(_remove, folder),
        headers={"Cache-Control": "no-store"},
    )


def _remove(folder: Path) -> None:
    for path in folder.iterdir():
        path.unlink(missing_ok=True)
    folder.rmdir()


ROUTES = [
    route(
        "/hearings/{hearing_id:id}/recording",
        recording_control,
        audience=Audience.STAFF,
        permission=Permission.CONDUCT_HEARING,
        methods=["POST"],
    ),
    route(
        "/hearings/{hearing_id:id}/recordings/{recording_id:id}/export",
        recording_export,
        audience=Audience.STAFF,
        permission=Permission.EXPORT_RECORDING,
    ),
]

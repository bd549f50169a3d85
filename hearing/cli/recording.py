"""`hearing recording ...`: the hearing's recordings (issue 14).

`list`, `verify ID` (every segment against the manifest, the database and
the audit log's seal; names the first bad one; exit 1 if any), `export ID
--out FILE.mp4` (verified first; audited with the file's hash) and `purge
--older-than DAYS` (crypto-shredding: the data keys of expired recordings
destroyed, their files removed; audited).
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hearing.cli.common import OPERATOR, Command, Subcommands, out
from hearing.clock import utcnow
from hearing.db.models import Recording, RecordingSegment
from hearing.errors import InvalidInput
from hearing.recording import export, service

MAX_RETENTION_DAYS = 100 * 366


def cmd_list(cmd: Command) -> int:
    def load(db: Session) -> list[tuple[Recording, int, float]]:
        query = (
            select(
                Recording,
                func.count(RecordingSegment.id),
                func.coalesce(func.sum(RecordingSegment.duration_seconds), 0),
            )
            .outerjoin(RecordingSegment, RecordingSegment.recording_id == Recording.id)
            .group_by(Recording.id)
            .order_by(Recording.id)
        )
        if cmd.args.hearing is not None:
            query = query.where(Recording.hearing_id == cmd.args.hearing)
        return [(r, int(n), float(s)) for r, n, s in db.execute(query)]

    for recording, segments, seconds in cmd.unit(load):
        note = " (interrupted)" if recording.interrupted else ""
        out(
            f"recording {recording.id}: hearing {recording.hearing_id}, {recording.state.value}{note}, "
            f"{segments} segments, {seconds:.1f} s"
        )
    return 0


def cmd_verify(cmd: Command) -> int:
    directory = cmd.settings.recording_dir
    result = cmd.unit(lambda db: service.verify_sealed(db, OPERATOR, cmd.args.recording, directory))
    if result.verdict.ok:
        out(f"recording {cmd.args.recording}: verified, {len(result.manifest.segments)} segments")
        return 0
    where = "" if result.verdict.first_bad is None else f" at segment {result.verdict.first_bad}"
    sys.stderr.write(f"recording {cmd.args.recording}: NOT verified{where}: {result.verdict.problem}\n")
    return 1


def cmd_export(cmd: Command) -> int:
    target = Path(cmd.args.out)
    if target.suffix.lower() != ".mp4":
        raise InvalidInput("The export is an MP4 file: --out FILE.mp4.", field="out")
    if target.exists():
        raise InvalidInput(f"{target} exists already; nothing was written.", field="out")
    directory = cmd.settings.recording_dir
    with cmd.services() as svc:

        def prepare(db: Session) -> tuple[service.Checked, bytes]:
            result = service.verify_sealed(db, OPERATOR, cmd.args.recording, directory)
            return result, service.data_key(db, result.recording)

        result, key = svc.unit_of_work(prepare)
        if not result.verdict.ok:
            raise service.RecordingConflict(
                "recording_corrupt", f"The recording does not verify ({result.verdict.problem}); nothing was exported."
            )
        export.export(service.folder(directory, cmd.args.recording), result.manifest, key, target)
        digest = svc.unit_of_work(lambda db: service.exported(db, OPERATOR, cmd.args.recording, target))
    out(f"recording {cmd.args.recording} exported to {target} (SHA-256 {digest})")
    return 0


def cmd_purge(cmd: Command) -> int:
    days = cmd.args.older_than
    if not 0 <= days <= MAX_RETENTION_DAYS:
        raise InvalidInput(f"--older-than is a number of days from 0 to {MAX_RETENTION_DAYS}.", field="older_than")
    directory = cmd.settings.recording_dir
    purged = cmd.unit(lambda db: service.purge(db, OPERATOR, directory, older_than_days=days, now=utcnow()))
    out(f"{len(purged)} recordings destroyed" + (f": {', '.join(map(str, purged))}" if purged else ""))
    return 0


def register(commands: Subcommands) -> None:
    parser = commands.add_parser("recording", help="the hearings' encrypted recordings")
    group = parser.add_subparsers(dest="recording_command", required=True)
    p = group.add_parser("list", help="the recordings, with their state and length")
    p.add_argument("--hearing", type=int)
    p.set_defaults(run=cmd_list)
    p = group.add_parser("verify", help="check every segment against the manifest and the audit log's seal")
    p.add_argument("recording", type=int)
    p.set_defaults(run=cmd_verify)
    p = group.add_parser("export", help="one playable MP4 of a sealed recording (audited)")
    p.add_argument("recording", type=int)
    p.add_argument("--out", required=True)
    p.set_defaults(run=cmd_export)
    p = group.add_parser("purge", help="destroy the recordings sealed more than DAYS ago (audited)")
    p.add_argument("--older-than", type=int, required=True, dest="older_than")
    p.set_defaults(run=cmd_purge)

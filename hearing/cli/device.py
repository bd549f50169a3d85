"""`hearing device ...`: enrolled courtroom rigs and custody endpoints."""

from __future__ import annotations

from hearing.auth import devices
from hearing.cli.common import OPERATOR, Command, Subcommands, out
from hearing.clock import utcnow
from hearing.config import Settings
from hearing.docket.parties import EndpointKind


def cmd_enroll(cmd: Command) -> int:
    args = cmd.args
    with cmd.services() as svc:
        creds = svc.unit_of_work(
            lambda db: devices.enroll(
                db, svc.keys, OPERATOR, kind=EndpointKind(args.kind), name=args.name, site=args.site, now=utcnow()
            )
        )
    _print_device(cmd.settings, args.name, creds)
    return 0


def _print_device(settings: Settings, name: str, creds: devices.DeviceCredentials) -> None:
    out(f"device {name} enrolled (shown once; the server keeps only a keyed hash):")
    out(f"  agent token:      {creds.token}")
    out(f"  kiosk enrollment: {settings.base_url}/device/enroll?code={creds.enrollment_code}")
    out("  (valid 24 hours; opening it issues the kiosk a fresh token and retires the agent token)")


def cmd_revoke(cmd: Command) -> int:
    cmd.unit(lambda db: devices.revoke(db, OPERATOR, cmd.args.name, utcnow()))
    out(f"device {cmd.args.name} revoked")
    return 0


def register(commands: Subcommands) -> None:
    device = commands.add_parser("device", help="enrolled devices").add_subparsers(dest="device_command", required=True)
    p = device.add_parser("enroll", help="enroll a courtroom rig, a custody endpoint (kiosk) or a consultation booth")
    p.add_argument("--kind", required=True, choices=[k.value for k in EndpointKind])
    p.add_argument("--name", required=True)
    p.add_argument("--site", required=True, help="its courtroom (rig, booth) or custody facility (custody)")
    p.set_defaults(run=cmd_enroll)
    p = device.add_parser("revoke", help="revoke a device")
    p.add_argument("name")
    p.set_defaults(run=cmd_revoke)

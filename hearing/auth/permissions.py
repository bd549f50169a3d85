"""Who may do what: one table, in one place.

Every route names the permission it needs (hearing/web/routing.py), and a
test walks every route for every role against this table.
"""

from __future__ import annotations

import enum

from hearing.auth.roles import Role


class Permission(enum.StrEnum):
    VIEW_HEARINGS = "view_hearings"
    BOOK_HEARINGS = "book_hearings"
    CONDUCT_HEARING = "conduct_hearing"
    READ_AUDIT = "read_audit"
    MANAGE_USERS = "manage_users"
    MANAGE_DEVICES = "manage_devices"
    # The custody desk: the facility's console, checking the detainee in,
    # assigning the hearing room, asking its kiosk for a test call.
    KEEP_CUSTODY = "keep_custody"
    # issue 12: adding remote parties to a hearing, issuing and revoking their
    # one-time codes, keeping the court's register of interpreters.
    INVITE_REMOTE = "invite_remote"
    # issue 14: taking a hearing's recording out of the system (export and
    # download): the judge who conducts and the auditor, nobody else.
    EXPORT_RECORDING = "export_recording"
    # issue 14, timeline: reading the hearing's record for the case file (its
    # timeline from the audit log): the judge (their own courtroom's hearings,
    # checked by the page), the clerk and the auditor.
    READ_RECORD = "read_record"


P = Permission

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    # The judge conducts; booking is the clerk's job.
    Role.JUDGE: frozenset({P.VIEW_HEARINGS, P.CONDUCT_HEARING, P.EXPORT_RECORDING, P.READ_RECORD}),
    Role.CLERK: frozenset({P.VIEW_HEARINGS, P.BOOK_HEARINGS, P.INVITE_REMOTE, P.READ_RECORD}),
    Role.CUSTODY_OFFICER: frozenset({P.VIEW_HEARINGS, P.KEEP_CUSTODY}),
    # Auditors read the log, not the live docket.
    Role.AUDITOR: frozenset({P.READ_AUDIT, P.EXPORT_RECORDING, P.READ_RECORD}),
    # Administrators run the system, not the hearings in it.
    Role.ADMIN: frozenset({P.MANAGE_USERS, P.MANAGE_DEVICES}),
}


def allowed(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]

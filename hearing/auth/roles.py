from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """Staff roles. Devices and remote participants are not staff."""

    JUDGE = "judge"
    CLERK = "clerk"
    CUSTODY_OFFICER = "custody_officer"
    AUDITOR = "auditor"
    ADMIN = "admin"

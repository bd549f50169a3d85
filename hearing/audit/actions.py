from __future__ import annotations

import enum


class Action(enum.StrEnum):
    """Every kind of event the audit log records. Names are stable."""

    SITE_ADDED = "site.added"
    USER_CREATED = "user.created"
    USER_TOTP_RESET = "user.totp_reset"
    USER_PASSWORD_RESET = "user.password_reset"  # noqa: S105 (an action name)
    USER_TOTP_CONFIRMED = "user.totp_confirmed"
    USER_SIGNED_IN = "user.signed_in"
    USER_SIGN_IN_FAILED = "user.sign_in_failed"
    USER_LOCKED = "user.locked"
    USER_SIGNED_OUT = "user.signed_out"
    DEVICE_ENROLLED = "device.enrolled"
    DEVICE_REISSUED = "device.reissued"
    DEVICE_KIOSK_ENROLLED = "device.kiosk_enrolled"
    DEVICE_REVOKED = "device.revoked"
    ACCESS_DENIED = "access.denied"
    HEARING_BOOKED = "hearing.booked"
    PARTICIPANT_JOINED = "participant.joined"
    PARTICIPANT_LEFT = "participant.left"
    HEARING_OPENED = "hearing.opened"
    HEARING_STARTED = "hearing.started"
    HEARING_PAUSED = "hearing.paused"
    HEARING_RESUMED = "hearing.resumed"
    CONSULTATION_STARTED = "consultation.started"
    CONSULTATION_ENDED = "consultation.ended"
    HEARING_ADJOURNED = "hearing.adjourned"
    HEARING_CLOSED = "hearing.closed"
    HEARING_CONVERTED_TO_PHYSICAL = "hearing.converted_to_physical"
    AUDIT_READ = "audit.read"
    AUDIT_KEY_SHREDDED = "audit.key_shredded"
    AUDIT_KEK_ROTATED = "audit.kek_rotated"
    AUDIT_CHECKPOINT_EXPORTED = "audit.checkpoint_exported"

from __future__ import annotations

import enum


class Action(enum.StrEnum):
    """Every kind of event the audit log records. Names are stable."""

    SITE_ADDED = "site.added"
    USER_CREATED = "user.created"
    USER_TOTP_RESET = "user.totp_reset"
    USER_PASSWORD_RESET = "user.password_reset"  # noqa: S105 (an action name)
    USER_TOTP_CONFIRMED = "user.totp_confirmed"
    USER_ENROLMENT_CODE_USED = "user.enrolment_code_used"
    USER_SIGNED_IN = "user.signed_in"
    USER_SIGN_IN_FAILED = "user.sign_in_failed"
    USER_LOCKED = "user.locked"
    USER_SIGNED_OUT = "user.signed_out"
    DEVICE_ENROLLED = "device.enrolled"
    DEVICE_REISSUED = "device.reissued"
    DEVICE_KIOSK_ENROLLED = "device.kiosk_enrolled"
    DEVICE_REVOKED = "device.revoked"
    ACCESS_DENIED = "access.denied"
    # The same refusal again, counted: `repeated` more like the access.denied before it.
    ACCESS_DENIED_REPEATED = "access.denied_repeated"
    USER_DISABLED = "user.disabled"
    USER_ENABLED = "user.enabled"
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
    LOBBY_ADMITTED = "lobby.admitted"
    LOBBY_DENIED = "lobby.denied"
    FLOOR_REQUESTED = "floor.requested"
    FLOOR_WITHDRAWN = "floor.withdrawn"
    FLOOR_REQUEST_REMOVED = "floor.request_removed"
    FLOOR_QUEUE_SKIPPED = "floor.queue_skipped"
    FLOOR_QUEUE_REORDERED = "floor.queue_reordered"
    FLOOR_QUEUE_CLEARED = "floor.queue_cleared"
    FLOOR_GRANTED = "floor.granted"
    FLOOR_TAKEN_BACK = "floor.taken_back"
    FLOOR_MODE_CHANGED = "floor.mode_changed"
    FLOOR_MUTED = "floor.muted"
    FLOOR_UNMUTED = "floor.unmuted"
    FLOOR_ALL_MUTED = "floor.all_muted"
    FLOOR_HIDDEN = "floor.hidden"
    FLOOR_UNHIDDEN = "floor.unhidden"
    AUDIT_READ = "audit.read"
    AUDIT_SYSTEM_READ = "audit.system_read"
    AUDIT_KEY_SHREDDED = "audit.key_shredded"
    AUDIT_KEK_ROTATED = "audit.kek_rotated"
    AUDIT_CHECKPOINT_EXPORTED = "audit.checkpoint_exported"
    # the custody desk (issue 11: the officer's console)
    CUSTODY_CHECKED_IN = "custody.checked_in"
    CUSTODY_ROOM_ASSIGNED = "custody.room_assigned"
    # Plan B (issue 11): a seat's link lost and restored mid-hearing; the court's setting.
    HEARING_INTERRUPTED = "hearing.interrupted"
    HEARING_LINK_RESTORED = "hearing.link_restored"
    COURT_PAUSE_ON_DROP_SET = "court.pause_on_drop_set"
    # issue 11, the test call
    ENDPOINT_TEST_CALL = "endpoint.test_call"
    # issue 12: remote parties by one-time code, the court's register of
    # interpreters, and interpretation that follows the floor.
    REMOTE_PARTY_ADDED = "remote.party_added"
    REMOTE_PARTY_REMOVED = "remote.party_removed"
    REMOTE_CODE_ISSUED = "remote.code_issued"
    REMOTE_CODE_REVOKED = "remote.code_revoked"
    REMOTE_CODE_USED = "remote.code_used"
    REMOTE_CODE_FAILED = "remote.code_failed"
    REMOTE_CODE_LOCKED = "remote.code_locked"
    # Failures against no known invitation: counted per window, not one entry each.
    REMOTE_CODE_UNKNOWN = "remote.code_unknown_counted"
    REMOTE_TOTP_REQUIRED_SET = "remote.totp_required_set"
    INTERPRETER_REGISTERED = "interpreter.registered"
    INTERPRETER_TOTP_ENROLLED = "interpreter.totp_enrolled"
    INTERPRETATION_SET = "interpretation.set"
    # The direction of simultaneous interpretation turned with the floor.
    INTERPRETATION_DIRECTION = "interpretation.direction"
    # issue 12, codes: a registered interpreter's TOTP passed after the code
    # (the session the code opened is verified; they wait in the lobby).
    REMOTE_TOTP_PASSED = "remote.totp_passed"
    # issue 12, codes: an interpreter taken off the register (their TOTP with them).
    INTERPRETER_DISABLED = "interpreter.disabled"
    # issue 13: the judge pins the courtroom program (a camera, a layout) and releases it.
    CAMERA_PINNED = "camera.pinned"
    CAMERA_RELEASED = "camera.released"
    # issue 13: the courtroom rig reports a camera failed (it retries) and back again.
    CAMERA_UNAVAILABLE = "camera.unavailable"
    CAMERA_RESTORED = "camera.restored"
    # issue 14: the recording. Started (by the hearing's start or the judge),
    # paused and resumed (by the judge, or by a consultation), failed (and
    # restarted into a new segment), sealed (its manifest's hash: the signed
    # checkpoints cover it), exported (who, the file's hash), purged (its key
    # destroyed when its retention ended).
    RECORDING_STARTED = "recording.started"
    RECORDING_PAUSED = "recording.paused"
    RECORDING_RESUMED = "recording.resumed"
    RECORDING_FAILED = "recording.failed"
    RECORDING_SEALED = "recording.sealed"
    RECORDING_EXPORTED = "recording.exported"
    RECORDING_PURGED = "recording.purged"

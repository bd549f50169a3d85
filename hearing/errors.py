"""Domain errors. Each has a stable code that clients and docs rely on.

They are mapped to HTTP in exactly one place (hearing/web/errors.py) and to
exit codes in the CLI. A client's mistake is never a 500.
"""

from __future__ import annotations

from datetime import datetime


class HearingError(Exception):
    code = "error"
    status = 400
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class ConfigurationError(HearingError):
    code = "configuration_error"
    status = 500
    default_message = "The server is misconfigured."


class InvalidInput(HearingError):
    code = "invalid_input"
    status = 400
    default_message = "The input is not valid."

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class RequestTooLarge(HearingError):
    code = "request_too_large"
    status = 413
    default_message = "The request body is too large."


class CsrfRejected(HearingError):
    code = "csrf_rejected"
    status = 403
    default_message = "The form has expired. Reload the page and try again."


class AuthenticationFailed(HearingError):
    # One generic message for every cause: unknown user, wrong password,
    # wrong or replayed code, locked account.
    code = "authentication_failed"
    status = 401
    default_message = "Sign-in failed. Check your details and try again."


class EnrolmentRequired(HearingError):
    # The password was right, but the account has no confirmed authenticator
    # yet: that takes a person with a phone, at /signin/enrol in a browser.
    code = "enrolment_required"
    status = 403
    default_message = "First sign-in: set up your authenticator app at the enrolment page, in a browser."


class NotAuthenticated(HearingError):
    code = "not_authenticated"
    status = 401
    default_message = "Sign in to continue."


class PermissionDenied(HearingError):
    code = "permission_denied"
    status = 403
    default_message = "You do not have permission to do that."


class RateLimited(HearingError):
    code = "rate_limited"
    status = 429
    default_message = "Too many attempts. Wait a minute and try again."


class SignInBusy(RateLimited):
    """More sign-ins at once than the password hashing pool takes: refused
    at once rather than queued without limit (each hash holds 32 MiB)."""

    code = "signin_busy"
    status = 503
    default_message = "Sign-in is busy. Try again in a moment."


class NotFound(HearingError):
    code = "not_found"
    status = 404
    default_message = "Not found."


class HearingNotFound(NotFound):
    code = "hearing_not_found"
    default_message = "No such hearing."


class Conflict(HearingError):
    code = "conflict"
    status = 409
    default_message = "That conflicts with the current state."


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_message = "The hearing cannot do that in its current state."


class AlreadyExists(Conflict):
    code = "already_exists"
    default_message = "That already exists."


class DeviceNotAuthorised(HearingError):
    code = "device_not_authorised"
    status = 401
    default_message = "This device is not authorised."


class ScheduleConflict(Conflict):
    code = "schedule_conflict"
    default_message = "The courtroom already has a hearing at that time."


class HearingNotOpen(Conflict):
    code = "hearing_not_open"
    default_message = "The hearing is not open: the judge opens it first."


class TooEarly(Conflict):
    # Courts run late, never early: only the start of the window is enforced.
    code = "too_early"
    default_message = "The hearing cannot be opened yet."

    def __init__(self, message: str | None = None, *, opens_at: datetime | None = None) -> None:
        super().__init__(message)
        self.opens_at = opens_at


class CourtroomBusy(Conflict):
    # One courtroom is one bench and one camera rig: one live hearing at a time.
    code = "courtroom_busy"
    default_message = "The courtroom already has a live hearing."

    def __init__(self, message: str | None = None, *, case_number: str | None = None) -> None:
        super().__init__(message)
        self.case_number = case_number


class AccountUnchanged(Conflict):
    # `hearing user disable` of a disabled account, or `enable` of an enabled one.
    code = "account_unchanged"
    default_message = "The account is already so."


# --- the custody desk (issue 11: the officer's console) ------------------------


class CheckInUnconfirmed(InvalidInput):
    # "Ready" is the officer's word that the right person sits in the room.
    code = "check_in_unconfirmed"
    default_message = "Confirm the detainee's name and reference before you report ready."


class HearingEnded(Conflict):
    code = "hearing_ended"
    default_message = "The hearing has ended: nothing about it can change now."


class UnknownRoom(InvalidInput):
    # One answer for a room that does not exist, is revoked, is not a custody
    # endpoint or stands at another facility: the console names nothing else.
    code = "unknown_room"
    default_message = "No such hearing room at this custody facility."


class UnknownCamera(InvalidInput):
    # issue 13: the judge pins only a camera the connected courtroom rig has.
    code = "unknown_camera"
    default_message = "The courtroom rig is not connected, or has no such camera."


class NoRoomAssigned(Conflict):
    code = "no_room_assigned"
    default_message = "Assign the hearing room first."


class KioskOffline(Conflict):
    code = "kiosk_offline"
    default_message = "The hearing room's kiosk is not answering: check that its screen is on and its page open."


class KioskInHearing(Conflict):
    code = "kiosk_in_hearing"
    default_message = "The kiosk is connected to the hearing: a test call would interrupt it."


# Plan B and the consultation booth (issue 11).
class NoBoothSeat(Conflict):
    # A booth device joins a hearing only where counsel sits in the courtroom.
    code = "no_booth_seat"
    default_message = "This hearing has no consultation booth: defence counsel does not sit in the courtroom."


# issue 11, the test call
class TestCallBusy(Conflict):
    # One loop per endpoint: a second page (or a second device with a copied
    # cookie) would halve what each measures.
    code = "test_call_busy"
    default_message = "A test call of this endpoint is already running."
    __test__ = False  # not a pytest class, despite the name


# --- remote parties by one-time code (issue 12) ------------------------------------


class CodeRejected(AuthenticationFailed):
    # One answer for every cause: an unknown invitation, a wrong, used,
    # revoked, locked or out-of-window code, a wrong TOTP, another hearing's
    # code. It never says which part was wrong, nor whether the hearing exists.
    code = "code_rejected"
    default_message = (
        "The code could not be used. Check the code and the time of the hearing, or ask the court for a new code."
    )


class RemoteSessionEnded(NotAuthenticated):
    code = "remote_session_ended"
    default_message = "Your access to the hearing has ended. Use the code in your invitation, or ask the court."


class CodeUnchanged(Conflict):
    # Revoking a code that is already dead, re-issuing for a party who has
    # taken their seat, and the like.
    code = "code_unchanged"
    default_message = "The code is already used, revoked or locked."


class NotRemote(InvalidInput):
    # Codes are for parties who join from outside; the others have devices or sessions.
    code = "not_remote"
    default_message = "Only a remote party is given a one-time code."


# issue 12, codes
class TotpNotEnrolled(InvalidInput):
    # The hearing asks registered interpreters for their TOTP, and this
    # interpreter has no confirmed authenticator (or is not on the register).
    code = "totp_not_enrolled"
    default_message = (
        "This hearing requires the interpreter's authenticator (TOTP), and this interpreter has none confirmed:"
        " link them to the court's register and enrol the authenticator, or turn the requirement off."
    )


class PrintingUnavailable(HearingError):
    """The PDF cannot be made here (WeasyPrint or its Pango library is
    missing): the page itself still prints."""

    code = "printing_unavailable"
    status = 503
    default_message = "The PDF cannot be made on this server. Print the page instead."


class PrintingBusy(HearingError):
    code = "printing_busy"
    status = 503
    default_message = "Another PDF is being made. Try again in a moment."

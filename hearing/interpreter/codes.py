"""A remote party's one-time code: making it, reading what was typed, its
time window, and the verdict on an attempt.

The code is 8 digits of HOTP (RFC 4226) on a fresh 160-bit secret that is
thrown away at once: the RFC's dynamic truncation is the one path that
makes every code in the project (hearing/interpreter/otp.py). 10^8 codes
is about 26.6 bits; what keeps guessing hopeless is the lock after
MAX_FAILURES wrong attempts on one invitation, and the gateway's limits per
source and overall (docs/security.md). The invitation is the public half,
in the join address: it names which code to check, so a guess is always a
guess at one code, never at any code of any hearing.

Pure: no framework, no I/O.
"""

from __future__ import annotations

import dataclasses
import enum
import secrets
from datetime import datetime, timedelta

from hearing.interpreter.otp import hotp

CODE_DIGITS = 8
MAX_FAILURES = 5
SECRET_BYTES = 20
# Lower-case letters and digits without the look-alikes (0 o 1 l i): read
# aloud or retyped from paper, an invitation survives. 31^10 ≈ 2^49.5.
INVITATION_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
INVITATION_LENGTH = 10
# What may stand between digits as people type them (a 4+4 grouping, a
# phone's spaces): ASCII space and hyphen, no-break spaces, Unicode dashes.
SEPARATORS = frozenset(" -\u00a0\u202f\u2010\u2011\u2012\u2013\u2014")
# Anything longer than a grouped code with generous separators is not a
# code; refused before any other work is done on it.
RAW_MAX = 32
# A hearing that runs late: a live hearing's code and sessions last this
# long past the scheduled end (a final state ends them at once).
LATE_GRACE = timedelta(hours=2)


def new_code() -> str:
    """A fresh code: HOTP, 8 digits, counter 0, on a secret used once.

    Truncation reduces a 31-bit number modulo 10^8, so the lowest 47.5
    million codes are 22/21 as likely as the rest: under 0.07 bits lost."""
    return hotp(secrets.token_bytes(SECRET_BYTES), 0, digits=CODE_DIGITS)


def new_invitation() -> str:
    return "".join(secrets.choice(INVITATION_ALPHABET) for _ in range(INVITATION_LENGTH))


def normalise(raw: str) -> str | None:
    """The code as typed, without separators: exactly 8 ASCII digits, else None."""
    if not isinstance(raw, str) or len(raw) > RAW_MAX:
        return None
    digits = "".join(ch for ch in raw if ch not in SEPARATORS)
    if len(digits) != CODE_DIGITS or not (digits.isascii() and digits.isdigit()):
        return None
    return digits


def normalise_invitation(raw: str) -> str | None:
    """An invitation from a join address: 10 characters of the alphabet
    (read case-blind), else None."""
    if not isinstance(raw, str) or len(raw) != INVITATION_LENGTH:
        return None
    value = raw.lower()
    if not all(ch in INVITATION_ALPHABET for ch in value):
        return None
    return value


def grouped(code: str) -> str:
    """4+4, for reading aloud and from paper."""
    return f"{code[:4]} {code[4:]}"


def window(start: datetime, end: datetime, early_minutes: int) -> tuple[datetime, datetime]:
    """When a code works: from `early_minutes` before the scheduled start to the scheduled end."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("a hearing's times carry a time zone")
    if end <= start:
        raise ValueError("a hearing ends after it starts")
    if early_minutes < 0:
        raise ValueError("early_minutes is not negative")
    return start - timedelta(minutes=early_minutes), end


def closes_at(valid_until: datetime, *, hearing_live: bool) -> datetime:
    """The end of a code's window as applied: a hearing still live past its
    scheduled end (running late) keeps its codes working a while longer."""
    return valid_until + LATE_GRACE if hearing_live else valid_until


class Verdict(enum.StrEnum):
    """What an attempt at a code comes to; the values are the audit's
    `reason` words (hearing/audit/sentences.py CODE_FAILURES)."""

    ACCEPTED = "accepted"
    WRONG_CODE = "wrong_code"
    OUTSIDE_WINDOW = "outside_window"
    USED = "used"
    REVOKED = "revoked"
    LOCKED = "locked"
    HEARING_ENDED = "hearing_ended"
    WRONG_TOTP = "wrong_totp"


@dataclasses.dataclass(frozen=True)
class CodeStanding:
    """The fields of a stored code that decide an attempt."""

    valid_from: datetime
    valid_until: datetime
    failed_attempts: int
    used_at: datetime | None = None
    revoked_at: datetime | None = None
    locked_at: datetime | None = None


def dead(code: CodeStanding) -> Verdict | None:
    """Why a code can never admit anyone again, if it cannot: revoked,
    locked (also: MAX_FAILURES reached, whether or not the lock was
    written yet) or used. The most telling reason first."""
    if code.revoked_at is not None:
        return Verdict.REVOKED
    if code.locked_at is not None or code.failed_attempts >= MAX_FAILURES:
        return Verdict.LOCKED
    if code.used_at is not None:
        return Verdict.USED
    return None


def verdict(code: CodeStanding, matches: bool, now: datetime, *, hearing_ended: bool, hearing_live: bool) -> Verdict:
    """The verdict on one attempt: `matches` says whether the code typed is
    this code (compared in constant time by the caller)."""
    why = dead(code)
    if why is not None:
        return why
    if not matches:
        return Verdict.WRONG_CODE
    if hearing_ended:
        return Verdict.HEARING_ENDED
    if not code.valid_from <= now < closes_at(code.valid_until, hearing_live=hearing_live):
        return Verdict.OUTSIDE_WINDOW
    return Verdict.ACCEPTED


def counts(outcome: Verdict) -> bool:
    """Whether a failed attempt counts towards the lock. A wrong code counts
    (that is guessing, before the window too); so do attempts at a code that
    is already dead (a guess there wins nothing, but the count shows the
    persistence). The right code at the wrong time does not: that is the
    holder coming early, and an eager interpreter must not lock themself out."""
    return outcome not in (Verdict.ACCEPTED, Verdict.OUTSIDE_WINDOW, Verdict.HEARING_ENDED)


def state(code: CodeStanding | None, now: datetime, *, hearing_live: bool = False) -> str:
    """A code's state as the clerk's page shows it."""
    if code is None:
        return "none"
    why = dead(code)
    if why is not None:
        return why.value
    if now >= closes_at(code.valid_until, hearing_live=hearing_live):
        return "expired"
    return "live"

"""The court's register of interpreters, with their TOTP authenticators.

An interpreter the court works with often is registered once (name,
contact, languages) and may enrol an authenticator app: a hearing that
requires it then admits them with the one-time code *and* their TOTP. The
secret is AES-GCM encrypted under the TOTP key, bound to the register
entry (as staff secrets are bound to the user name); enrolment counts only
once a first code from the app confirms it.

Services as in issuing.py: authorise, change, audit in the caller's
transaction.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.auth import totp
from hearing.auth.keys import KeyRing
from hearing.db.models import RegisteredInterpreter
from hearing.errors import AccountUnchanged, AuthenticationFailed, InvalidInput, NotFound
from hearing.fields import MAX_ID, free_text
from hearing.interpreter import issuing

NAME_MAX = 200
CONTACT_MAX = 200
LANGUAGES_MAX = 200


@dataclasses.dataclass(frozen=True)
class Enrolment:
    """A new authenticator, shown once: the URI (and its QR) for the app."""

    registered_interpreter_id: int
    secret: str
    provisioning_uri: str


@dataclasses.dataclass(frozen=True)
class Entry:
    id: int
    name: str
    contact: str
    languages: str
    totp_confirmed: bool
    disabled: bool


def _entry(interpreter: RegisteredInterpreter) -> Entry:
    return Entry(
        interpreter.id,
        interpreter.name,
        interpreter.contact,
        interpreter.languages,
        interpreter.totp_confirmed,
        interpreter.disabled_at is not None,
    )


def _languages(raw: str) -> str:
    """A comma-separated list, as typed, tidied: 'arabisk, fransk'."""
    text = free_text(raw, field="languages", limit=LANGUAGES_MAX)
    parts = [part.strip() for part in text.split(",")]
    if any(not part for part in parts):
        raise InvalidInput("Languages are a comma-separated list, e.g. 'arabisk, fransk'.", field="languages")
    return ", ".join(parts)


def _find(db: Session, interpreter_id: int, *, lock: bool = False) -> RegisteredInterpreter:
    if not 0 < interpreter_id <= MAX_ID:
        raise NotFound("No such registered interpreter.")
    query = select(RegisteredInterpreter).where(RegisteredInterpreter.id == interpreter_id)
    interpreter = db.scalar(query.with_for_update() if lock else query)
    if interpreter is None:
        raise NotFound("No such registered interpreter.")
    return interpreter


def register(
    db: Session, actor: Actor, *, name: str, languages: str, contact: str = "", now: datetime
) -> RegisteredInterpreter:
    issuing.authorise(db, actor)
    interpreter = RegisteredInterpreter(
        name=free_text(name, field="name", limit=NAME_MAX),
        contact=free_text(contact, field="contact", limit=CONTACT_MAX, required=False),
        languages=_languages(languages),
        totp_confirmed=False,
        created_at=now,
    )
    db.add(interpreter)
    db.flush()
    # The register is the court's own list of professionals, not a hearing's
    # record: the name is what an auditor needs to know who was registered.
    append(
        db,
        actor,
        Action.INTERPRETER_REGISTERED,
        registered_interpreter_id=interpreter.id,
        name=interpreter.name,
        languages=interpreter.languages,
    )
    return interpreter


def entries(db: Session) -> list[Entry]:
    query = select(RegisteredInterpreter).order_by(RegisteredInterpreter.name, RegisteredInterpreter.id)
    return [_entry(i) for i in db.scalars(query)]


def entry(db: Session, interpreter_id: int) -> Entry:
    return _entry(_find(db, interpreter_id))


def begin_totp(db: Session, keys: KeyRing, actor: Actor, interpreter_id: int) -> Enrolment:
    """A fresh secret for the interpreter's app; the earlier one (if any)
    stops working at once, and the new one counts once confirmed. Not
    audited on its own: the enrolment is, when confirmed (an unconfirmed
    secret admits no one)."""
    issuing.authorise(db, actor)
    interpreter = _find(db, interpreter_id, lock=True)
    if interpreter.disabled_at is not None:
        raise AccountUnchanged("This interpreter is no longer on the register.")
    secret = totp.new_secret()
    interpreter.totp_secret_enc = totp.encrypt_secret(keys.totp_encryption, issuing.totp_label(interpreter.id), secret)
    interpreter.totp_confirmed = False
    interpreter.totp_last_step = None
    uri = pyotp.TOTP(secret).provisioning_uri(name=f"{interpreter.name} (#{interpreter.id})", issuer_name=totp.ISSUER)
    return Enrolment(interpreter.id, secret, uri)


def confirm_totp(db: Session, keys: KeyRing, actor: Actor, interpreter_id: int, code: str, *, now: datetime) -> None:
    """The first code from the app: the enrolment counts from now."""
    issuing.authorise(db, actor)
    interpreter = _find(db, interpreter_id, lock=True)
    if interpreter.disabled_at is not None or interpreter.totp_secret_enc is None:
        raise AccountUnchanged("Begin the enrolment first (a new secret for the app).")
    if interpreter.totp_confirmed:
        raise AccountUnchanged("This interpreter's authenticator is already confirmed.")
    if not issuing.verify_totp(db, keys, interpreter, code, now):
        raise AuthenticationFailed("That is not the authenticator's current code.")
    interpreter.totp_confirmed = True
    append(
        db,
        actor,
        Action.INTERPRETER_TOTP_ENROLLED,
        registered_interpreter_id=interpreter.id,
        name=interpreter.name,
    )


def disable(db: Session, actor: Actor, interpreter_id: int, *, now: datetime) -> None:
    """The interpreter leaves the register: their authenticator no longer
    counts. Parties already linked keep their name; a hearing that requires
    the TOTP then refuses their code (admission.redeem)."""
    issuing.authorise(db, actor)
    interpreter = _find(db, interpreter_id, lock=True)
    if interpreter.disabled_at is not None:
        raise AccountUnchanged("This interpreter is already off the register.")
    interpreter.disabled_at = now
    interpreter.totp_confirmed = False
    interpreter.totp_secret_enc = None
    append(db, actor, Action.INTERPRETER_DISABLED, registered_interpreter_id=interpreter.id, name=interpreter.name)

"""The court's register of interpreters and their TOTP, on SQLite and
PostgreSQL: registering, enrolling (a secret stored only encrypted, bound to
the entry), confirming, disabling; what the audit log says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest

from hearing.actors import Actor
from hearing.audit.actions import Action
from hearing.auth import totp
from hearing.db.models import RegisteredInterpreter
from hearing.errors import (
    AccountUnchanged,
    AuthenticationFailed,
    ConfigurationError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from hearing.interpreter import issuing, register
from hearing.services import Services
from tests.conftest import Court_, logged

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def clerk(court: Court_) -> Actor:
    return Actor("user", court.users["clerk"], "clerk")


def add(services: Services, court: Court_, **kw: str) -> int:
    fields = {"name": "Samira Haddad", "languages": "arabisk, fransk", "contact": "samira@example.dk", **kw}
    return services.unit_of_work(lambda db: register.register(db, clerk(court), now=NOW, **fields).id)


def test_register_enrol_confirm_and_the_secret_stays_encrypted(services: Services, court: Court_) -> None:
    entry = add(services, court, languages=" arabisk ,fransk ")
    (listed,) = services.unit_of_work(register.entries)
    assert (listed.name, listed.languages, listed.totp_confirmed, listed.disabled) == (
        "Samira Haddad",
        "arabisk, fransk",
        False,
        False,
    )
    enrolment = services.unit_of_work(lambda db: register.begin_totp(db, services.keys, clerk(court), entry))
    parsed = pyotp.parse_uri(enrolment.provisioning_uri)
    assert parsed.secret == enrolment.secret and parsed.issuer == "Hearing"
    assert "Samira" in enrolment.provisioning_uri

    row = services.unit_of_work(lambda db: db.get_one(RegisteredInterpreter, entry))
    assert row.totp_secret_enc is not None and enrolment.secret.encode() not in row.totp_secret_enc
    # Bound to the entry: under another entry's label (or a staff user's name) it does not decrypt.
    assert totp.decrypt_secret(services.keys.totp_encryption, issuing.totp_label(entry), row.totp_secret_enc) == (
        enrolment.secret
    )
    with pytest.raises(ConfigurationError):
        totp.decrypt_secret(services.keys.totp_encryption, issuing.totp_label(entry + 1), row.totp_secret_enc)

    wrong = "000000" if pyotp.TOTP(enrolment.secret).at(NOW) != "000000" else "111111"
    with pytest.raises(AuthenticationFailed):
        services.unit_of_work(lambda db: register.confirm_totp(db, services.keys, clerk(court), entry, wrong, now=NOW))
    code = pyotp.TOTP(enrolment.secret).at(NOW)
    services.unit_of_work(lambda db: register.confirm_totp(db, services.keys, clerk(court), entry, code, now=NOW))
    assert services.unit_of_work(lambda db: register.entry(db, entry)).totp_confirmed
    with pytest.raises(AccountUnchanged):
        services.unit_of_work(lambda db: register.confirm_totp(db, services.keys, clerk(court), entry, code, now=NOW))

    entries = [e for e in logged(services) if e.action.startswith("interpreter.")]
    assert [(e.action, e.hearing_id, e.actor_kind, e.actor_id) for e in entries] == [
        (Action.INTERPRETER_REGISTERED, None, "user", court.users["clerk"]),
        (Action.INTERPRETER_TOTP_ENROLLED, None, "user", court.users["clerk"]),
    ]
    assert entries[0].payload == {
        "registered_interpreter_id": entry,
        "name": "Samira Haddad",
        "languages": "arabisk, fransk",
    }
    assert entries[1].payload == {"registered_interpreter_id": entry, "name": "Samira Haddad"}
    assert enrolment.secret not in repr([e.payload for e in logged(services)])


def test_a_new_enrolment_replaces_the_old_secret_until_confirmed(services: Services, court: Court_) -> None:
    entry = add(services, court)
    first = services.unit_of_work(lambda db: register.begin_totp(db, services.keys, clerk(court), entry))
    code = pyotp.TOTP(first.secret).at(NOW)
    services.unit_of_work(lambda db: register.confirm_totp(db, services.keys, clerk(court), entry, code, now=NOW))
    second = services.unit_of_work(lambda db: register.begin_totp(db, services.keys, clerk(court), entry))
    assert second.secret != first.secret
    assert not services.unit_of_work(lambda db: register.entry(db, entry)).totp_confirmed
    later = NOW + timedelta(minutes=5)
    with pytest.raises(AuthenticationFailed):  # the old app's code no longer counts
        services.unit_of_work(
            lambda db: register.confirm_totp(
                db, services.keys, clerk(court), entry, pyotp.TOTP(first.secret).at(later), now=later
            )
        )
    new_code = pyotp.TOTP(second.secret).at(later)
    services.unit_of_work(lambda db: register.confirm_totp(db, services.keys, clerk(court), entry, new_code, now=later))


def test_disable_takes_the_interpreter_and_their_authenticator_off(services: Services, court: Court_) -> None:
    entry = add(services, court)
    services.unit_of_work(lambda db: register.disable(db, clerk(court), entry, now=NOW))
    row = services.unit_of_work(lambda db: db.get_one(RegisteredInterpreter, entry))
    assert row.disabled_at is not None and row.totp_secret_enc is None and not row.totp_confirmed
    with pytest.raises(AccountUnchanged):
        services.unit_of_work(lambda db: register.disable(db, clerk(court), entry, now=NOW))
    with pytest.raises(AccountUnchanged):
        services.unit_of_work(lambda db: register.begin_totp(db, services.keys, clerk(court), entry))
    (disabled,) = [e for e in logged(services) if e.action == Action.INTERPRETER_DISABLED]
    assert disabled.payload == {"registered_interpreter_id": entry, "name": "Samira Haddad"}


def test_bad_requests_change_nothing(services: Services, court: Court_) -> None:
    entry = add(services, court)
    before = len(logged(services))
    judge = Actor("user", court.users["judge"], "judge")
    admin = Actor("user", court.users["admin"], "admin")
    bad = [
        (PermissionDenied, lambda db: register.register(db, judge, name="N", languages="a", now=NOW)),
        (PermissionDenied, lambda db: register.register(db, admin, name="N", languages="a", now=NOW)),
        (PermissionDenied, lambda db: register.begin_totp(db, services.keys, Actor("remote", 1, "interpreter"), entry)),
        (InvalidInput, lambda db: register.register(db, clerk(court), name="", languages="a", now=NOW)),
        (InvalidInput, lambda db: register.register(db, clerk(court), name="N", languages="", now=NOW)),
        (InvalidInput, lambda db: register.register(db, clerk(court), name="N", languages="a,,b", now=NOW)),
        (InvalidInput, lambda db: register.register(db, clerk(court), name="N\u202e", languages="a", now=NOW)),
        (
            InvalidInput,
            lambda db: register.register(db, clerk(court), name="N", languages="a", contact="c" * 201, now=NOW),
        ),
        (NotFound, lambda db: register.begin_totp(db, services.keys, clerk(court), entry + 1)),
        (NotFound, lambda db: register.begin_totp(db, services.keys, clerk(court), 2**40)),
        (NotFound, lambda db: register.disable(db, clerk(court), 0, now=NOW)),
        (AccountUnchanged, lambda db: register.confirm_totp(db, services.keys, clerk(court), entry, "123456", now=NOW)),
    ]
    for error, work in bad:
        with pytest.raises(error):
            services.unit_of_work(work)
    assert len(logged(services)) == before


@pytest.mark.sqlite_only
def test_the_database_holds_no_plaintext_totp_secret(services: Services, court: Court_) -> None:
    entry = add(services, court)
    enrolment = services.unit_of_work(lambda db: register.begin_totp(db, services.keys, clerk(court), entry))
    database = Path(services.engine.url.database or "")
    raw = b"".join(p.read_bytes() for p in (database, database.with_name(database.name + "-wal")) if p.exists())
    assert b"Samira Haddad" in raw
    assert enrolment.secret.encode() not in raw and enrolment.secret.lower().encode() not in raw

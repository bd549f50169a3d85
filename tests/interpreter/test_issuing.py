"""Remote parties and their one-time codes through the services, on SQLite
and PostgreSQL: issuing, redeeming once, the window, the lock, revoking and
re-issuing, sessions, the second factor, and what the audit log says."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hearing.actors import SYSTEM, Actor
from hearing.audit.actions import Action
from hearing.db.models import FloorRecord, Hearing, OneTimeCode, Participant, RemoteSession
from hearing.docket.lifecycle import HearingState
from hearing.docket.parties import Connection, ParticipantRole
from hearing.errors import (
    CodeUnchanged,
    HearingEnded,
    HearingNotFound,
    InvalidInput,
    NotFound,
    NotRemote,
    PermissionDenied,
    TotpNotEnrolled,
)
from hearing.interpreter import admission, codes, issuing, register
from hearing.interpreter.admission import Redeemed, Rejected
from hearing.services import Services
from hearing.speaker_order import presiding
from tests.conftest import Court_, logged, open_hearing

R = ParticipantRole
CLERK_ROLE = "clerk"
EARLY = 30


def clerk(court: Court_) -> Actor:
    return Actor("user", court.users["clerk"], CLERK_ROLE)


def start_of(services: Services, hearing_id: int) -> datetime:
    return services.unit_of_work(lambda db: db.get_one(Hearing, hearing_id).scheduled_start)


def add_party(
    services: Services, court: Court_, hearing_id: int, role: R = R.INTERPRETER, name: str = "Samira Haddad", **kw: Any
) -> int:
    kw.setdefault("language", "arabisk" if role is R.INTERPRETER else None)
    return services.unit_of_work(lambda db: issuing.add_remote_party(db, clerk(court), hearing_id, role, name, **kw).id)


def issue(services: Services, court: Court_, hearing_id: int, party: int, now: datetime) -> issuing.Issued:
    return services.unit_of_work(
        lambda db: issuing.issue_code(db, services.keys, clerk(court), hearing_id, party, now=now, early_minutes=EARLY)
    )


def redeem(services: Services, invitation: str, code: str, now: datetime) -> Redeemed | Rejected:
    return services.unit_of_work(lambda db: admission.redeem(db, services.keys, invitation, code, now=now))


def actions(services: Services) -> list[str]:
    return [e.action for e in logged(services)]


def code_row(services: Services, code_id: int) -> OneTimeCode:
    return services.unit_of_work(lambda db: db.get_one(OneTimeCode, code_id))


@pytest.fixture
def party(services: Services, court: Court_) -> int:
    return add_party(services, court, court.hearing_a)


def test_a_code_admits_once_and_is_rejected_the_second_time(services: Services, court: Court_, party: int) -> None:
    now = start_of(services, court.hearing_a)
    issued = issue(services, court, court.hearing_a, party, now - timedelta(hours=1))
    assert len(issued.code) == codes.CODE_DIGITS and issued.code.isdigit()
    assert issued.seat == f"interpreter-{party}" and not issued.reissued
    assert issued.valid_from == now - timedelta(minutes=EARLY)

    first = redeem(services, issued.invitation, codes.grouped(issued.code), now)
    assert isinstance(first, Redeemed)
    assert (first.participant_id, first.hearing_id, first.seat, first.role) == (
        party,
        court.hearing_a,
        issued.seat,
        R.INTERPRETER,
    )
    assert not first.needs_totp and len(first.token) >= 43
    second = redeem(services, issued.invitation, issued.code, now + timedelta(seconds=1))
    assert second == Rejected("used", known=True)

    info = services.unit_of_work(lambda db: admission.load_session(db, services.keys, first.token, now=now))
    assert info is not None and info.verified and info.seat == issued.seat and info.name == "Samira Haddad"
    assert info.language == "arabisk"
    # The session, not the code, carries a reconnect; it ends when the party leaves.
    services.unit_of_work(lambda db: admission.end_session(db, services.keys, first.token, now=now))
    assert services.unit_of_work(lambda db: admission.load_session(db, services.keys, first.token, now=now)) is None


def test_a_code_of_hearing_a_is_rejected_with_hearing_bs_invitation(services: Services, court: Court_) -> None:
    party_a = add_party(services, court, court.hearing_a)
    party_b = add_party(services, court, court.hearing_b, name="Other Interpreter")
    now = start_of(services, court.hearing_a)
    a = issue(services, court, court.hearing_a, party_a, now)
    b = issue(services, court, court.hearing_b, party_b, now)
    assert redeem(services, b.invitation, a.code, now) == Rejected("wrong_code", known=True)
    assert redeem(services, a.invitation, b.code, now) == Rejected("wrong_code", known=True)
    # Both still work with their own invitation (one failure each, no lock).
    assert isinstance(redeem(services, a.invitation, a.code, now), Redeemed)
    assert isinstance(redeem(services, b.invitation, b.code, now), Redeemed)


def test_before_and_after_its_window_a_code_is_rejected(services: Services, court: Court_, party: int) -> None:
    start = start_of(services, court.hearing_a)
    issued = issue(services, court, court.hearing_a, party, start - timedelta(hours=2))
    too_early = issued.valid_from - timedelta(seconds=1)
    too_late = issued.valid_until  # scheduled, not running late: the window is closed at the end
    assert redeem(services, issued.invitation, issued.code, too_early) == Rejected("outside_window", known=True)
    assert redeem(services, issued.invitation, issued.code, too_late) == Rejected("outside_window", known=True)
    # The right code at the wrong time is not guessing: it does not count towards the lock.
    assert code_row(services, issued.code_id).failed_attempts == 0
    assert isinstance(redeem(services, issued.invitation, issued.code, issued.valid_from), Redeemed)
    assert redeem(services, issued.invitation, issued.code, issued.valid_from) == Rejected("used", known=True)
    failed = [e for e in logged(services) if e.action == Action.REMOTE_CODE_FAILED]
    assert [(e.actor_kind, e.hearing_id, e.payload) for e in failed] == [
        ("anonymous", court.hearing_a, {"code_id": issued.code_id, "seat": issued.seat, "attempts": n, "reason": r})
        for n, r in ((0, "outside_window"), (0, "outside_window"), (1, "used"))
    ]


def test_a_hearing_running_late_keeps_its_codes_a_while_and_a_final_state_ends_them(
    services: Services, court: Court_, party: int
) -> None:
    start = start_of(services, court.hearing_a)
    issued = issue(services, court, court.hearing_a, party, start)
    open_hearing(services, court.hearing_a, HearingState.IN_SESSION)
    late = issued.valid_until + timedelta(minutes=20)
    redeemed = redeem(services, issued.invitation, issued.code, late)
    assert isinstance(redeemed, Redeemed)
    open_hearing(services, court.hearing_a, HearingState.CLOSED)
    assert services.unit_of_work(lambda db: admission.load_session(db, services.keys, redeemed.token, now=late)) is None


def test_after_five_failures_even_the_right_code_is_rejected(services: Services, court: Court_, party: int) -> None:
    now = start_of(services, court.hearing_a)
    issued = issue(services, court, court.hearing_a, party, now)
    wrong = f"{(int(issued.code) + 1) % 10**8:08d}"
    results = [redeem(services, issued.invitation, wrong, now) for _ in range(codes.MAX_FAILURES)]
    assert results == [Rejected("wrong_code", known=True)] * 4 + [Rejected("wrong_code", known=True)]
    row = code_row(services, issued.code_id)
    assert row.failed_attempts == codes.MAX_FAILURES and row.locked_at is not None
    assert redeem(services, issued.invitation, issued.code, now) == Rejected("locked", known=True)

    entries = logged(services)
    failed = [e for e in entries if e.action == Action.REMOTE_CODE_FAILED]
    assert [e.payload["attempts"] for e in failed if e.payload] == [1, 2, 3, 4, 5, 6]
    assert [e.payload["reason"] for e in failed if e.payload] == ["wrong_code"] * 5 + ["locked"]
    assert all(e.actor_kind == "anonymous" and e.hearing_id == court.hearing_a for e in failed)
    (locked,) = [e for e in entries if e.action == Action.REMOTE_CODE_LOCKED]
    assert locked.payload == {"code_id": issued.code_id, "seat": issued.seat, "attempts": 5}
    assert actions(services).index(Action.REMOTE_CODE_LOCKED) == actions(services).index(Action.REMOTE_CODE_FAILED) + 5


def test_malformed_and_oversized_attempts_are_failures_like_any_other(
    services: Services, court: Court_, party: int
) -> None:
    now = start_of(services, court.hearing_a)
    issued = issue(services, court, court.hearing_a, party, now)
    typed = ("", "1234567", "123456789", "abcdefgh", "١٢٣٤٥٦٧٨", "9" * 10_000, "1234\n5678")
    reasons = [redeem(services, issued.invitation, t, now) for t in typed]
    assert reasons == [Rejected("wrong_code", known=True)] * 5 + [Rejected("locked", known=True)] * 2
    assert code_row(services, issued.code_id).locked_at is not None


def test_an_unknown_or_malformed_invitation_is_rejected_and_appends_nothing(
    services: Services, court: Court_, party: int
) -> None:
    now = start_of(services, court.hearing_a)
    issued = issue(services, court, court.hearing_a, party, now)
    before = len(logged(services))
    unknown = "".join(reversed(issued.invitation))
    for invitation in (unknown, "", "x" * 10_000, issued.invitation + "a", "ABCDEFGHI0", "../../etc"):
        if invitation == issued.invitation:
            continue
        assert redeem(services, invitation, issued.code, now) == Rejected("wrong_code", known=False)
    assert len(logged(services)) == before
    # An invitation reads case-blind (typed from paper).
    assert isinstance(redeem(services, issued.invitation.upper(), issued.code, now), Redeemed)


def test_revoke_and_reissue_kill_the_old_code_and_the_new_one_works(
    services: Services, court: Court_, party: int
) -> None:
    now = start_of(services, court.hearing_a)
    first = issue(services, court, court.hearing_a, party, now)
    services.unit_of_work(lambda db: issuing.revoke_code(db, clerk(court), court.hearing_a, party, now=now))
    assert redeem(services, first.invitation, first.code, now) == Rejected("revoked", known=True)
    with pytest.raises(CodeUnchanged):
        services.unit_of_work(lambda db: issuing.revoke_code(db, clerk(court), court.hearing_a, party, now=now))

    second = issue(services, court, court.hearing_a, party, now)
    third = issue(services, court, court.hearing_a, party, now)  # re-issue revokes the live second one
    assert second.reissued and third.reissued and len({first.invitation, second.invitation, third.invitation}) == 3
    assert redeem(services, second.invitation, second.code, now) == Rejected("revoked", known=True)
    assert isinstance(redeem(services, third.invitation, third.code, now), Redeemed)
    states = services.unit_of_work(lambda db: issuing.remote_parties(db, court.hearing_a, now=now))
    assert [(p.participant_id, p.code_state, p.invitation) for p in states] == [(party, "used", third.invitation)]

    issued = [e for e in logged(services) if e.action == Action.REMOTE_CODE_ISSUED]
    assert [e.payload["reissued"] for e in issued if e.payload] == [False, True, True]
    revoked = [e.payload for e in logged(services) if e.action == Action.REMOTE_CODE_REVOKED]
    assert revoked == [
        {"participant_id": party, "seat": first.seat, "code_id": first.code_id},
        {"participant_id": party, "seat": first.seat, "code_id": second.code_id},
    ]


def test_a_new_code_for_a_lost_browser_ends_the_earlier_session(services: Services, court: Court_, party: int) -> None:
    now = start_of(services, court.hearing_a)
    first = issue(services, court, court.hearing_a, party, now)
    old = redeem(services, first.invitation, first.code, now)
    assert isinstance(old, Redeemed)
    second = issue(services, court, court.hearing_a, party, now)  # the used first code is not revoked
    assert services.unit_of_work(lambda db: admission.load_session(db, services.keys, old.token, now=now)) is not None
    new = redeem(services, second.invitation, second.code, now)
    assert isinstance(new, Redeemed)
    assert services.unit_of_work(lambda db: admission.load_session(db, services.keys, old.token, now=now)) is None
    assert services.unit_of_work(lambda db: admission.load_session(db, services.keys, new.token, now=now)) is not None


def test_sessions_end_at_the_scheduled_end_plus_grace_and_unknown_tokens_load_nothing(
    services: Services, court: Court_, party: int
) -> None:
    now = start_of(services, court.hearing_a)
    issued = issue(services, court, court.hearing_a, party, now)
    redeemed = redeem(services, issued.invitation, issued.code, now)
    assert isinstance(redeemed, Redeemed)

    def load(token: str, at: datetime) -> admission.RemoteSessionInfo | None:
        return services.unit_of_work(lambda db: admission.load_session(db, services.keys, token, now=at))

    end = issued.valid_until + codes.LATE_GRACE
    assert load(redeemed.token, end - timedelta(seconds=1)) is not None
    assert load(redeemed.token, end) is None
    for token in ("", "x", redeemed.token + "x", "x" * 10_000, redeemed.token.upper()):
        assert load(token, now) is None
    # Ending an unknown session is nothing.
    services.unit_of_work(lambda db: admission.end_session(db, services.keys, "nope", now=now))


@pytest.mark.sqlite_only  # the search reads the database file; PostgreSQL stores the same rows
def test_the_database_holds_no_plaintext_code(services: Services, court: Court_) -> None:
    now = start_of(services, court.hearing_a)
    party_a = add_party(services, court, court.hearing_a)
    party_b = add_party(services, court, court.hearing_a, R.WITNESS, "Wit Ness")
    used = issue(services, court, court.hearing_a, party_a, now)
    failed = issue(services, court, court.hearing_a, party_b, now)
    assert isinstance(redeem(services, used.invitation, used.code, now), Redeemed)
    wrong = f"{(int(failed.code) + 7) % 10**8:08d}"
    for _ in range(3):
        redeem(services, failed.invitation, wrong, now)
    database = Path(services.engine.url.database or "")
    files = [database, database.with_name(database.name + "-wal")]
    raw = b"".join(path.read_bytes() for path in files if path.exists())
    assert files[1].exists()  # WAL mode: the newest pages live in the -wal file
    assert used.invitation.encode() in raw and failed.invitation.encode() in raw  # the search can find things
    for code in (used.code, failed.code):
        for form in (code, codes.grouped(code), code.encode().hex()):
            assert form.encode() not in raw, form


@pytest.mark.parametrize("attempt", range(3))
def test_two_concurrent_redemptions_of_one_code_give_exactly_one_success(
    services: Services, court: Court_, party: int, attempt: int
) -> None:
    now = start_of(services, court.hearing_a)
    issued = issue(services, court, court.hearing_a, party, now)
    barrier = threading.Barrier(2)
    results: list[Redeemed | Rejected] = []
    errors: list[BaseException] = []

    def attempt_once() -> None:
        def work(db: Session) -> Redeemed | Rejected:
            # Both transactions are open and have read nothing yet when they race.
            barrier.wait(timeout=10)
            return admission.redeem(db, services.keys, issued.invitation, issued.code, now=now)

        try:
            results.append(services.unit_of_work(work))
        except BaseException as exc:  # a thread's failure must reach the test
            errors.append(exc)

    if services.engine.dialect.name == "sqlite":
        # BEGIN IMMEDIATE takes the write lock at the start: the barrier would
        # wait inside one writer for the other, which waits for the lock. The
        # race is then between the two starts, after the barrier.
        def attempt_once() -> None:  # noqa: F811
            barrier.wait(timeout=10)
            try:
                results.append(redeem(services, issued.invitation, issued.code, now))
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=attempt_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(type(r).__name__ for r in results) == ["Redeemed", "Rejected"]
    (rejected,) = [r for r in results if isinstance(r, Rejected)]
    assert rejected == Rejected("used", known=True)
    sessions = services.unit_of_work(
        lambda db: db.scalars(select(RemoteSession.id).where(RemoteSession.code_id == issued.code_id)).all()
    )
    assert len(sessions) == 1
    assert actions(services).count(Action.REMOTE_CODE_USED) == 1


def test_audit_entries_carry_no_code_and_no_token(services: Services, court: Court_) -> None:
    now = start_of(services, court.hearing_a)
    party = add_party(services, court, court.hearing_a, R.DEFENCE_COUNSEL, "Adv. Berg", contact="berg@example.dk")
    issued = issue(services, court, court.hearing_a, party, now)
    redeem(services, issued.invitation, "00000000" if issued.code != "00000000" else "11111111", now)
    redeemed = redeem(services, issued.invitation, issued.code, now)
    assert isinstance(redeemed, Redeemed)
    services.unit_of_work(lambda db: admission.end_session(db, services.keys, redeemed.token, now=now))
    entries = [e for e in logged(services) if e.hearing_id == court.hearing_a]
    by_action = {e.action: e for e in entries}
    seat = f"counsel-{party}"
    assert by_action[Action.REMOTE_PARTY_ADDED].payload == {
        "participant_id": party,
        "role": "defence_counsel",
        "seat": seat,
        "language": None,
        "registered_interpreter_id": None,
    }
    assert by_action[Action.REMOTE_CODE_ISSUED].payload == {
        "participant_id": party,
        "seat": seat,
        "code_id": issued.code_id,
        "reissued": False,
        "start": issued.valid_from.isoformat(),
        "end": issued.valid_until.isoformat(),
    }
    used = by_action[Action.REMOTE_CODE_USED]
    assert (used.actor_kind, used.actor_id, used.actor_role) == ("remote", party, "defence_counsel")
    assert used.payload == {"participant_id": party, "seat": seat, "code_id": issued.code_id, "needs_totp": False}
    left = by_action[Action.PARTICIPANT_LEFT]
    assert left.actor_kind == "remote" and left.payload == {"seat": seat, "reason": "signed_out"}
    everything = repr([e.payload for e in logged(services)])
    for secret in (issued.code, codes.grouped(issued.code), redeemed.token):
        assert secret not in everything


def test_adding_and_removing_a_party_changes_the_floor_and_audits(services: Services, court: Court_) -> None:
    # A stored floor gains the new seat in the lobby, and loses it again.
    services.unit_of_work(
        lambda db: presiding._save(db, court.hearing_a, presiding.current(db, db.get_one(Hearing, court.hearing_a)))
    )
    party = add_party(services, court, court.hearing_a, R.PROSECUTOR, "Anklager Lund")
    seat = f"prosecutor-{party}"

    def floor_seats(db: Session) -> set[str]:
        return {s for s, _ in presiding.current(db, db.get_one(Hearing, court.hearing_a)).seats}

    assert seat in services.unit_of_work(floor_seats)
    now = start_of(services, court.hearing_a)
    issued = issue(services, court, court.hearing_a, party, now)
    redeemed = redeem(services, issued.invitation, issued.code, now)
    assert isinstance(redeemed, Redeemed)
    services.unit_of_work(lambda db: issuing.remove_remote_party(db, clerk(court), court.hearing_a, party))
    assert seat not in services.unit_of_work(floor_seats)
    assert services.unit_of_work(lambda db: db.get(Participant, party)) is None
    assert services.unit_of_work(lambda db: admission.load_session(db, services.keys, redeemed.token, now=now)) is None
    assert redeem(services, issued.invitation, issued.code, now) == Rejected("wrong_code", known=False)
    removed = [e for e in logged(services) if e.action == Action.REMOTE_PARTY_REMOVED]
    assert [e.payload for e in removed] == [{"participant_id": party, "seat": seat}]
    assert services.unit_of_work(lambda db: db.get(FloorRecord, court.hearing_a)) is not None


def test_bad_requests_change_nothing(services: Services, court: Court_, party: int) -> None:
    now = start_of(services, court.hearing_a)
    before = len(logged(services))
    judge = Actor("user", court.users["judge"], "judge")
    detainee = services.unit_of_work(
        lambda db: db.scalars(
            select(Participant.id).where(Participant.hearing_id == court.hearing_a, Participant.role == R.DETAINEE)
        ).one()
    )
    bad: list[tuple[type[Exception], Any]] = [
        (PermissionDenied, lambda db: issuing.add_remote_party(db, judge, court.hearing_a, R.WITNESS, "W")),
        (
            PermissionDenied,
            lambda db: issuing.add_remote_party(db, Actor("anonymous"), court.hearing_a, R.WITNESS, "W"),
        ),
        (HearingNotFound, lambda db: issuing.add_remote_party(db, SYSTEM, 99999, R.WITNESS, "W")),
        (HearingNotFound, lambda db: issuing.add_remote_party(db, SYSTEM, 2**40, R.WITNESS, "W")),
        (InvalidInput, lambda db: issuing.add_remote_party(db, SYSTEM, court.hearing_a, R.DETAINEE, "W")),
        (InvalidInput, lambda db: issuing.add_remote_party(db, SYSTEM, court.hearing_a, R.WITNESS, "")),
        (InvalidInput, lambda db: issuing.add_remote_party(db, SYSTEM, court.hearing_a, R.WITNESS, "W" * 201)),
        (InvalidInput, lambda db: issuing.add_remote_party(db, SYSTEM, court.hearing_a, R.WITNESS, "W\u202e")),
        (InvalidInput, lambda db: issuing.add_remote_party(db, SYSTEM, court.hearing_a, R.INTERPRETER, "No Language")),
        (
            InvalidInput,
            lambda db: issuing.add_remote_party(
                db, SYSTEM, court.hearing_a, R.WITNESS, "W", registered_interpreter_id=1
            ),
        ),
        (
            NotFound,
            lambda db: issuing.add_remote_party(
                db, SYSTEM, court.hearing_a, R.INTERPRETER, "I", language="x", registered_interpreter_id=999
            ),
        ),
        (
            NotRemote,
            lambda db: issuing.issue_code(
                db, services.keys, SYSTEM, court.hearing_a, detainee, now=now, early_minutes=30
            ),
        ),
        (
            NotFound,
            lambda db: issuing.issue_code(db, services.keys, SYSTEM, court.hearing_b, party, now=now, early_minutes=30),
        ),
        (
            NotFound,
            lambda db: issuing.issue_code(db, services.keys, SYSTEM, court.hearing_a, 0, now=now, early_minutes=30),
        ),
        (
            PermissionDenied,
            lambda db: issuing.issue_code(db, services.keys, judge, court.hearing_a, party, now=now, early_minutes=30),
        ),
        (
            HearingEnded,
            lambda db: issuing.issue_code(
                db, services.keys, SYSTEM, court.hearing_a, party, now=now + timedelta(days=1), early_minutes=30
            ),
        ),
        (CodeUnchanged, lambda db: issuing.revoke_code(db, SYSTEM, court.hearing_a, party, now=now)),
        (NotFound, lambda db: issuing.remove_remote_party(db, SYSTEM, court.hearing_a, detainee + 10_000)),
        (NotRemote, lambda db: issuing.remove_remote_party(db, SYSTEM, court.hearing_a, detainee)),
        (InvalidInput, lambda db: issuing.set_require_totp(db, SYSTEM, court.hearing_a, False)),
        (TotpNotEnrolled, lambda db: issuing.set_require_totp(db, SYSTEM, court.hearing_a, True)),
    ]
    for error, work in bad:
        with pytest.raises(error):
            services.unit_of_work(work)
    assert len(logged(services)) == before
    assert services.unit_of_work(lambda db: db.scalars(select(OneTimeCode)).all()) == []
    open_hearing(services, court.hearing_a, HearingState.CLOSED)
    with pytest.raises(HearingEnded):
        issue(services, court, court.hearing_a, party, now)


# --- code + TOTP ---------------------------------------------------------------------


def enrolled_interpreter(services: Services, court: Court_, now: datetime) -> tuple[int, str]:
    """A registered interpreter with a confirmed authenticator: id and secret."""
    actor = clerk(court)
    registered = services.unit_of_work(
        lambda db: register.register(db, actor, name="Samira Haddad", languages="arabisk", now=now).id
    )
    enrolment = services.unit_of_work(lambda db: register.begin_totp(db, services.keys, actor, registered))
    confirm_at = now - timedelta(minutes=10)
    code = pyotp.TOTP(enrolment.secret).at(confirm_at)
    services.unit_of_work(lambda db: register.confirm_totp(db, services.keys, actor, registered, code, now=confirm_at))
    return registered, enrolment.secret


def test_code_and_totp_where_the_hearing_requires_it(services: Services, court: Court_) -> None:
    now = start_of(services, court.hearing_a)
    registered, secret = enrolled_interpreter(services, court, now)
    party = add_party(services, court, court.hearing_a, registered_interpreter_id=registered)
    services.unit_of_work(lambda db: issuing.set_require_totp(db, clerk(court), court.hearing_a, True))
    issued = issue(services, court, court.hearing_a, party, now)
    redeemed = redeem(services, issued.invitation, issued.code, now)
    assert isinstance(redeemed, Redeemed) and redeemed.needs_totp

    def load(verified_only: bool = True) -> admission.RemoteSessionInfo | None:
        return services.unit_of_work(
            lambda db: admission.load_session(db, services.keys, redeemed.token, now=now, verified_only=verified_only)
        )

    assert load() is None  # not yet admitted to the lobby
    pending = load(verified_only=False)
    assert pending is not None and not pending.verified

    def second(code: str, at: datetime = now) -> Redeemed | Rejected:
        return services.unit_of_work(
            lambda db: admission.second_factor(db, services.keys, redeemed.token, code, now=at)
        )

    assert second("000000" if pyotp.TOTP(secret).at(now) != "000000" else "111111") == Rejected("wrong_totp", True)
    passed = second(pyotp.TOTP(secret).at(now))
    assert isinstance(passed, Redeemed) and not passed.needs_totp
    info = load()
    assert info is not None and info.verified
    entries = logged(services)
    (totp_entry,) = [e for e in entries if e.action == Action.REMOTE_TOTP_PASSED]
    assert totp_entry.actor_kind == "remote" and totp_entry.payload == {
        "participant_id": party,
        "seat": issued.seat,
        "code_id": issued.code_id,
    }
    (failed,) = [e for e in entries if e.action == Action.REMOTE_CODE_FAILED]
    assert failed.payload == {"code_id": issued.code_id, "seat": issued.seat, "attempts": 1, "reason": "wrong_totp"}


def test_a_totp_is_accepted_once_and_wrong_ones_count_against_the_codes_lock(services: Services, court: Court_) -> None:
    now = start_of(services, court.hearing_a)
    registered, secret = enrolled_interpreter(services, court, now)
    party = add_party(services, court, court.hearing_a, registered_interpreter_id=registered)
    services.unit_of_work(lambda db: issuing.set_require_totp(db, SYSTEM, court.hearing_a, True))
    first = issue(services, court, court.hearing_a, party, now)
    one = redeem(services, first.invitation, first.code, now)
    assert isinstance(one, Redeemed)
    good = pyotp.TOTP(secret).at(now)
    assert isinstance(
        services.unit_of_work(lambda db: admission.second_factor(db, services.keys, one.token, good, now=now)), Redeemed
    )
    # A second browser with a fresh code cannot reuse the same TOTP step.
    second = issue(services, court, court.hearing_a, party, now)
    two = redeem(services, second.invitation, second.code, now)
    assert isinstance(two, Redeemed) and two.needs_totp
    replay = services.unit_of_work(lambda db: admission.second_factor(db, services.keys, two.token, good, now=now))
    assert replay == Rejected("wrong_totp", known=True)
    # One failure already; four more wrong TOTPs reach the lock, and the session ends.
    for _ in range(codes.MAX_FAILURES - 1):
        services.unit_of_work(lambda db: admission.second_factor(db, services.keys, two.token, "123", now=now))
    assert code_row(services, second.code_id).locked_at is not None
    later = now + timedelta(seconds=90)
    fresh = pyotp.TOTP(secret).at(later)
    gone = services.unit_of_work(lambda db: admission.second_factor(db, services.keys, two.token, fresh, now=later))
    assert gone == Rejected(admission.SESSION_ENDED, known=False)
    assert Action.REMOTE_CODE_LOCKED in actions(services)


def test_totp_required_but_not_enrolled_is_refused_to_the_clerk_not_at_the_door(
    services: Services, court: Court_, party: int
) -> None:
    now = start_of(services, court.hearing_a)
    witness = add_party(services, court, court.hearing_a, R.WITNESS, "Wit Ness")
    with pytest.raises(TotpNotEnrolled):
        services.unit_of_work(lambda db: issuing.set_require_totp(db, SYSTEM, court.hearing_a, True))
    registered, _secret = enrolled_interpreter(services, court, now)
    services.unit_of_work(lambda db: issuing.remove_remote_party(db, SYSTEM, court.hearing_a, party))
    services.unit_of_work(lambda db: issuing.set_require_totp(db, SYSTEM, court.hearing_a, True))
    # Once it is required, an interpreter without an authenticator is not added...
    with pytest.raises(TotpNotEnrolled):
        add_party(services, court, court.hearing_a, name="Unregistered")
    # ...the witness (no register for witnesses) joins by the code alone...
    issued = issue(services, court, court.hearing_a, witness, now)
    plain = redeem(services, issued.invitation, issued.code, now)
    assert isinstance(plain, Redeemed) and not plain.needs_totp
    # ...and an interpreter whose registration ends after the code was issued is refused at the door.
    linked = add_party(services, court, court.hearing_a, registered_interpreter_id=registered)
    late = issue(services, court, court.hearing_a, linked, now)
    services.unit_of_work(lambda db: register.disable(db, SYSTEM, registered, now=now))
    assert redeem(services, late.invitation, late.code, now) == Rejected("wrong_totp", known=True)
    assert code_row(services, late.code_id).failed_attempts == 0 and code_row(services, late.code_id).used_at is None


def test_the_booked_interpreter_gets_a_code_and_keeps_the_bookings_language(services: Services, court: Court_) -> None:
    # Booking adds "Interpreter (arabisk)" as a remote party without a language of its own.
    def booked(db: Session) -> int:
        hearing = db.get_one(Hearing, court.hearing_a)
        hearing.interpreter_language = "arabisk"
        party = Participant(
            hearing_id=hearing.id,
            role=R.INTERPRETER,
            display_name="Interpreter (arabisk)",
            connection=Connection.REMOTE,
        )
        db.add(party)
        db.flush()
        return party.id

    party = services.unit_of_work(booked)
    now = start_of(services, court.hearing_a)
    (listed,) = services.unit_of_work(lambda db: issuing.remote_parties(db, court.hearing_a, now=now))
    assert (listed.participant_id, listed.language, listed.code_state) == (party, "arabisk", "none")
    issued = issue(services, court, court.hearing_a, party, now)
    redeemed = redeem(services, issued.invitation, issued.code, now)
    assert isinstance(redeemed, Redeemed)
    info = services.unit_of_work(lambda db: admission.load_session(db, services.keys, redeemed.token, now=now))
    assert info is not None and info.language == "arabisk"

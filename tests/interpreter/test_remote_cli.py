"""`hearing remote ...` and `hearing interpreter ...`: each command works,
and each refuses malformed, oversized and unknown input with its stable
code, exit 2, and nothing changed."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyotp
import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from hearing.config import load_settings
from hearing.db.models import AuditEntry, Hearing, OneTimeCode, Participant, RegisteredInterpreter, RemoteSession
from hearing.interpreter import admission, codes
from hearing.interpreter.admission import Redeemed
from hearing.services import Services
from tests.conftest import CliRun

CPH = ZoneInfo("Europe/Copenhagen")
MODELS = (Participant, OneTimeCode, RemoteSession, RegisteredInterpreter, AuditEntry, Hearing)


def counts() -> tuple[int, ...]:
    with Services.from_settings(load_settings()) as svc:
        return svc.unit_of_work(lambda db: tuple(db.scalar(select(func.count()).select_from(m)) for m in MODELS))


def assert_refused(cli: CliRun, *args: str, error: str) -> str:
    before = counts()
    code, out, err = cli(*args)
    assert code == 2 and err.startswith(f"error: {error}:"), (code, out, err)
    assert counts() == before
    return err


def book(cli: CliRun, *extra: str) -> int:
    start = (datetime.now(CPH) + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M")
    code, out, err = cli(
        "schedule",
        "--case",
        "SS 1-77/2026",
        "--courtroom",
        "Retssal 3",
        "--facility",
        "Arresthuset",
        "--start",
        start,
        "--minutes",
        "45",
        "--detainee-name",
        "Jens Hansen",
        "--detainee-ref",
        "R-1",
        *extra,
    )
    assert code == 0, err
    found = re.search(r"hearing (\d+) booked", out)
    assert found, out
    return int(found.group(1))


def issued_code(out: str) -> tuple[str, str]:
    code = re.search(r"code:\s+(\d{4} \d{4})", out)
    join = re.search(r"join:\s+\S+/join/([a-z2-9]{10})", out)
    assert code and join, out
    return code.group(1).replace(" ", ""), join.group(1)


def redeem(invitation: str, code: str) -> object:
    with Services.from_settings(load_settings()) as svc:
        start = svc.unit_of_work(lambda db: db.scalars(select(Hearing.scheduled_start)).first())
        assert start is not None
        return svc.unit_of_work(lambda db: admission.redeem(db, svc.keys, invitation, code, now=start))


def participant_of(hearing: int, name: str) -> int:
    with Services.from_settings(load_settings()) as svc:
        query = select(Participant.id).where(Participant.hearing_id == hearing, Participant.display_name == name)
        return svc.unit_of_work(lambda db: db.scalars(query).one())


def test_issue_prints_the_code_once_with_the_invitation_and_writes_the_calendar(cli: CliRun, tmp_path: Path) -> None:
    hearing = book(cli, "--interpreter", "arabisk")
    ics = tmp_path / "invitation.ics"
    code, out, err = cli(
        "remote",
        "issue",
        "--hearing",
        str(hearing),
        "--role",
        "interpreter",
        "--name",
        "Samira Haddad",
        "--contact",
        "samira@example.dk",
        "--ics",
        str(ics),
    )
    assert code == 0, err
    secret, invitation = issued_code(out)
    assert "Retsmøde via video – sag SS 1-77/2026" in out and "Video hearing – case SS 1-77/2026" in out
    assert out.index("Retsmøde") < out.index("Video hearing")
    assert "tolk (arabisk)" in out  # the booking's language, when none is given
    assert "Jens Hansen" not in out  # never the detainee's name
    event = Calendar.from_ical(ics.read_bytes()).walk("VEVENT")[0]
    assert str(event["URL"]).endswith(f"/join/{invitation}")
    assert secret.encode() not in ics.read_bytes()

    # The list shows the party and the state of their code, never the code.
    code, listed, _ = cli("remote", "list", "--hearing", str(hearing))
    assert code == 0 and "Samira Haddad (arabisk)" in listed and "code: live" in listed
    assert secret not in listed and codes.grouped(secret) not in listed
    code, as_json, _ = cli("remote", "list", "--hearing", str(hearing), "--json")
    assert code == 0 and '"code_state": "live"' in as_json and secret not in as_json

    # The same name again is the same party, with a new code; the old one is dead.
    code, again, _ = cli(
        "remote", "issue", "--hearing", str(hearing), "--role", "interpreter", "--name", "Samira Haddad"
    )
    assert code == 0 and "the earlier one no longer works" in again
    second, second_invitation = issued_code(again)
    assert second_invitation != invitation
    assert redeem(invitation, secret) == admission.Rejected("revoked", known=True)
    assert isinstance(redeem(second_invitation, second), Redeemed)
    _, listed, _ = cli("remote", "list", "--hearing", str(hearing))
    assert listed.count("Samira Haddad") == 1 and "code: used" in listed


def test_revoke_remove_and_require_totp(cli: CliRun) -> None:
    hearing = book(cli)
    code, out, err = cli("remote", "issue", "--hearing", str(hearing), "--role", "witness", "--name", "Wit Ness")
    assert code == 0, err
    secret, invitation = issued_code(out)
    party = participant_of(hearing, "Wit Ness")
    code, out, _ = cli("remote", "revoke", "--hearing", str(hearing), "--participant", str(party))
    assert code == 0 and "revoked" in out
    assert redeem(invitation, secret) == admission.Rejected("revoked", known=True)
    assert cli("remote", "require-totp", "--hearing", str(hearing), "on")[0] == 0
    assert cli("remote", "require-totp", "--hearing", str(hearing), "off")[0] == 0
    code, out, _ = cli("remote", "remove", "--hearing", str(hearing), "--participant", str(party))
    assert code == 0 and "removed" in out
    _, listed, _ = cli("remote", "list", "--hearing", str(hearing))
    assert "no remote parties" in listed


def test_the_register_enrolment_and_a_hearing_that_requires_totp(cli: CliRun) -> None:
    code, out, err = cli("interpreter", "register", "--name", "Samira Haddad", "--languages", "arabisk,  fransk")
    assert code == 0, err
    entry = int(re.search(r"interpreter (\d+) registered", out).group(1))  # type: ignore[union-attr]
    code, out, _ = cli("interpreter", "list")
    assert "arabisk, fransk" in out and "no totp" in out
    code, out, _ = cli("interpreter", "enrol-totp", str(entry))
    assert code == 0 and "█" in out  # the terminal QR
    uri = re.search(r"(otpauth://totp/\S+)", out)
    assert uri and "issuer=Hearing" in uri.group(1)
    secret = pyotp.parse_uri(uri.group(1)).secret
    assert_refused(
        cli,
        "interpreter",
        "confirm-totp",
        str(entry),
        "000000" if pyotp.TOTP(secret).now() != "000000" else "111111",
        error="authentication_failed",
    )
    assert cli("interpreter", "confirm-totp", str(entry), pyotp.TOTP(secret).now())[0] == 0
    assert "totp" in cli("interpreter", "list")[1]

    hearing = book(cli)
    assert_refused(
        cli,
        "remote",
        "issue",
        "--hearing",
        str(hearing),
        "--role",
        "interpreter",
        "--name",
        "Unregistered",
        "--language",
        "arabisk",
        "--registered",
        str(entry + 1),
        error="not_found",
    )
    code, out, err = cli(
        "remote",
        "issue",
        "--hearing",
        str(hearing),
        "--role",
        "interpreter",
        "--name",
        "Samira Haddad",
        "--language",
        "arabisk",
        "--registered",
        str(entry),
    )
    assert code == 0, err
    assert cli("remote", "require-totp", "--hearing", str(hearing), "on")[0] == 0
    # A second interpreter without an authenticator cannot join a hearing that requires one.
    assert_refused(
        cli,
        "remote",
        "issue",
        "--hearing",
        str(hearing),
        "--role",
        "interpreter",
        "--name",
        "Other",
        "--language",
        "fransk",
        error="totp_not_enrolled",
    )
    _, listed, _ = cli("remote", "list", "--hearing", str(hearing))
    assert "totp" in listed
    assert cli("interpreter", "disable", str(entry))[0] == 0
    assert_refused(cli, "interpreter", "disable", str(entry), error="account_unchanged")
    assert "off the register" in cli("interpreter", "list")[1]


BAD_IDS = ["x", "", "٣", "１", "+1", "1_0", "-1", "9" * 19, "9" * 10_000]


@pytest.mark.parametrize("raw", BAD_IDS)
def test_malformed_and_oversized_ids_are_refused(cli: CliRun, raw: str) -> None:
    hearing = book(cli)
    party_args = ["--role", "witness", "--name", "W"]
    assert_refused(cli, "remote", "issue", "--hearing", raw, *party_args, error="invalid_input")
    assert_refused(
        cli, "remote", "issue", "--hearing", str(hearing), *party_args, "--registered", raw, error="invalid_input"
    )
    assert_refused(cli, "remote", "revoke", "--hearing", raw, "--participant", "1", error="invalid_input")
    assert_refused(cli, "remote", "revoke", "--hearing", str(hearing), "--participant", raw, error="invalid_input")
    assert_refused(cli, "remote", "remove", "--hearing", str(hearing), "--participant", raw, error="invalid_input")
    assert_refused(cli, "remote", "list", "--hearing", raw, error="invalid_input")
    assert_refused(cli, "remote", "require-totp", "--hearing", raw, "on", error="invalid_input")
    assert_refused(cli, "interpreter", "enrol-totp", raw, error="invalid_input")
    assert_refused(cli, "interpreter", "confirm-totp", raw, "123456", error="invalid_input")
    assert_refused(cli, "interpreter", "disable", raw, error="invalid_input")


def test_unknown_ids_are_refused(cli: CliRun) -> None:
    hearing = book(cli)
    detainee = participant_of(hearing, "Jens Hansen")
    for unknown in ("999999", str(2**31), "9" * 18):
        assert_refused(
            cli, "remote", "issue", "--hearing", unknown, "--role", "witness", "--name", "W", error="hearing_not_found"
        )
        assert_refused(cli, "remote", "list", "--hearing", unknown, error="hearing_not_found")
        assert_refused(cli, "remote", "require-totp", "--hearing", unknown, "on", error="hearing_not_found")
        assert_refused(cli, "remote", "revoke", "--hearing", str(hearing), "--participant", unknown, error="not_found")
        assert_refused(cli, "remote", "remove", "--hearing", str(hearing), "--participant", unknown, error="not_found")
        assert_refused(cli, "interpreter", "enrol-totp", unknown, error="not_found")
        assert_refused(cli, "interpreter", "confirm-totp", unknown, "123456", error="not_found")
        assert_refused(cli, "interpreter", "disable", unknown, error="not_found")
    # The detainee is no remote party: no code for them, and they are not removed here.
    assert_refused(
        cli, "remote", "revoke", "--hearing", str(hearing), "--participant", str(detainee), error="not_remote"
    )
    assert_refused(
        cli, "remote", "remove", "--hearing", str(hearing), "--participant", str(detainee), error="not_remote"
    )


def test_bad_text_and_bad_states_are_refused(cli: CliRun, tmp_path: Path) -> None:
    hearing = book(cli)
    issue = ["remote", "issue", "--hearing", str(hearing), "--role", "witness"]
    for name in ("", " ", "W" * 201, "Jens \u202eneshnaH", "W\u200b", "W\x7f"):
        assert_refused(cli, *issue, "--name", name, error="invalid_input")
    assert_refused(cli, *issue, "--name", "W", "--contact", "c" * 201, error="invalid_input")
    assert_refused(cli, *issue, "--name", "W", "--language", "l" * 65, error="invalid_input")
    assert_refused(cli, *issue, "--name", "W", "--registered", "1", error="invalid_input")  # only interpreters
    assert_refused(cli, *issue, "--name", "W", "--ics", str(tmp_path / "missing" / "x.ics"), error="invalid_input")
    assert_refused(cli, *issue, "--name", "W", "--ics", str(tmp_path), error="invalid_input")
    assert_refused(cli, *issue[:-1], "interpreter", "--name", "No Language", error="invalid_input")
    assert_refused(cli, "remote", "require-totp", "--hearing", str(hearing), "off", error="invalid_input")
    for languages in ("", ",", "arabisk,,fransk", "l" * 201):
        assert_refused(cli, "interpreter", "register", "--name", "N", "--languages", languages, error="invalid_input")
    assert_refused(cli, "interpreter", "register", "--name", "N" * 201, "--languages", "arabisk", error="invalid_input")
    code, out, _ = cli("interpreter", "register", "--name", "Samira", "--languages", "arabisk")
    entry = re.search(r"interpreter (\d+) registered", out).group(1)  # type: ignore[union-attr]
    assert_refused(cli, "interpreter", "confirm-totp", entry, "123456", error="account_unchanged")  # no secret yet
    # A code for a party with no live code cannot be revoked.
    assert cli(*issue, "--name", "W")[0] == 0
    party = participant_of(hearing, "W")
    assert cli("remote", "revoke", "--hearing", str(hearing), "--participant", str(party))[0] == 0
    assert_refused(
        cli, "remote", "revoke", "--hearing", str(hearing), "--participant", str(party), error="code_unchanged"
    )


@pytest.mark.sqlite_only
def test_unknown_roles_and_settings_are_argument_errors(cli: CliRun) -> None:
    for args in (
        ["remote", "issue", "--hearing", "1", "--role", "detainee", "--name", "W"],
        ["remote", "issue", "--hearing", "1", "--role", "judge", "--name", "W"],
        ["remote", "require-totp", "--hearing", "1", "maybe"],
    ):
        before = counts()
        with pytest.raises(SystemExit) as info:
            cli(*args)
        assert info.value.code == 2 and counts() == before

"""The clerk's remote parties over HTTP (issue 12): adding a party, the code
shown once with the invitation, its calendar file, re-issuing, revoking,
removing, the hearing's TOTP requirement; and every refusal changes nothing."""

from __future__ import annotations

import re
from typing import Any

import icalendar
import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from hearing.db.models import AuditEntry, Hearing, OneTimeCode, Participant
from hearing.docket.lifecycle import HearingState
from hearing.docket.parties import Connection, ParticipantRole
from hearing.services import Services
from hearing.web import shown_once
from hearing.web.remote_parties import ROUTES
from tests.conftest import Court_, csrf_token, logged, login_as, open_hearing

# The tests' settings have Secure cookies, hence the __Host- prefix.
ONCE = f"__Host-{shown_once._NAME}"
CODE = re.compile(r'data-role="code">(\d{4} \d{4})<')


@pytest.fixture
def clerk(client: TestClient, services: Services, court: Court_) -> TestClient:
    login_as(client, services, court.users["clerk"])
    return client


def page_of(client: TestClient, hearing_id: int) -> str:
    response = client.get(f"/hearings/{hearing_id}")
    assert response.status_code == 200, response.text
    return response.text


def post(client: TestClient, path: str, data: dict[str, str] | None = None, *, token: str | None = None) -> Any:
    fields = {"csrf_token": token if token is not None else csrf_token(client, "/interpreters"), **(data or {})}
    return client.post(path, data=fields)


def add_interpreter(client: TestClient, hearing_id: int, **extra: str) -> Any:
    data = {"role": "interpreter", "name": "Amira Haddad", "language": "arabisk", "contact": "amira@example.dk"}
    return post(client, f"/hearings/{hearing_id}/remote", {**data, **extra})


def remote_parties(services: Services, hearing_id: int) -> list[Participant]:
    query = select(Participant).where(Participant.hearing_id == hearing_id, Participant.connection == Connection.REMOTE)
    return services.unit_of_work(lambda db: list(db.scalars(query)))


def the_party(services: Services, hearing_id: int) -> int:
    (party,) = remote_parties(services, hearing_id)
    return party.id


def changes(services: Services) -> tuple[int, int, int]:
    """How many audit entries, remote parties and codes there are: a refusal moves none of them."""

    def count(db: Any) -> tuple[int, int, int]:
        return (
            db.scalar(select(func.count()).select_from(AuditEntry)),
            db.scalar(select(func.count()).select_from(Participant)),
            db.scalar(select(func.count()).select_from(OneTimeCode)),
        )

    return services.unit_of_work(count)


def issue(client: TestClient, hearing_id: int, party: int) -> tuple[Any, Any]:
    """Issue a code: the POST's answer (a redirect) and the page it leads to."""
    issued = post(client, f"/hearings/{hearing_id}/remote/{party}/code")
    assert issued.status_code == 303, issued.text
    return issued, client.get(issued.headers["location"])


def test_the_clerk_adds_an_interpreter_and_the_code_is_shown_once(
    clerk: TestClient, services: Services, court: Court_
) -> None:
    h = court.hearing_a
    assert "Remote parties" in page_of(clerk, h) and "No remote parties yet." in page_of(clerk, h)
    added = add_interpreter(clerk, h)
    assert (added.status_code, added.headers["location"]) == (303, f"/hearings/{h}#remote-parties")
    party = the_party(services, h)
    page = page_of(clerk, h)
    assert "Amira Haddad" in page and "arabisk" in page and "amira@example.dk" in page and "No code yet" in page

    issued, shown = issue(clerk, h, party)
    assert issued.headers["location"] == f"/hearings/{h}/remote/{party}/code"
    assert CODE.search(issued.text) is None  # the redirect carries no code in its body
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    match = CODE.search(shown.text)
    assert match, shown.text
    code = match.group(1)
    # The invitation, Danish first, then English, with the code and the join address.
    assert "Retsmøde via video" in shown.text and "Video hearing" in shown.text
    assert shown.text.index("Retsmøde via video") < shown.text.index("Video hearing – case")
    assert shown.text.count(code) >= 3  # the code, and in each language of the invitation
    invitation = services.unit_of_work(lambda db: db.scalar(select(OneTimeCode.invitation)))
    assert f"/join/{invitation}" in shown.text
    assert "shown this once only" in shown.text
    # The answer took the code's cookie away with it.
    assert shown_once._NAME in shown.headers["set-cookie"] and "Max-Age=0" in shown.headers["set-cookie"]

    again = clerk.get(f"/hearings/{h}/remote/{party}/code")
    assert again.status_code == 200 and again.headers["cache-control"] == "no-store"
    assert code not in again.text and CODE.search(again.text) is None
    assert "has been shown and is gone" in again.text
    assert code not in page_of(clerk, h) and "Live from" in page_of(clerk, h)
    actions = [e.action for e in logged(services)]
    assert actions[-2:] == ["remote.party_added", "remote.code_issued"]
    assert all(code.replace(" ", "") not in str(e.payload) for e in logged(services))


def test_the_calendar_file_parses_and_carries_no_code(clerk: TestClient, services: Services, court: Court_) -> None:
    h = court.hearing_a
    add_interpreter(clerk, h)
    party = the_party(services, h)
    assert clerk.get(f"/hearings/{h}/remote/{party}/invitation.ics").status_code == 404  # no code yet
    _, shown = issue(clerk, h, party)
    code = CODE.search(shown.text).group(1)  # type: ignore[union-attr]
    response = clerk.get(f"/hearings/{h}/remote/{party}/invitation.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.headers["content-disposition"] == 'attachment; filename="hearing-SS-1-100-2026.ics"'
    calendar = icalendar.Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    assert "SS 1-100/2026" in str(event["summary"])
    invitation = services.unit_of_work(lambda db: db.scalar(select(OneTimeCode.invitation)))
    assert str(event["url"]).endswith(f"/join/{invitation}")
    assert code not in response.text and code.replace(" ", "") not in response.text


def test_re_issuing_revokes_the_earlier_code_and_its_page_shows_nothing(
    clerk: TestClient, services: Services, court: Court_
) -> None:
    h = court.hearing_a
    add_interpreter(clerk, h)
    party = the_party(services, h)
    first = post(clerk, f"/hearings/{h}/remote/{party}/code")
    held = first.cookies[ONCE]  # the first code, not yet shown
    _, second = issue(clerk, h, party)
    assert CODE.search(second.text)
    assert "Re-issue code" in page_of(clerk, h)
    # The first code's hand-over, replayed: its code is no longer the live one.
    clerk.cookies.set(ONCE, held)
    stale = clerk.get(f"/hearings/{h}/remote/{party}/code")
    assert CODE.search(stale.text) is None and "has been shown and is gone" in stale.text
    states = services.unit_of_work(lambda db: [c.revoked_at is not None for c in db.scalars(select(OneTimeCode))])
    assert sorted(states) == [False, True]


def test_the_hand_over_is_bound_to_the_session_and_cannot_be_forged(
    client: TestClient, services: Services, court: Court_
) -> None:
    h = court.hearing_a
    login_as(client, services, court.users["clerk"])
    add_interpreter(client, h)
    party = the_party(services, h)
    issued = post(client, f"/hearings/{h}/remote/{party}/code")
    held = issued.cookies[ONCE]
    # Another session of the same clerk (another browser) is not shown it.
    client.cookies.clear()
    login_as(client, services, court.users["clerk"])
    for cookie in (held, "x", "A" * 2000, "!!!", held[:-4] + "AAAA", held[:20]):
        client.cookies.set(ONCE, cookie)
        response = client.get(f"/hearings/{h}/remote/{party}/code")
        assert response.status_code == 200 and CODE.search(response.text) is None
        assert "has been shown and is gone" in response.text


def test_revoke_and_remove(clerk: TestClient, services: Services, court: Court_) -> None:
    h = court.hearing_a
    add_interpreter(clerk, h)
    party = the_party(services, h)
    revoked = post(clerk, f"/hearings/{h}/remote/{party}/revoke")
    assert revoked.status_code == 409 and "code_unchanged" in revoked.text  # nothing to revoke yet
    issue(clerk, h, party)
    assert post(clerk, f"/hearings/{h}/remote/{party}/revoke").status_code == 303
    assert "Revoked" in page_of(clerk, h)
    before = changes(services)
    again = post(clerk, f"/hearings/{h}/remote/{party}/revoke")
    assert again.status_code == 409 and "code_unchanged" in again.text
    assert changes(services) == before
    assert post(clerk, f"/hearings/{h}/remote/{party}/remove").status_code == 303
    assert remote_parties(services, h) == []
    assert [e.action for e in logged(services)][-2:] == ["remote.code_revoked", "remote.party_removed"]
    assert post(clerk, f"/hearings/{h}/remote/{party}/remove").status_code == 404


def test_the_hearing_can_require_registered_interpreters_authenticator(
    clerk: TestClient, services: Services, court: Court_
) -> None:
    h = court.hearing_a
    page = page_of(clerk, h)
    assert "do not need their authenticator" in page and "Require the authenticator" in page
    assert post(clerk, f"/hearings/{h}/remote/totp", {"require_totp": "on"}).status_code == 303
    assert services.unit_of_work(lambda db: db.get_one(Hearing, h).require_totp) is True
    assert "must use their authenticator" in page_of(clerk, h)
    # An interpreter with no authenticator cannot be invited to such a hearing: said now, nothing added.
    before = changes(services)
    refused = add_interpreter(clerk, h)
    assert refused.status_code == 400 and "totp_not_enrolled" in refused.text
    assert "Amira Haddad" in refused.text  # the form again, as it was filled in
    assert changes(services) == before
    assert post(clerk, f"/hearings/{h}/remote/totp", {"require_totp": "off"}).status_code == 303
    assert services.unit_of_work(lambda db: db.get_one(Hearing, h).require_totp) is False
    for bad in ({"require_totp": "yes"}, {}, {"require_totp": "on", "extra": "1"}):
        assert post(clerk, f"/hearings/{h}/remote/totp", bad).status_code == 400


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"role": "judge"}, "invalid_input"),
        ({"role": "detainee"}, "invalid_input"),
        ({"role": ""}, "invalid_input"),
        ({"name": ""}, "invalid_input"),
        ({"name": "x" * 201}, "invalid_input"),
        ({"name": "Amira\u202eHaddad"}, "invalid_input"),
        ({"contact": "y" * 201}, "invalid_input"),
        ({"language": "z" * 65}, "invalid_input"),
        ({"language": ""}, "invalid_input"),  # an interpreter's language (the booking has none)
        ({"registered_interpreter_id": "x"}, "invalid_input"),
        ({"registered_interpreter_id": "9" * 30}, "invalid_input"),
        ({"registered_interpreter_id": "12345"}, "not_found"),
        ({"surprise": "1"}, "invalid_input"),
    ],
)
def test_a_bad_party_is_refused_with_the_form_again_and_nothing_is_added(
    clerk: TestClient, services: Services, court: Court_, fields: dict[str, str], code: str
) -> None:
    before = changes(services)
    response = add_interpreter(clerk, court.hearing_a, **fields)
    assert response.status_code in (400, 404), response.text
    assert f"<code>{code}</code>" in response.text and 'role="alert"' in response.text
    assert changes(services) == before


def test_forms_without_csrf_or_oversized_change_nothing(clerk: TestClient, services: Services, court: Court_) -> None:
    h = court.hearing_a
    add_interpreter(clerk, h)
    party = the_party(services, h)
    before = changes(services)
    for path in [f"/hearings/{h}/remote", f"/hearings/{h}/remote/totp", f"/hearings/{h}/remote/{party}/code"]:
        for token in ("", "0" * 64, "not a token"):
            response = post(clerk, path, {"role": "witness", "name": "W", "require_totp": "on"}, token=token)
            assert response.status_code == 403 and "csrf_rejected" in response.text, path
        huge = clerk.post(path, data={"csrf_token": csrf_token(clerk, "/interpreters"), "name": "x" * 3000})
        assert huge.status_code in (400, 413), path
        flood = clerk.post(
            path, content=b"a=" + b"b" * 2_000_000, headers={"content-type": "application/x-www-form-urlencoded"}
        )
        assert flood.status_code == 413, path
    assert changes(services) == before


def test_other_hearings_parties_and_wrong_ids_are_not_found(
    clerk: TestClient, services: Services, court: Court_
) -> None:
    add_interpreter(clerk, court.hearing_a)
    party = the_party(services, court.hearing_a)
    before = changes(services)
    # Hearing A's party through hearing B's address: no such party there.
    for action in ("code", "revoke", "remove"):
        assert post(clerk, f"/hearings/{court.hearing_b}/remote/{party}/{action}").status_code == 404
    assert clerk.get(f"/hearings/{court.hearing_b}/remote/{party}/invitation.ics").status_code == 404
    assert post(clerk, f"/hearings/999999/remote/{party}/code").status_code == 404
    # A party booked in the courtroom has no code.
    courtroom = services.unit_of_work(
        lambda db: db.scalar(
            select(Participant.id).where(
                Participant.hearing_id == court.hearing_a, Participant.role == ParticipantRole.PROSECUTOR
            )
        )
    )
    refused = post(clerk, f"/hearings/{court.hearing_a}/remote/{courtroom}/code")
    assert refused.status_code == 400 and "not_remote" in refused.text
    assert changes(services) == before


@pytest.mark.parametrize("role", ["judge", "custody_officer", "auditor", "admin"])
def test_only_the_clerk_invites(client: TestClient, services: Services, court: Court_, role: str) -> None:
    h = court.hearing_a
    login_as(client, services, court.users["clerk"])
    add_interpreter(client, h)
    party = the_party(services, h)
    client.cookies.clear()
    login_as(client, services, court.users[role])
    token = csrf_token(client, "/signin")
    before = changes(services)
    for path in [f"/hearings/{h}/remote", f"/hearings/{h}/remote/totp", f"/hearings/{h}/remote/{party}/code"]:
        response = client.post(path, data={"csrf_token": token, "role": "witness", "name": "W", "require_totp": "on"})
        assert response.status_code == 403 and "permission_denied" in response.text
    for path in [f"/hearings/{h}/remote/{party}/code", f"/hearings/{h}/remote/{party}/invitation.ics", "/interpreters"]:
        assert client.get(path).status_code == 403
    # Each refusal is recorded (access.denied), nothing else.
    assert changes(services)[1:] == before[1:]
    if role != "auditor":
        assert "Remote parties" not in client.get(f"/hearings/{h}").text


def test_a_party_added_while_the_hearing_runs_is_on_the_panel_at_once(
    clerk: TestClient, services: Services, court: Court_
) -> None:
    """The clerk follows the hearing's panel too: it is told of the new seat
    (waiting in the lobby) and of its going, without a reload."""
    h = court.hearing_a
    open_hearing(services, h, HearingState.IN_SESSION)
    with clerk.websocket_connect(f"/ws/hearings/{h}/panel") as panel:
        assert panel.receive_json()["type"] == "snapshot"
        add_interpreter(clerk, h)
        seat = f"interpreter-{the_party(services, h)}"
        floor = next_floor(panel)
        assert floor["seats"][seat] == "interpreter" and seat not in floor["admitted"]
        snapshot = clerk.get(f"/hearings/{h}/floor", headers={"Accept": "application/json"}).json()
        assert snapshot["people"][seat] == [{"role": "interpreter", "name": "Amira Haddad", "language": "arabisk"}]
        post(clerk, f"/hearings/{h}/remote/{the_party(services, h)}/remove")
        assert seat not in next_floor(panel)["seats"]


def next_floor(panel: Any) -> dict[str, Any]:
    while True:
        message = panel.receive_json()
        if message["type"] == "floor":
            floor: dict[str, Any] = message["floor"]
            return floor


def test_every_route_here_is_the_clerks() -> None:
    for route in ROUTES:
        assert route.permission is not None and route.permission.value == "invite_remote", route.path


def test_the_booked_interpreter_is_listed_with_the_bookings_language(
    clerk: TestClient, services: Services, court: Court_
) -> None:
    """The booking's "Interpreter (arabisk) — remote" is a remote party the
    clerk can issue a code to, and the panel (its lobby card) says the
    booking's language."""
    h = court.hearing_a

    def book(db: Any) -> int:
        db.get_one(Hearing, h).interpreter_language = "arabisk"
        party = Participant(
            hearing_id=h, role=ParticipantRole.INTERPRETER, display_name="Interpreter", connection=Connection.REMOTE
        )
        db.add(party)
        db.flush()
        return int(party.id)

    party = services.unit_of_work(book)
    row = re.search(rf'<tr data-party="{party}">(.*?)</tr>', page_of(clerk, h), re.S)
    assert row and "arabisk" in row.group(1) and "No code yet" in row.group(1)
    snapshot = clerk.get(f"/hearings/{h}/floor", headers={"Accept": "application/json"}).json()
    assert snapshot["people"][f"interpreter-{party}"] == [
        {"role": "interpreter", "name": "Interpreter", "language": "arabisk"}
    ]
    _, shown = issue(clerk, h, party)
    assert "tolk (arabisk)" in shown.text and "interpreter (arabisk)" in shown.text


def test_an_ended_hearings_parties_are_listed_and_no_longer_changed(
    clerk: TestClient, services: Services, court: Court_
) -> None:
    h = court.hearing_a
    add_interpreter(clerk, h)
    party = the_party(services, h)
    open_hearing(services, h, HearingState.CLOSED)
    page = page_of(clerk, h)
    assert "Amira Haddad" in page and "can no longer be changed" in page and "remote-add" not in page
    before = changes(services)
    for action in ("code", "revoke", "remove"):
        response = post(clerk, f"/hearings/{h}/remote/{party}/{action}")
        assert response.status_code == 409 and "hearing_ended" in response.text, action
    refused = add_interpreter(clerk, h)
    assert refused.status_code == 409 and "hearing_ended" in refused.text
    assert changes(services) == before

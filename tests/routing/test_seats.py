"""Seats follow the docket: who is booked, and where each joins from."""

from __future__ import annotations

import pytest

from hearing.docket.parties import Connection as C
from hearing.docket.parties import EndpointKind
from hearing.docket.parties import ParticipantRole as R
from hearing.routing import seats
from hearing.routing.seats import Party, Seat, Seating, seating


def test_counsel_in_the_courtroom_speaks_from_there_and_confers_from_the_booth() -> None:
    plan = seating(
        [
            Party(1, R.DETAINEE, C.CUSTODY, "Ali Hassan"),
            Party(2, R.PROSECUTOR, C.COURTROOM, "Anklager Holm"),
            Party(3, R.DEFENCE_COUNSEL, C.COURTROOM, "Advokat Berg"),
        ]
    )
    assert [s.id for s in plan.seats] == ["judge", "courtroom", "custody", "booth"]
    assert plan.speakers == {
        "courtroom": (R.PROSECUTOR, R.DEFENCE_COUNSEL),
        "custody": (R.DETAINEE, R.CUSTODY_OFFICER),
    }
    assert plan.consultation == {"custody", "booth"}
    assert plan.people()["courtroom"] == [
        {"role": "prosecutor", "name": "Anklager Holm"},
        {"role": "defence_counsel", "name": "Advokat Berg"},
    ]
    assert plan.roles == {"judge": R.JUDGE, "courtroom": R.JUDGE, "custody": R.DETAINEE, "booth": R.DEFENCE_COUNSEL}


def test_counsel_with_the_detainee_speaks_from_custody_and_no_booth_is_needed() -> None:
    plan = seating([Party(1, R.DETAINEE, C.CUSTODY, "A"), Party(3, R.DEFENCE_COUNSEL, C.CUSTODY, "B")])
    assert "booth" not in plan
    assert plan.speakers["custody"] == (R.DETAINEE, R.DEFENCE_COUNSEL, R.CUSTODY_OFFICER)
    assert "courtroom" not in plan.speakers  # no one booked in the courtroom asks to speak
    assert plan.consultation == {"custody"}


def test_each_remote_participant_has_a_seat_of_their_own() -> None:
    plan = seating(
        [
            Party(7, R.INTERPRETER, C.REMOTE, "Tolk (arabisk)"),
            Party(8, R.DEFENCE_COUNSEL, C.REMOTE, "Advokat Berg"),
            Party(9, R.OBSERVER, C.REMOTE, "Observer"),
        ],
        detainee_name="Ali Hassan",
    )
    assert plan["interpreter-7"] == Seat(
        "interpreter-7", R.INTERPRETER, (R.INTERPRETER,), (Party(7, R.INTERPRETER, C.REMOTE, "Tolk (arabisk)"),)
    )
    assert plan["counsel-8"].confers and plan.consultation == {"custody", "counsel-8"}
    assert plan["observer-9"].speakers == ()  # an observer follows, and does not ask to speak
    # An older booking without a detainee row still seats the detainee in custody.
    assert plan.people()["custody"] == [{"role": "detainee", "name": "Ali Hassan"}]
    with pytest.raises(KeyError):
        plan["interpreter-99"]


def test_the_panel_is_told_an_interpreters_language() -> None:
    """issue 12: the lobby card says the language an interpreter interprets."""
    plan = seating([Party(7, R.INTERPRETER, C.REMOTE, "Amira Haddad", "arabisk"), Party(8, R.WITNESS, C.REMOTE, "W")])
    assert plan.people()["interpreter-7"] == [{"role": "interpreter", "name": "Amira Haddad", "language": "arabisk"}]
    assert plan.people()["witness-8"] == [{"role": "witness", "name": "W"}]  # no language: none said


def test_seat_ids_stay_names_that_speakers_can_be_built_from() -> None:
    for bad in ("", "a:b", "x" * 33):
        with pytest.raises(ValueError):
            Seat(bad, R.OBSERVER)
    with pytest.raises(ValueError):
        Seating((Seat("judge", R.JUDGE), Seat("judge", R.JUDGE)))


def test_devices_take_their_sites_seat() -> None:
    assert seats.seat_for_device(EndpointKind.COURTROOM) == "courtroom"
    assert seats.seat_for_device(EndpointKind.CUSTODY) == "custody"

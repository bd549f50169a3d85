"""The check-in form as a value: what the officer may send, and the rule
that *ready* needs the name and the reference confirmed."""

from __future__ import annotations

import pytest

from hearing.custody.checkin import NOTE_MAX, CheckInForm, CheckInStatus
from hearing.errors import CheckInUnconfirmed, InvalidInput


def test_a_full_check_in_reads_as_ready() -> None:
    form = CheckInForm.from_fields(
        {"name_confirmed": "yes", "reference_confirmed": "on", "status": "ready", "note": "  Tolk ønsket.  "}
    )
    assert form == CheckInForm(True, True, CheckInStatus.READY, "Tolk ønsket.")


def test_in_the_room_needs_no_confirmation_and_no_note() -> None:
    assert CheckInForm.from_fields({"status": "in_room"}) == CheckInForm(False, False, CheckInStatus.IN_ROOM, "")


@pytest.mark.parametrize(
    "confirmed",
    [{}, {"name_confirmed": "yes"}, {"reference_confirmed": "yes"}, {"name_confirmed": "", "reference_confirmed": ""}],
)
def test_ready_without_both_confirmations_is_refused(confirmed: dict[str, str]) -> None:
    with pytest.raises(CheckInUnconfirmed) as refused:
        CheckInForm.from_fields({**confirmed, "status": "ready"})
    assert refused.value.code == "check_in_unconfirmed"
    with pytest.raises(CheckInUnconfirmed):
        CheckInForm(
            confirmed.get("name_confirmed") == "yes",
            confirmed.get("reference_confirmed") == "yes",
            CheckInStatus.READY,
        )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "status"),
        ({"status": ""}, "status"),
        ({"status": "READY"}, "status"),
        ({"status": "ready\x00"}, "status"),
        ({"status": "in_room", "name_confirmed": "true"}, "name_confirmed"),
        ({"status": "in_room", "reference_confirmed": "1"}, "reference_confirmed"),
        ({"status": "in_room", "note": "x" * (NOTE_MAX + 1)}, "note"),
        ({"status": "in_room", "note": "bidi \u202e override"}, "note"),
        ({"status": "in_room", "note": "nul \x00"}, "note"),
        ({"status": "in_room", "officer_id": "3"}, "officer_id"),
    ],
)
def test_malformed_oversized_and_unexpected_fields_are_refused(fields: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        CheckInForm.from_fields(fields)
    assert refused.value.code == "invalid_input"
    assert refused.value.field == field


def test_a_note_keeps_its_lines_and_is_bounded_after_normalisation() -> None:
    form = CheckInForm.from_fields({"status": "in_room", "note": "Linje 1\r\nLinje 2"})
    assert form.note == "Linje 1\nLinje 2"
    exactly = CheckInForm.from_fields({"status": "in_room", "note": "å" * NOTE_MAX})
    assert len(exactly.note) == NOTE_MAX
    with pytest.raises(InvalidInput):
        CheckInForm(False, False, CheckInStatus.IN_ROOM, "x" * (NOTE_MAX + 1))

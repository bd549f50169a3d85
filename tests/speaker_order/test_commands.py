"""Commands: strict parsing, and what each one does to the floor."""

from __future__ import annotations

import pytest

from hearing.audit.actions import Action
from hearing.docket.parties import Connection, ParticipantRole
from hearing.errors import HearingError, InvalidInput
from hearing.routing import seats
from hearing.routing.policy import FloorMode, Interpretation, Medium
from hearing.speaker_order import commands
from hearing.speaker_order.commands import COMMANDS, Command, Sender, parse
from hearing.speaker_order.floor import Floor, FloorError


def test_every_command_has_its_own_audit_action() -> None:
    audited = [rule.audit for rule in COMMANDS.values()]
    assert len(set(audited)) == len(audited)
    # The judge's choice of interpretation is a floor command too (issue 12); the
    # direction's turns are the system's entries, appended beside any command.
    # So is the judge's pin of the courtroom cameras (issue 13); the rig's own
    # reports of its cameras are not commands.
    prefixes = ("floor.", "lobby.", "interpretation.set", "camera.pinned", "camera.released")
    assert all(a.value.startswith(prefixes) for a in audited)
    assert {a for a in Action if a.value.startswith(prefixes)} == set(audited)


def test_the_table_says_who_may_send_what() -> None:
    by_seats = {action for action, rule in COMMANDS.items() if Sender.SEAT in rule.senders}
    assert by_seats == {"request", "withdraw"}  # an endpoint only asks, for its own people
    assert all(Sender.JUDGE in rule.senders for rule in COMMANDS.values())
    assert {action for action, rule in COMMANDS.items() if rule.turns_away} == {"deny"}
    assert all(rule.optional <= rule.fields for rule in COMMANDS.values())
    with pytest.raises(ValueError):
        Command("explode")


def test_parsing_types_the_fields() -> None:
    assert parse({"action": "grant"}) == Command("grant")
    assert parse({"action": "grant", "speaker": "custody:detainee", "keep_previous": True, "version": 3}) == Command(
        "grant", speaker="custody:detainee", keep_previous=True, version=3
    )
    hide = parse({"action": "hide", "source": "custody", "receiver": "courtroom", "medium": "video"})
    assert hide.medium is Medium.VIDEO and hide.details() == {
        "source": "custody",
        "receiver": "courtroom",
        "medium": "video",
    }
    assert parse({"action": "mode", "mode": "controlled"}).mode is FloorMode.CONTROLLED


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (None, "action"),
        ("grant", "action"),
        ({"action": 1}, "action"),
        ({"action": "GRANT"}, "action"),
        ({"action": "request"}, "speaker"),
        ({"action": "request", "speaker": ""}, "speaker"),
        ({"action": "request", "speaker": None}, "speaker"),
        ({"action": "reorder", "speaker": "a", "position": True}, "position"),
        ({"action": "reorder", "speaker": "a", "position": 2**40}, "position"),
        ({"action": "skip", "speaker": "a"}, "speaker"),
        ({"action": "skip", "version": -1}, "version"),
        ({"action": "skip", "version": "1"}, "version"),
        ({"action": "unhide", "source": "a", "receiver": "b", "medium": None}, "medium"),
        # issue 12, interp
        ({"action": "interpretation"}, "mode"),
        ({"action": "interpretation", "mode": "open"}, "mode"),
        ({"action": "interpretation", "mode": "SIMULTANEOUS"}, "mode"),
        ({"action": "interpretation", "mode": "simultaneous", "needs": "custody"}, "needs"),
        ({"action": "interpretation", "mode": "simultaneous", "needs": [1]}, "needs"),
        ({"action": "interpretation", "mode": "simultaneous", "needs": [""]}, "needs"),
        ({"action": "interpretation", "mode": "simultaneous", "needs": ["x" * 65]}, "needs"),
        ({"action": "interpretation", "mode": "simultaneous", "needs": ["custody", "custody"]}, "needs"),
        ({"action": "interpretation", "mode": "simultaneous", "needs": [f"s{i}" for i in range(9)]}, "needs"),
        ({"action": "interpretation", "mode": "simultaneous", "seat": "custody"}, "seat"),
        ({"action": "mode", "mode": "simultaneous"}, "mode"),
    ],
)
def test_malformed_commands_name_the_field(body: object, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse(body)
    assert info.value.field == field


def test_a_stale_version_is_refused_and_deny_turns_away_only_a_waiting_connection() -> None:
    floor = Floor.for_seating(seats.seating([seats.Party(1, ParticipantRole.DETAINEE, Connection.CUSTODY, "D")]))
    with pytest.raises(FloorError) as info:
        commands.execute(floor, Command("skip", version=floor.version + 1))
    assert info.value.code == "stale_version"
    here = frozenset({"custody"})
    assert commands.execute(floor, Command("deny", seat="custody"), here) is floor  # no state changes
    with pytest.raises(FloorError) as info:
        commands.execute(floor, Command("deny", seat="custody"))  # in the lobby, but not connected
    assert info.value.code == "not_waiting"
    admitted = commands.execute(floor, Command("admit", seat="custody", version=floor.version))
    assert admitted.version == floor.version + 1
    with pytest.raises(HearingError):
        commands.execute(admitted, Command("deny", seat="custody"), here)


def test_the_interpretation_command_is_parsed_strictly_and_audited_with_what_it_made() -> None:
    assert parse({"action": "interpretation", "mode": "consecutive"}) == Command(
        "interpretation", interpretation=Interpretation.CONSECUTIVE
    )
    chosen = parse({"action": "interpretation", "mode": "simultaneous", "needs": ["custody", "counsel-3"]})
    assert chosen.needs == {"custody", "counsel-3"} and chosen.mode is None
    assert parse({"action": "interpretation", "mode": "simultaneous", "needs": None}).needs is None
    docket = [
        seats.Party(1, ParticipantRole.DETAINEE, Connection.CUSTODY, "D"),
        seats.Party(4, ParticipantRole.INTERPRETER, Connection.REMOTE, "I"),
    ]
    floor = Floor.for_seating(seats.seating(docket))
    after = commands.execute(floor, parse({"action": "interpretation", "mode": "simultaneous"}))
    # The entry records the seats that need it, the default applied.
    assert Command("interpretation", interpretation=Interpretation.SIMULTANEOUS).details(after) == {
        "mode": "simultaneous",
        "needs": ["custody"],
    }
    assert COMMANDS["interpretation"].senders == {Sender.JUDGE}  # the judge's alone

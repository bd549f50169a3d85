"""Commands: strict parsing, and what each one does to the floor."""

from __future__ import annotations

import pytest

from hearing.audit.actions import Action
from hearing.errors import HearingError, InvalidInput
from hearing.routing.policy import FloorMode, Medium
from hearing.speaker_order import commands, presiding
from hearing.speaker_order.commands import Command, parse
from hearing.speaker_order.floor import FloorError


def test_every_action_has_its_own_audit_action() -> None:
    audited = [action for _, action in commands.ACTIONS.values()]
    assert len(set(audited)) == len(audited)
    assert all(a.value.startswith(("floor.", "lobby.")) for a in audited)
    assert {a for a in Action if a.value.startswith(("floor.", "lobby."))} == set(audited)


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
    ],
)
def test_malformed_commands_name_the_field(body: object, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse(body)
    assert info.value.field == field


def test_a_stale_version_is_refused_and_deny_changes_no_state() -> None:
    floor = presiding.initial()
    with pytest.raises(FloorError) as info:
        commands.apply(floor, Command("skip", version=floor.version + 1))
    assert info.value.code == "stale_version"
    assert commands.apply(floor, Command("deny", seat="custody")) is floor
    admitted = commands.apply(floor, Command("admit", seat="custody", version=floor.version))
    assert admitted.version == floor.version + 1
    with pytest.raises(HearingError):
        commands.apply(admitted, Command("deny", seat="custody"))

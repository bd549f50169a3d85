from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearing.docket.parties import Connection as C
from hearing.docket.parties import ParticipantRole as R
from hearing.errors import HearingError
from hearing.live.hearing import compose
from hearing.routing import seats
from hearing.routing.policy import Direction, FloorMode, Interpretation, Medium, direction, route
from hearing.speaker_order.floor import Floor, FloorError

ROLES = {
    "judge": R.JUDGE,
    "prosecutor": R.PROSECUTOR,
    "defence": R.DEFENCE_COUNSEL,
    "detainee": R.DETAINEE,
    "interpreter": R.INTERPRETER,
}
PARTIES = sorted(ROLES)


def fresh() -> Floor:
    return Floor.for_parties(ROLES)


def test_first_come_first_served_with_the_interpreter_first() -> None:
    floor = fresh().request("detainee").request("prosecutor").request("interpreter")
    assert [r.speaker for r in floor.queue] == ["interpreter", "detainee", "prosecutor"]
    assert floor.queue[0].priority and not floor.queue[1].priority
    floor = floor.grant()
    assert floor.holder == "interpreter" and [r.speaker for r in floor.queue] == ["detainee", "prosecutor"]


def test_granting_silences_the_previous_holder_unless_kept() -> None:
    floor = fresh().set_mode(FloorMode.CONTROLLED).grant("prosecutor").grant("defence")
    assert floor.holder == "defence" and floor.kept_live == frozenset()
    kept = fresh().set_mode(FloorMode.CONTROLLED).grant("prosecutor").grant("defence", keep_previous=True)
    assert kept.kept_live == {"prosecutor"}
    media = route(compose(kept))
    assert media["detainee"].hears("prosecutor") and media["detainee"].hears("defence")
    back = kept.take_back()
    assert back.holder is None and back.kept_live == frozenset()
    assert not route(compose(back))["detainee"].hears("prosecutor")


def test_queue_editing() -> None:
    floor = fresh().request("detainee").request("prosecutor").request("defence")
    assert [r.speaker for r in floor.skip().queue] == ["prosecutor", "defence", "detainee"]
    assert [r.speaker for r in floor.reorder("defence", 0).queue] == ["defence", "detainee", "prosecutor"]
    assert [r.speaker for r in floor.remove("prosecutor").queue] == ["detainee", "defence"]
    assert [r.speaker for r in floor.withdraw("detainee").queue] == ["prosecutor", "defence"]
    assert floor.clear().queue == ()


@pytest.mark.parametrize(
    ("action", "code"),
    [
        (lambda f: f.mute("judge"), "judge_not_affected"),
        (lambda f: f.request("judge"), "judge_not_affected"),
        (lambda f: f.grant("judge"), "judge_not_affected"),
        (lambda f: f.hide("judge", "detainee", Medium.AUDIO), "judge_not_affected"),
        (lambda f: f.grant(), "queue_empty"),
        (lambda f: f.take_back(), "no_floor"),
        (lambda f: f.withdraw("detainee"), "not_requested"),
        (lambda f: f.request("detainee").request("detainee"), "already_requested"),
        (lambda f: f.set_mode(FloorMode.OPEN), "mode_unchanged"),
        (lambda f: f.admit("detainee"), "already_admitted"),
        (lambda f: f.unmute("detainee"), "not_muted"),
        (lambda f: f.skip(), "nothing_to_skip"),
        (lambda f: f.clear(), "queue_empty"),
    ],
)
def test_refused_actions_have_stable_codes(action, code: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FloorError) as info:
        action(fresh())
    assert info.value.code == code and info.value.status == 409


def test_unknown_parties_and_positions_are_invalid_input() -> None:
    with pytest.raises(HearingError) as info:
        fresh().request("stranger")
    assert info.value.code == "invalid_input"
    with pytest.raises(HearingError):
        fresh().request("detainee").reorder("detainee", 5)


def test_mute_all_but_the_judge() -> None:
    floor = fresh().mute_all_but_judge()
    media = route(compose(floor))
    assert all(r.hears("judge") for name, r in media.items() if name != "judge")
    assert not any(r.hears(p) for r in media.values() for p in PARTIES if p != "judge")


ACTIONS = st.one_of(
    st.tuples(st.just("request"), st.sampled_from(PARTIES)),
    st.tuples(st.just("withdraw"), st.sampled_from(PARTIES)),
    st.tuples(st.just("remove"), st.sampled_from(PARTIES)),
    st.tuples(st.just("grant"), st.none() | st.sampled_from(PARTIES), st.booleans()),
    st.tuples(st.just("take_back")),
    st.tuples(st.just("skip")),
    st.tuples(st.just("reorder"), st.sampled_from(PARTIES), st.integers(-1, 6)),
    st.tuples(st.just("clear")),
    st.tuples(st.just("mute"), st.sampled_from(PARTIES)),
    st.tuples(st.just("unmute"), st.sampled_from(PARTIES)),
    st.tuples(st.just("mute_all_but_judge")),
    st.tuples(st.just("set_mode"), st.sampled_from(list(FloorMode))),
    st.tuples(st.just("hide"), st.sampled_from(PARTIES), st.sampled_from(PARTIES), st.sampled_from(list(Medium))),
    st.tuples(st.just("unhide"), st.sampled_from(PARTIES), st.sampled_from(PARTIES), st.sampled_from(list(Medium))),
)


def apply(floor: Floor, action: tuple[object, ...]) -> Floor:
    name, *args = action
    if name == "grant":
        participant, keep = args
        return floor.grant(participant, keep_previous=bool(keep))  # type: ignore[arg-type]
    return getattr(floor, str(name))(*args)  # type: ignore[no-any-return]


@settings(max_examples=300, deadline=None)
@given(st.lists(ACTIONS, max_size=60))
def test_random_sequences_keep_the_invariants(actions: list[tuple[object, ...]]) -> None:
    floor = fresh()
    waiting: list[str] = []  # a plain model of the queue's membership
    for action in actions:
        try:
            after = apply(floor, action)
        except HearingError:
            continue  # refused: nothing changed (floor is immutable)
        assert after.version == floor.version + 1  # strictly increasing
        name = action[0]
        if name == "request":
            waiting.append(str(action[1]))
        elif name in ("withdraw", "remove"):
            waiting.remove(str(action[1]))
        elif name == "grant":
            granted = after.holder
            if granted in waiting:
                waiting.remove(granted)
        elif name == "clear":
            waiting.clear()
        floor = after
        members = [r.speaker for r in floor.queue]
        assert sorted(members) == sorted(waiting)  # never lost, never duplicated
        assert len(set(members)) == len(members)
        assert floor.holder not in members and floor.holder != "judge"
        assert "judge" not in floor.muted and "judge" not in members
        media = route(compose(floor))
        holders = [p for p in PARTIES if p != "judge" and p == floor.holder]
        assert len(holders) <= 1  # never two floor holders
        assert all(r.hears("judge") for name_, r in media.items() if name_ != "judge")  # the judge is never silenced


# --- seats with several people: the courtroom and the custody facility ---------------


# A remand hearing as booked: the prosecutor in the courtroom, counsel with the detainee.
DOCKET = [
    seats.Party(1, R.DETAINEE, C.CUSTODY, "Detainee"),
    seats.Party(2, R.PROSECUTOR, C.COURTROOM, "Prosecutor"),
    seats.Party(3, R.DEFENCE_COUNSEL, C.CUSTODY, "Counsel"),
]
# Every kind of seat: counsel in the courtroom (so a consultation booth) and a remote interpreter.
FULL_DOCKET = [
    seats.Party(1, R.DETAINEE, C.CUSTODY, "Detainee"),
    seats.Party(2, R.PROSECUTOR, C.COURTROOM, "Prosecutor"),
    seats.Party(3, R.DEFENCE_COUNSEL, C.COURTROOM, "Counsel"),
    seats.Party(4, R.INTERPRETER, C.REMOTE, "Interpreter"),
]


def hearing_floor(docket: list[seats.Party] = DOCKET) -> Floor:
    return Floor.for_seating(seats.seating(docket))


def test_the_custody_endpoint_waits_in_the_lobby_until_admitted() -> None:
    floor = hearing_floor()
    assert floor.lobby == {"custody"} and floor.admitted == {"judge", "courtroom"}
    routes = route(compose(floor))
    assert not any(r.hears("custody") for r in routes.values())
    # Only the bench sees who waits, to decide whether to admit them.
    assert [seat for seat, r in routes.items() if "custody" in r.video] == ["judge"]
    for refused in (lambda f: f.request("custody:detainee"), lambda f: f.grant("custody:detainee")):
        with pytest.raises(FloorError) as info:
            refused(floor)
        assert info.value.code == "not_admitted"
    admitted = floor.admit("custody")
    assert admitted.lobby == frozenset() and route(compose(admitted))["judge"].hears("custody")


def test_a_speakers_floor_makes_their_seat_live() -> None:
    floor = hearing_floor().admit("custody").set_mode(FloorMode.CONTROLLED)
    assert not route(compose(floor))["judge"].hears("custody")
    floor = floor.request("custody:detainee").request("courtroom:prosecutor").grant()
    assert floor.holder == "custody:detainee" and [r.speaker for r in floor.queue] == ["courtroom:prosecutor"]
    assert route(compose(floor))["judge"].hears("custody")
    assert not route(compose(floor.take_back()))["judge"].hears("custody")
    # The courtroom carries the bench: it is never muted, hidden or sent to the lobby.
    for refused in (lambda f: f.mute("courtroom"), lambda f: f.hide("courtroom", "custody", Medium.VIDEO)):
        with pytest.raises(FloorError):
            refused(floor)


def test_unknown_speakers_and_seats_are_invalid_input() -> None:
    floor = hearing_floor()
    for refused in (
        lambda f: f.request("custody:prosecutor"),
        lambda f: f.request("custody"),
        lambda f: f.mute("gallery"),
        lambda f: f.admit("gallery"),
    ):
        with pytest.raises(HearingError) as info:
            refused(floor)
        assert info.value.code == "invalid_input"


def test_a_consultation_cuts_its_seat_off_from_the_court_and_back() -> None:
    floor = hearing_floor().admit("custody").begin_consultation(frozenset({"custody"}))
    media = route(compose(floor, recording=True))
    assert media["custody"].audio == () and media["custody"].video == ()
    assert not any(r.hears("custody") or "custody" in r.video for name, r in media.items() if name != "custody")
    assert floor.public_view("custody")["consultation"] is True
    assert route(compose(floor.end_consultation()))["judge"].hears("custody")
    with pytest.raises(FloorError) as info:
        floor.begin_consultation(frozenset({"custody", "courtroom"}))
    assert info.value.code == "judge_not_affected"


def test_an_endpoint_is_told_only_about_its_own_seat() -> None:
    floor = hearing_floor().admit("custody").request("courtroom:prosecutor").request("custody:detainee")
    view = floor.public_view("custody")
    assert view == {
        "type": "floor",
        "version": floor.version,
        "mode": "open",
        "admitted": True,
        "muted": False,
        "holder": None,
        "queued": ["custody:detainee"],
        "consultation": False,
        "hidden_from": [],
        "interpretation": "none",
        "direction": "none",
        "needs_interpretation": False,
    }
    full = hearing_floor(FULL_DOCKET)
    hidden = full.hide("custody", "courtroom", Medium.VIDEO).hide("custody", "judge", Medium.AUDIO)
    hidden = hidden.hide("interpreter-4", "custody", Medium.AUDIO)
    assert "hidden" not in hidden.public_view("custody")
    # Its own sound or picture, hidden from others: yes; others' hidden from it: no.
    assert hidden.public_view("custody")["hidden_from"] == [
        {"receiver": "courtroom", "medium": "video"},
        {"receiver": "judge", "medium": "audio"},
    ]
    assert hidden.public_view("interpreter-4")["hidden_from"] == [{"receiver": "custody", "medium": "audio"}]
    assert hidden.public_view("booth")["hidden_from"] == []


SEAT_NAMES = sorted(hearing_floor(FULL_DOCKET).seat_roles)
SPEAKER_NAMES = [s.name for s in hearing_floor(FULL_DOCKET).speakers]
SEAT_ACTIONS = st.one_of(
    st.tuples(st.just("admit"), st.sampled_from(SEAT_NAMES)),
    st.tuples(st.just("request"), st.sampled_from(SPEAKER_NAMES)),
    st.tuples(st.just("remove"), st.sampled_from(SPEAKER_NAMES)),
    st.tuples(st.just("grant"), st.none() | st.sampled_from(SPEAKER_NAMES), st.booleans()),
    st.tuples(st.just("take_back")),
    st.tuples(st.just("reorder"), st.sampled_from(SPEAKER_NAMES), st.integers(-1, 6)),
    st.tuples(st.just("mute"), st.sampled_from(SEAT_NAMES)),
    st.tuples(st.just("unmute"), st.sampled_from(SEAT_NAMES)),
    st.tuples(st.just("set_mode"), st.sampled_from(list(FloorMode))),
    st.tuples(st.just("hide"), st.sampled_from(SEAT_NAMES), st.sampled_from(SEAT_NAMES), st.sampled_from(list(Medium))),
    st.tuples(st.just("begin_consultation"), st.frozensets(st.sampled_from(SEAT_NAMES), min_size=1)),
    st.tuples(st.just("end_consultation")),
    st.tuples(
        st.just("interpret"),
        st.sampled_from(list(Interpretation)),
        st.none() | st.frozensets(st.sampled_from(SEAT_NAMES)),
    ),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(SEAT_ACTIONS, max_size=40))
def test_seat_floors_keep_the_invariants_and_survive_storage(actions: list[tuple[object, ...]]) -> None:
    floor = hearing_floor(FULL_DOCKET)
    for action in actions:
        try:
            after = apply(floor, action)
        except HearingError:
            continue
        assert after.version == floor.version + 1
        floor = after
        assert Floor.from_json(json.loads(floor.dumps())) == floor  # storage loses nothing
        members = [r.speaker for r in floor.queue]
        assert len(set(members)) == len(members) and floor.holder not in members
        assert all(floor.speaker(m).seat in floor.admitted for m in members)
        media = route(compose(floor))
        outside = ("judge", *floor.lobby, *floor.consultation)  # who is not in the court's room
        assert all(r.hears("judge") for name, r in media.items() if name not in outside)
        assert not any(r.hears(seat) for seat in floor.lobby for r in media.values())
        for seat in floor.consultation:  # the court never hears a consultation
            assert not any(r.hears(seat) for name, r in media.items() if name not in floor.consultation)
        # The floor's direction is the routing's: the one the audit log records is the one applied.
        assert floor.direction is direction(compose(floor))


# --- issue 12: seats added and removed while the floor exists ---------------------------


def test_a_seat_added_late_waits_in_the_lobby_and_can_ask_to_speak_once_admitted() -> None:
    floor = Floor.for_seating(seats.seating([], detainee_name="A"))
    added = floor.with_seat("interpreter-9", R.INTERPRETER, [R.INTERPRETER])
    assert added.version == floor.version + 1
    assert "interpreter-9" in added.lobby
    with pytest.raises(FloorError) as refused:
        added.request("interpreter-9:interpreter")
    assert refused.value.code == "not_admitted"
    asked = added.admit("interpreter-9").request("interpreter-9:interpreter")
    assert asked.queue[0].priority
    with pytest.raises(FloorError) as again:
        added.with_seat("interpreter-9", R.INTERPRETER, [])
    assert again.value.code == "seat_exists"


def test_a_seat_removed_takes_everything_of_it_along() -> None:
    floor = Floor.for_seating(seats.seating([], detainee_name="A"))
    floor = floor.with_seat("counsel-3", R.DEFENCE_COUNSEL, [R.DEFENCE_COUNSEL])
    floor = floor.admit("counsel-3").admit("custody").grant("counsel-3:defence_counsel").mute("counsel-3")
    floor = floor.hide("counsel-3", "custody", Medium.VIDEO)
    gone = floor.without_seat("counsel-3")
    assert "counsel-3" not in gone.seat_roles
    assert gone.holder is None and not gone.muted and not gone.hidden
    assert all(s.seat != "counsel-3" for s in gone.speakers)
    with pytest.raises(FloorError):
        gone.without_seat("judge")


# --- issue 12: interpretation on the floor ----------------------------------------------

REMOTE_COUNSEL = [
    seats.Party(1, R.DETAINEE, C.CUSTODY, "Detainee"),
    seats.Party(2, R.PROSECUTOR, C.REMOTE, "Prosecutor"),
    seats.Party(3, R.DEFENCE_COUNSEL, C.REMOTE, "Counsel"),
    seats.Party(4, R.INTERPRETER, C.REMOTE, "Interpreter"),
]


def interpreted() -> Floor:
    floor = hearing_floor(REMOTE_COUNSEL)
    for seat in sorted(floor.lobby):
        floor = floor.admit(seat)
    return floor.set_mode(FloorMode.CONTROLLED)


def test_simultaneous_interpretation_goes_to_the_detainee_by_default_and_turns_with_the_floor() -> None:
    floor = interpreted().interpret(Interpretation.SIMULTANEOUS)
    assert floor.needs_interpretation == {"custody"} and floor.direction is Direction.TO_PARTY
    routes = route(compose(floor))
    assert routes["custody"].hears("interpreter-4") and not routes["prosecutor-2"].hears("interpreter-4")
    granted = floor.grant("custody:detainee")
    assert granted.direction is Direction.TO_COURT
    routes = route(compose(granted))
    assert not routes["custody"].hears("interpreter-4") and routes["prosecutor-2"].hears("interpreter-4")
    assert granted.take_back().direction is Direction.TO_PARTY
    assert granted.mute("custody").direction is Direction.TO_PARTY  # muted: nothing to render to the court
    # Counsel needs it too: the rendition of the court goes to both.
    both = floor.interpret(Interpretation.SIMULTANEOUS, frozenset({"custody", "counsel-3"}))
    routes = route(compose(both))
    assert routes["counsel-3"].hears("interpreter-4") and not routes["judge"].hears("interpreter-4")
    assert both.grant("counsel-3:defence_counsel").direction is Direction.TO_COURT
    assert floor.interpret(Interpretation.CONSECUTIVE).direction is Direction.EVERYONE
    assert floor.interpret(Interpretation.NONE).direction is Direction.NONE


@pytest.mark.parametrize(
    ("mode", "needs", "code"),
    [
        (Interpretation.NONE, None, "interpretation_unchanged"),
        (Interpretation.CONSECUTIVE, frozenset({"custody"}), "needs_without_simultaneous"),
        (Interpretation.NONE, frozenset(), "needs_without_simultaneous"),
        (Interpretation.SIMULTANEOUS, frozenset({"judge"}), "judge_not_affected"),
        (Interpretation.SIMULTANEOUS, frozenset({"courtroom", "custody"}), "judge_not_affected"),
        (Interpretation.SIMULTANEOUS, frozenset({"interpreter-4"}), "interpreter_in_needs"),
        (Interpretation.SIMULTANEOUS, frozenset(), "needs_nobody"),
    ],
)
def test_refused_interpretation_has_stable_codes(mode: Interpretation, needs: frozenset[str] | None, code: str) -> None:
    with pytest.raises(FloorError) as info:
        interpreted().interpret(mode, needs)
    assert info.value.code == code


def test_interpretation_refusals_that_depend_on_the_state() -> None:
    with pytest.raises(FloorError) as info:
        hearing_floor().interpret(Interpretation.SIMULTANEOUS)  # no interpreter has a seat
    assert info.value.code == "no_interpreter_seat"
    floor = interpreted().interpret(Interpretation.SIMULTANEOUS)
    with pytest.raises(FloorError) as info:
        floor.interpret(Interpretation.SIMULTANEOUS, frozenset({"custody"}))
    assert info.value.code == "interpretation_unchanged"
    with pytest.raises(HearingError) as unknown:
        floor.interpret(Interpretation.SIMULTANEOUS, frozenset({"gallery"}))
    assert unknown.value.code == "invalid_input"
    # Consecutive needs no interpreter's seat: the interpreter may sit in the courtroom.
    assert hearing_floor().interpret(Interpretation.CONSECUTIVE).interpretation is Interpretation.CONSECUTIVE


def test_interpretation_is_stored_shown_and_read_from_older_rows() -> None:
    floor = interpreted().interpret(Interpretation.SIMULTANEOUS, frozenset({"custody", "counsel-3"}))
    data = floor.to_json()
    assert (data["interpretation"], data["needs_interpretation"], data["direction"]) == (
        "simultaneous",
        ["counsel-3", "custody"],
        "to_party",
    )
    assert Floor.from_json(json.loads(floor.dumps())) == floor
    older = {k: v for k, v in data.items() if k not in ("interpretation", "needs_interpretation", "direction")}
    read = Floor.from_json(older)
    assert read.interpretation is Interpretation.NONE and read.needs_interpretation == frozenset()
    view = floor.grant("custody:detainee").public_view("custody")
    assert (view["interpretation"], view["direction"], view["needs_interpretation"]) == (
        "simultaneous",
        "to_court",
        True,
    )
    assert floor.public_view("prosecutor-2")["needs_interpretation"] is False
    # A seat removed no longer needs it.
    assert floor.without_seat("counsel-3").needs_interpretation == {"custody"}

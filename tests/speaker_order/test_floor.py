from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearing.docket.parties import ParticipantRole as R
from hearing.errors import HearingError
from hearing.media.policy import FloorMode, Medium, route
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
    assert [r.participant for r in floor.queue] == ["interpreter", "detainee", "prosecutor"]
    assert floor.queue[0].priority and not floor.queue[1].priority
    floor = floor.grant()
    assert floor.holder == "interpreter" and [r.participant for r in floor.queue] == ["detainee", "prosecutor"]


def test_granting_silences_the_previous_holder_unless_kept() -> None:
    floor = fresh().grant("prosecutor").grant("defence")
    assert floor.holder == "defence" and floor.kept_live == frozenset()
    kept = fresh().grant("prosecutor").grant("defence", keep_previous=True)
    assert kept.kept_live == {"prosecutor"}
    media = route(kept.media_state())
    assert media["detainee"].hears("prosecutor") and media["detainee"].hears("defence")
    back = kept.take_back()
    assert back.holder is None and back.kept_live == frozenset()
    assert not route(back.media_state())["detainee"].hears("prosecutor")


def test_queue_editing() -> None:
    floor = fresh().request("detainee").request("prosecutor").request("defence")
    assert [r.participant for r in floor.skip().queue] == ["prosecutor", "defence", "detainee"]
    assert [r.participant for r in floor.reorder("defence", 0).queue] == ["defence", "detainee", "prosecutor"]
    assert [r.participant for r in floor.remove("prosecutor").queue] == ["detainee", "defence"]
    assert [r.participant for r in floor.withdraw("detainee").queue] == ["prosecutor", "defence"]
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
        (lambda f: f.set_mode(FloorMode.CONTROLLED), "mode_unchanged"),
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
    media = route(floor.set_mode(FloorMode.OPEN).media_state())
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
        members = [r.participant for r in floor.queue]
        assert sorted(members) == sorted(waiting)  # never lost, never duplicated
        assert len(set(members)) == len(members)
        assert floor.holder not in members and floor.holder != "judge"
        assert "judge" not in floor.muted and "judge" not in members
        media = route(floor.media_state())
        holders = [p for p in PARTIES if p != "judge" and p == floor.holder]
        assert len(holders) <= 1  # never two floor holders
        assert all(r.hears("judge") for name_, r in media.items() if name_ != "judge")  # the judge is never silenced

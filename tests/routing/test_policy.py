from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearing.docket.parties import ParticipantRole as R
from hearing.routing.policy import (
    DUCKED_GAIN,
    RECORDER,
    Direction,
    FloorMode,
    Hidden,
    Interpretation,
    MediaState,
    Medium,
    Unseen,
    direction,
    route,
    unseen,
)

ROLES = {
    "judge": R.JUDGE,
    "prosecutor": R.PROSECUTOR,
    "defence": R.DEFENCE_COUNSEL,
    "detainee": R.DETAINEE,
    "interpreter": R.INTERPRETER,
    "officer": R.CUSTODY_OFFICER,
}


def hears(state: MediaState, receiver: str) -> set[str]:
    return {f.source for f in route(state)[receiver].audio if f.gain > 0}


def sees(state: MediaState, receiver: str) -> set[str]:
    return set(route(state)[receiver].video)


def test_open_mode_everyone_hears_everyone_else() -> None:
    state = MediaState(ROLES)
    for receiver in ROLES:
        assert hears(state, receiver) == set(ROLES) - {receiver}
        assert sees(state, receiver) == set(ROLES) - {receiver}


def test_controlled_mode_only_judge_floor_and_interpreter_are_live() -> None:
    state = MediaState(ROLES, mode=FloorMode.CONTROLLED, floor="prosecutor")
    assert hears(state, "detainee") == {"judge", "prosecutor", "interpreter"}
    # Taking the floor back silences the prosecutor at every receiver.
    back = MediaState(ROLES, mode=FloorMode.CONTROLLED)
    assert all("prosecutor" not in hears(back, r) for r in ROLES if r != "interpreter")
    # The judge may keep a previous holder live.
    kept = MediaState(ROLES, mode=FloorMode.CONTROLLED, floor="defence", kept_live=frozenset({"prosecutor"}))
    assert hears(kept, "detainee") == {"judge", "defence", "prosecutor", "interpreter"}


def test_the_interpreter_hears_every_party_not_muted() -> None:
    state = MediaState(ROLES, mode=FloorMode.CONTROLLED, muted=frozenset({"officer"}))
    assert hears(state, "interpreter") == {"judge", "prosecutor", "defence", "detainee"}


def test_a_muted_participant_is_silent_everywhere() -> None:
    state = MediaState(ROLES, muted=frozenset({"detainee"}))
    assert all("detainee" not in hears(state, r) for r in ROLES)
    # Still seen: muting is about sound.
    assert "detainee" in sees(state, "judge")


def test_selective_mute_and_screening() -> None:
    state = MediaState(
        ROLES,
        hidden=frozenset(
            {
                Hidden("detainee", "prosecutor", Medium.AUDIO),
                Hidden("detainee", "officer", Medium.VIDEO),
            }
        ),
    )
    assert "detainee" not in hears(state, "prosecutor") and "detainee" in sees(state, "prosecutor")
    assert "detainee" not in sees(state, "officer") and "detainee" in hears(state, "officer")
    assert "detainee" in hears(state, "judge") and "detainee" in sees(state, "judge")


def test_consultation_is_a_closed_room() -> None:
    state = MediaState(ROLES, consultation=frozenset({"detainee", "defence"}), recording=True)
    assert hears(state, "detainee") == {"defence"} and sees(state, "detainee") == {"defence"}
    assert hears(state, "defence") == {"detainee"}
    for outsider in set(ROLES) - {"detainee", "defence"}:
        assert not {"detainee", "defence"} & (hears(state, outsider) | sees(state, outsider))
    assert not {"detainee", "defence"} & (hears(state, RECORDER) | sees(state, RECORDER))


def test_simultaneous_interpretation_ducks_the_original_for_those_who_need_it() -> None:
    state = MediaState(ROLES, interpretation=Interpretation.SIMULTANEOUS, needs_interpretation=frozenset({"detainee"}))
    gains = {f.source: f.gain for f in route(state)["detainee"].audio}
    assert gains["interpreter"] == 1.0 and gains["judge"] == DUCKED_GAIN
    assert "interpreter" not in hears(state, "prosecutor")


def test_the_lobby_neither_hears_nor_is_heard() -> None:
    state = MediaState(ROLES, lobby=frozenset({"interpreter"}), recording=True)
    routes = route(state)
    assert routes["interpreter"].audio == () and routes["interpreter"].video == ()
    assert not any(r.hears("interpreter") or "interpreter" in r.video for r in routes.values())
    assert routes["detainee"].hears("judge") and "prosecutor" in routes["detainee"].video


def test_only_the_lobby_viewers_see_who_waits_and_nobody_hears_them() -> None:
    state = MediaState(ROLES, lobby=frozenset({"interpreter"}), lobby_viewers=frozenset({"judge"}), recording=True)
    routes = route(state)
    assert "interpreter" in routes["judge"].video and not routes["judge"].hears("interpreter")
    assert unseen(state, "interpreter", "judge") is None
    assert all("interpreter" not in r.video for seat, r in routes.items() if seat != "judge")
    assert unseen(state, "interpreter", "prosecutor") is Unseen.LOBBY
    assert routes["interpreter"].video == () and routes["interpreter"].audio == ()
    on_audio = MediaState(
        ROLES, lobby=frozenset({"interpreter"}), lobby_viewers=frozenset({"judge"}), audio_only=frozenset({"judge"})
    )
    assert "interpreter" not in route(on_audio)["judge"].video


@pytest.mark.parametrize(
    "kwargs",
    [
        {"floor": "nobody"},
        {"muted": frozenset({"judge"})},
        {"consultation": frozenset({"judge", "detainee"})},
        {"kept_live": frozenset({"ghost"})},
        {"hidden": frozenset({Hidden("ghost", "judge", Medium.AUDIO)})},
        {"lobby": frozenset({"judge"})},
        {"lobby": frozenset({"ghost"})},
        {"needs_interpretation": frozenset({"interpreter"})},
    ],
)
def test_impossible_states_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        MediaState(ROLES, **kwargs)


def test_recorder_id_is_reserved() -> None:
    with pytest.raises(ValueError):
        MediaState({RECORDER: R.OBSERVER})


names = st.sampled_from(sorted(ROLES))
others = st.sampled_from(sorted(set(ROLES) - {"judge"}))
needers = st.sampled_from(sorted(set(ROLES) - {"interpreter"}))  # an interpreter needs none


@st.composite
def states(draw: st.DrawFn) -> MediaState:
    consultation = draw(st.frozensets(others, max_size=3))
    return MediaState(
        ROLES,
        mode=draw(st.sampled_from(list(FloorMode))),
        floor=draw(st.none() | names),
        kept_live=draw(st.frozensets(names)),
        muted=draw(st.frozensets(others)),
        hidden=draw(
            st.frozensets(
                st.builds(Hidden, names, st.sampled_from([*sorted(ROLES), RECORDER]), st.sampled_from(Medium))
            )
        ),
        consultation=consultation,
        interpretation=draw(st.sampled_from(list(Interpretation))),
        needs_interpretation=draw(st.frozensets(needers)),
        recording=draw(st.booleans()),
        lobby=draw(st.frozensets(others, max_size=2)),
        lobby_viewers=draw(st.sampled_from([frozenset(), frozenset({"judge"})])),
        audio_only=draw(st.frozensets(names, max_size=2)),
    )


@settings(max_examples=300, deadline=None)
@given(states())
def test_invariants_hold_for_any_state(state: MediaState) -> None:
    routes = route(state)
    for receiver, r in routes.items():
        sources = {f.source for f in r.audio} | set(r.video)
        assert receiver not in sources  # never oneself
        assert not {f.source for f in r.audio} & state.lobby  # the lobby is never heard
        if receiver not in state.lobby_viewers:
            assert not sources & state.lobby  # and seen only by its viewers
        if receiver in state.lobby:
            assert not sources  # and hears and sees nothing
            continue
        assert all(0 < f.gain <= 1 for f in r.audio)
        if receiver in state.consultation:
            assert sources <= state.consultation
        else:
            assert not sources & state.consultation  # never leaks
        for h in state.hidden:
            if h.receiver == receiver:
                medium = {f.source for f in r.audio} if h.medium is Medium.AUDIO else set(r.video)
                assert h.source not in medium
        if receiver not in state.consultation:
            for muted in state.muted:
                assert not r.hears(muted)
            judge_hidden = Hidden("judge", receiver, Medium.AUDIO) in state.hidden
            if receiver != "judge" and not judge_hidden:
                assert r.hears("judge")  # the judge is never silenced
            if state.mode is FloorMode.CONTROLLED and state.roles.get(receiver) is not R.INTERPRETER:
                allowed = {"judge", "interpreter", state.floor, *state.kept_live}
                assert {f.source for f in r.audio} <= allowed
    assert (RECORDER in routes) == state.recording


def test_route_is_deterministic() -> None:
    state = MediaState(ROLES, mode=FloorMode.CONTROLLED, floor="detainee", recording=True)
    assert route(state) == route(state)
    assert list(route(state)) == [*sorted(ROLES), RECORDER]


@settings(max_examples=300, deadline=None)
@given(states())
def test_a_picture_is_unseen_exactly_when_the_route_leaves_it_out_and_says_why(state: MediaState) -> None:
    routes = route(state)
    for receiver in sorted(ROLES):
        for source in sorted(set(ROLES) - {receiver}):
            why = unseen(state, source, receiver)
            assert (why is None) == (source in routes[receiver].video), (source, receiver, why)
            if why is Unseen.CONSULTATION:
                assert (source in state.consultation) != (receiver in state.consultation)
            elif why is Unseen.SCREENED:
                assert Hidden(source, receiver, Medium.VIDEO) in state.hidden
            elif why is Unseen.LOBBY:
                assert receiver in state.lobby or (source in state.lobby and receiver not in state.lobby_viewers)


# --- interpretation (rule 6): the direction follows the floor --------------------

SIMULTANEOUS = {"interpretation": Interpretation.SIMULTANEOUS, "needs_interpretation": frozenset({"detainee"})}


def gains(state: MediaState, receiver: str) -> dict[str, float]:
    return {f.source: f.gain for f in route(state)[receiver].audio}


def test_the_direction_follows_the_floor_holder() -> None:
    assert direction(MediaState(ROLES)) is Direction.NONE
    assert direction(MediaState(ROLES, interpretation=Interpretation.CONSECUTIVE)) is Direction.EVERYONE
    court = MediaState(ROLES, mode=FloorMode.CONTROLLED, **SIMULTANEOUS)  # type: ignore[arg-type]
    assert direction(court) is Direction.TO_PARTY
    assert direction(dataclasses.replace(court, floor="prosecutor")) is Direction.TO_PARTY
    detainee = dataclasses.replace(court, floor="detainee")
    assert direction(detainee) is Direction.TO_COURT
    # Only the holder turns it: a detainee kept live while the prosecutor speaks is rendered to.
    kept = dataclasses.replace(court, floor="prosecutor", kept_live=frozenset({"detainee"}))
    assert direction(kept) is Direction.TO_PARTY
    # A holder the judge has muted is heard by no one: the court's words go on being rendered to them.
    assert direction(dataclasses.replace(detainee, muted=frozenset({"detainee"}))) is Direction.TO_PARTY
    # In open mode too: the floor holder is who speaks.
    assert direction(dataclasses.replace(detainee, mode=FloorMode.OPEN)) is Direction.TO_COURT


def test_to_the_party_the_court_is_ducked_for_the_detainee_and_the_court_hears_the_original() -> None:
    state = MediaState(ROLES, mode=FloorMode.CONTROLLED, recording=True, **SIMULTANEOUS)  # type: ignore[arg-type]
    assert gains(state, "detainee") == {"judge": DUCKED_GAIN, "interpreter": 1.0}
    assert "interpreter" not in hears(state, "prosecutor") and "interpreter" not in hears(state, "judge")
    assert gains(state, RECORDER) == {"judge": 1.0, "interpreter": 1.0}


def test_to_the_court_when_the_detainee_holds_the_floor_without_anyone_switching_it() -> None:
    state = MediaState(
        ROLES,
        mode=FloorMode.CONTROLLED,
        floor="detainee",
        recording=True,
        **SIMULTANEOUS,  # type: ignore[arg-type]
    )
    # The court hears the rendition over the detainee, ducked; the detainee no longer hears it.
    for court in ("prosecutor", "defence", "officer"):
        assert gains(state, court) == {"judge": 1.0, "detainee": DUCKED_GAIN, "interpreter": 1.0}, court
    assert gains(state, "judge") == {"detainee": DUCKED_GAIN, "interpreter": 1.0}
    assert gains(state, "prosecutor") == {"judge": 1.0, "detainee": DUCKED_GAIN, "interpreter": 1.0}
    assert gains(state, "detainee") == {"judge": 1.0}
    # The interpreter hears every party undimmed, live or not; the record keeps both voices.
    assert gains(state, "interpreter") == dict.fromkeys(set(ROLES) - {"interpreter"}, 1.0)
    assert gains(state, RECORDER) == {"judge": 1.0, "detainee": 1.0, "interpreter": 1.0}


def test_consecutive_interpretation_is_heard_by_everyone() -> None:
    state = MediaState(ROLES, mode=FloorMode.CONTROLLED, interpretation=Interpretation.CONSECUTIVE)
    for receiver in set(ROLES) - {"interpreter"}:
        assert gains(state, receiver)["interpreter"] == 1.0
        assert set(gains(state, receiver).values()) == {1.0}


def test_the_interpreter_never_hears_a_consultation_they_are_not_part_of_whatever_the_mode() -> None:
    for mode in Interpretation:
        needs = frozenset({"detainee"}) if mode is Interpretation.SIMULTANEOUS else frozenset()
        state = MediaState(
            ROLES,
            mode=FloorMode.CONTROLLED,
            floor="detainee",
            consultation=frozenset({"detainee", "defence"}),
            interpretation=mode,
            needs_interpretation=needs,
        )
        assert hears(state, "interpreter") == {"judge", "prosecutor", "officer"}, mode
        # Its members talk among themselves, nobody ducked.
        assert gains(state, "detainee") == {"defence": 1.0}
        with_interpreter = dataclasses.replace(state, consultation=frozenset({"detainee", "defence", "interpreter"}))
        assert gains(with_interpreter, "detainee") == {"defence": 1.0, "interpreter": 1.0}
        assert gains(with_interpreter, "defence") == {"detainee": 1.0, "interpreter": 1.0}


def _plain(state: MediaState) -> MediaState:
    """The same hearing without interpretation: who could be heard at all."""
    return dataclasses.replace(state, interpretation=Interpretation.NONE, needs_interpretation=frozenset())


@settings(max_examples=400, deadline=None)
@given(states())
def test_interpretation_only_sets_gains_and_follows_the_direction(state: MediaState) -> None:
    turned = direction(state)
    speaking = state.floor
    expected = {
        Interpretation.NONE: Direction.NONE,
        Interpretation.CONSECUTIVE: Direction.EVERYONE,
        Interpretation.SIMULTANEOUS: (
            Direction.TO_COURT
            if speaking in state.needs_interpretation and speaking not in state.muted
            else Direction.TO_PARTY
        ),
    }[state.interpretation]
    assert turned is expected
    routes, plain = route(state), route(_plain(state))
    interpreters = {s for s, role in state.roles.items() if role is R.INTERPRETER}
    needs = state.needs_interpretation
    for receiver, r in routes.items():
        heard = {f.source: f.gain for f in r.audio}
        could = {f.source: f.gain for f in plain[receiver].audio}
        # Interpretation never lets anyone hear what they could not without it
        # (a consultation, a mute, a selective mute, the lobby all stand), and
        # only the interpreter's voice may be taken away.
        assert set(heard) <= set(could) and set(could) - set(heard) <= interpreters
        if (
            receiver == RECORDER
            or receiver in state.consultation
            or receiver in interpreters
            or turned in (Direction.NONE, Direction.EVERYONE)
        ):
            # The record keeps both voices, the interpreter hears every word,
            # a consultation is a conversation, consecutive is heard like anyone.
            assert heard == could, receiver
            continue
        for source, gain in heard.items():
            if turned is Direction.TO_PARTY:
                want = (1.0 if source in interpreters else DUCKED_GAIN) if receiver in needs else 1.0
            else:
                want = DUCKED_GAIN if receiver not in needs and source in needs else 1.0
            assert gain == want, (receiver, source, turned)
        # To the party: only those who need it hear the interpreter; to the
        # court: only those who do not.
        rendered_to = (receiver in needs) == (turned is Direction.TO_PARTY)
        assert set(heard) & interpreters == (set(could) & interpreters if rendered_to else set()), (receiver, turned)


@settings(max_examples=300, deadline=None)
@given(states())
def test_the_interpreter_hears_every_party_the_judge_has_not_muted_whatever_the_mode(state: MediaState) -> None:
    receiver = "interpreter"
    if receiver in state.lobby:
        return
    expected = set()
    for source in set(ROLES) - {receiver}:
        if source in state.lobby or Hidden(source, receiver, Medium.AUDIO) in state.hidden:
            continue
        if receiver in state.consultation:
            if source in state.consultation:
                expected.add(source)
        elif source not in state.consultation and source not in state.muted:
            expected.add(source)
    assert gains(state, receiver) == dict.fromkeys(expected, 1.0)

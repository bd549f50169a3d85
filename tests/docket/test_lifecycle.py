from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hearing.docket.lifecycle import (
    FINAL_STATES,
    HearingState,
    Transition,
    available,
    next_state,
)
from hearing.errors import InvalidTransition

S, T = HearingState, Transition


def test_the_ordinary_path_of_a_remand_extension_hearing() -> None:
    state = S.SCHEDULED
    for transition, expected in [
        (T.OPEN, S.OPEN),
        (T.START, S.IN_SESSION),
        (T.PAUSE, S.PAUSED),
        (T.RESUME, S.IN_SESSION),
        (T.BEGIN_CONSULTATION, S.CONSULTATION),
        (T.END_CONSULTATION, S.IN_SESSION),
        (T.CLOSE, S.CLOSED),
    ]:
        state = next_state(state, transition)
        assert state is expected


@pytest.mark.parametrize("state", [S.SCHEDULED, S.OPEN, S.IN_SESSION, S.PAUSED, S.CONSULTATION])
def test_the_judge_can_always_convert_a_live_hearing_to_physical(state: HearingState) -> None:
    assert next_state(state, T.CONVERT_TO_PHYSICAL) is S.CONVERTED_TO_PHYSICAL


@pytest.mark.parametrize(
    ("state", "transition"),
    [
        (S.SCHEDULED, T.START),
        (S.OPEN, T.PAUSE),
        (S.PAUSED, T.BEGIN_CONSULTATION),
        (S.CONSULTATION, T.CLOSE),
        (S.CLOSED, T.OPEN),
        (S.ADJOURNED, T.RESUME),
        (S.CONVERTED_TO_PHYSICAL, T.CONVERT_TO_PHYSICAL),
    ],
)
def test_invalid_transitions_raise_a_stable_code(state: HearingState, transition: Transition) -> None:
    with pytest.raises(InvalidTransition) as info:
        next_state(state, transition)
    assert info.value.code == "invalid_transition"
    assert info.value.status == 409


def test_final_states_offer_nothing() -> None:
    for state in FINAL_STATES:
        assert available(state) == []


@given(st.lists(st.sampled_from(list(Transition)), max_size=40))
def test_random_sequences_only_move_along_defined_edges(transitions: list[Transition]) -> None:
    state = S.SCHEDULED
    for transition in transitions:
        if transition in available(state):
            new = next_state(state, transition)
            assert new is not state
            state = new
        else:
            with pytest.raises(InvalidTransition):
                next_state(state, transition)
        # Once final, always final.
        if state in FINAL_STATES:
            assert available(state) == []

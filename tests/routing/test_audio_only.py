"""Rule 8: a seat on audio only sends and receives no video; its sound is
routed as before."""

from __future__ import annotations

import pytest

from hearing.docket.parties import ParticipantRole as R
from hearing.routing.policy import RECORDER, Hidden, MediaState, Medium, Unseen, route, unseen

ROLES = {"judge": R.JUDGE, "courtroom": R.JUDGE, "custody": R.DETAINEE, "interpreter-4": R.INTERPRETER}


def test_an_audio_only_seat_sends_and_receives_no_video_and_its_sound_is_unchanged() -> None:
    before = route(MediaState(ROLES, recording=True))
    after = route(MediaState(ROLES, recording=True, audio_only=frozenset({"custody"})))
    assert after["custody"].video == ()
    for receiver, routed in after.items():
        assert "custody" not in routed.video, receiver
        assert routed.audio == before[receiver].audio, receiver
        if receiver != "custody":
            assert set(routed.video) == set(before[receiver].video) - {"custody"}, receiver
    assert before[RECORDER].video and "custody" not in after[RECORDER].video


def test_audio_only_is_said_as_the_reason_for_a_missing_picture() -> None:
    state = MediaState(ROLES, audio_only=frozenset({"custody"}))
    assert unseen(state, "custody", "judge") is Unseen.AUDIO_ONLY
    assert unseen(state, "courtroom", "custody") is Unseen.AUDIO_ONLY
    assert unseen(state, "courtroom", "judge") is None
    # The judge's own decisions are said first: they stay when video returns.
    screened = MediaState(
        ROLES, audio_only=frozenset({"custody"}), hidden=frozenset({Hidden("custody", "judge", Medium.VIDEO)})
    )
    assert unseen(screened, "custody", "judge") is Unseen.SCREENED


def test_a_consultation_on_audio_only_still_hears_only_its_members() -> None:
    state = MediaState(ROLES, consultation=frozenset({"custody"}), audio_only=frozenset({"custody"}))
    routes = route(state)
    assert routes["custody"].audio == () and routes["custody"].video == ()
    assert not any(r.hears("custody") for r in routes.values())


def test_audio_only_names_only_participants() -> None:
    with pytest.raises(ValueError, match="audio only"):
        MediaState(ROLES, audio_only=frozenset({"nobody"}))

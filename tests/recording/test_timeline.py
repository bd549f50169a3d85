from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearing.audit.actions import Action
from hearing.audit.reader import ReadEntry
from hearing.audit.sentences import Who
from hearing.errors import InvalidInput
from hearing.recording import timeline as tl
from tests.audit.test_sentences import REALISTIC

TZ = ZoneInfo("Europe/Copenhagen")
T0 = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
JUDGE = Who("user", 4, "judge", "Judge Holm")
KIOSK = Who("device", 7, "custody", "kiosk-a")
SYSTEM = Who("system", None, None)
A = Action


def story(*steps: tuple[float, Action, Who, dict[str, Any]]) -> list[ReadEntry]:
    return [
        ReadEntry(seq, T0 + timedelta(seconds=at), who, action.value, payload)
        for seq, (at, action, who, payload) in enumerate(steps, start=1)
    ]


def state(a: str, b: str) -> dict[str, str]:
    return {"from_state": a, "to_state": b}


HEARING = story(
    (0, A.HEARING_OPENED, JUDGE, state("scheduled", "open")),
    (5, A.PARTICIPANT_JOINED, KIOSK, {"seat": "custody"}),
    (10, A.LOBBY_ADMITTED, JUDGE, {"version": 1, "seat": "custody"}),
    (20, A.HEARING_STARTED, JUDGE, state("open", "in_session")),
    (20.5, A.RECORDING_STARTED, SYSTEM, {"recording_id": 3}),
    (30, A.FLOOR_GRANTED, JUDGE, {"version": 2, "speaker": "courtroom:prosecutor"}),
    (60, A.FLOOR_GRANTED, JUDGE, {"version": 3, "speaker": "custody:detainee", "keep_previous": True}),
    (90, A.FLOOR_GRANTED, JUDGE, {"version": 4, "speaker": "courtroom:defence_counsel"}),
    (95, A.AUDIT_READ, Who("user", 5, "auditor", "Auditor"), {"hearing": 1, "entries": 9}),
    (100, A.FLOOR_MUTED, JUDGE, {"version": 5, "seat": "custody"}),
    (110, A.FLOOR_HIDDEN, JUDGE, {"version": 6, "source": "custody", "receiver": "courtroom", "medium": "video"}),
    (120, A.FLOOR_UNMUTED, JUDGE, {"version": 7, "seat": "custody"}),
    (130, A.FLOOR_TAKEN_BACK, JUDGE, {"version": 8}),
    (140, A.INTERPRETATION_SET, JUDGE, {"version": 9, "mode": "consecutive", "needs": ["custody"]}),
    (150, A.CONSULTATION_STARTED, JUDGE, {**state("in_session", "consultation"), "members": ["custody", "booth"]}),
    (150.2, A.RECORDING_PAUSED, SYSTEM, {"recording_id": 3, "why": "consultation", "at_seconds": 129.7}),
    (210, A.CONSULTATION_ENDED, JUDGE, {**state("consultation", "in_session"), "members": ["custody", "booth"]}),
    (210.1, A.RECORDING_RESUMED, SYSTEM, {"recording_id": 3, "why": "consultation", "at_seconds": 129.7}),
    (220, A.HEARING_INTERRUPTED, SYSTEM, {"seat": "custody", "paused": True, **state("in_session", "paused")}),
    (232.4, A.HEARING_LINK_RESTORED, SYSTEM, {"seat": "custody", "duration_seconds": 12.4, "in_time": True}),
    (240, A.HEARING_RESUMED, JUDGE, state("paused", "in_session")),
    (300, A.HEARING_CLOSED, JUDGE, state("in_session", "closed")),
    (
        301,
        A.RECORDING_SEALED,
        SYSTEM,
        {"recording_id": 3, "manifest_sha256": "ab" * 32, "segments": 22, "seconds": 210.3, "interrupted": False},
    ),
)


def spans(record: tl.Timeline, kind: str) -> list[tuple[Any, ...]]:
    """(start offset, end offset, who) of each span of a kind, in seconds from T0."""

    def off(at: datetime | None) -> float | None:
        return None if at is None else (at - T0).total_seconds()

    return [(off(s.start), off(s.end), s.seat or s.speaker) for s in record.spans_of(kind)]


def test_the_record_keeps_the_case_file_and_leaves_the_audit_trail_out() -> None:
    record = tl.timeline(HEARING, tz=TZ)
    actions = [e.action for e in record.events]
    assert A.AUDIT_READ.value not in actions
    assert len(record.events) == len(HEARING) - 1
    assert [e.seq for e in record.events] == sorted(e.seq for e in record.events)
    assert record.section(tl.ADMISSION)[1].seat == "custody"


def test_the_floor_passes_and_a_kept_speaker_stays_until_taken_back() -> None:
    record = tl.timeline(HEARING, tz=TZ)
    assert spans(record, tl.HOLDS_FLOOR) == [
        # Kept live when the detainee got the floor, the prosecutor stays live
        # until the floor is taken back (hearing/speaker_order/floor.py: grant).
        (30, 130, "courtroom:prosecutor"),
        # The next grant, without keeping, ends the detainee's turn.
        (60, 90, "custody:detainee"),
        (90, 130, "courtroom:defence_counsel"),
    ]


def test_a_grant_without_keeping_ends_only_the_holder() -> None:
    entries = story(
        (0, A.FLOOR_GRANTED, JUDGE, {"speaker": "courtroom:prosecutor"}),
        (10, A.FLOOR_GRANTED, JUDGE, {"speaker": "custody:detainee", "keep_previous": True}),
        (20, A.FLOOR_GRANTED, JUDGE, {"speaker": "courtroom:defence_counsel"}),
        (30, A.FLOOR_TAKEN_BACK, JUDGE, {}),
    )
    assert spans(tl.timeline(entries, tz=TZ), tl.HOLDS_FLOOR) == [
        (0, 30, "courtroom:prosecutor"),
        (10, 20, "custody:detainee"),
        (20, 30, "courtroom:defence_counsel"),
    ]


def test_mutes_screening_consultations_interruptions_and_interpretation() -> None:
    record = tl.timeline(HEARING, tz=TZ)
    assert spans(record, tl.MUTED) == [(100, 120, "custody")]
    # Screening still on when the hearing closed ends with it.
    assert spans(record, tl.HIDDEN) == [(110, 300, "custody")]
    assert record.spans_of(tl.HIDDEN)[0].details == {"receiver": "courtroom", "medium": "video"}
    (consultation,) = record.spans_of(tl.IN_CONSULTATION)
    assert (consultation.seconds, consultation.members) == (60, ("booth", "custody"))
    (gap,) = record.spans_of(tl.INTERRUPTED)
    assert (gap.seat, gap.details["duration_seconds"]) == ("custody", 12.4)
    assert gap.seconds == pytest.approx(12.4)
    (interpreted,) = record.spans_of(tl.INTERPRETED)
    assert (interpreted.details, interpreted.members, spans(record, tl.INTERPRETED)[0][:2]) == (
        {"mode": "consecutive"},
        ("custody",),
        (140, 300),
    )


def test_the_hearing_s_states_follow_its_transitions() -> None:
    record = tl.timeline(HEARING, tz=TZ)
    said = [(s.details["state"], s.seconds) for s in record.spans_of(tl.STATE)]
    assert said == [
        ("open", 20),
        ("in_session", 130),
        ("consultation", 60),
        ("in_session", 10),
        ("paused", 20),
        ("in_session", 60),
    ]


def test_the_recording_its_pause_for_the_consultation_and_its_seal() -> None:
    record = tl.timeline(HEARING, tz=TZ)
    (recorded,) = record.spans_of(tl.RECORDED)
    assert (recorded.start_seq, recorded.end_seq) == (5, 23)
    assert recorded.details == {"recording_id": 3, "segments": 22, "seconds": 210.3, "interrupted": False}
    (pause,) = record.spans_of(tl.RECORDING_PAUSED)
    assert pause.details == {"recording_id": 3, "why": "consultation", "at_seconds": 129.7, "resumed_at_seconds": 129.7}
    # The consultation lies inside the recording's pause: nothing of it was recorded.
    (consultation,) = record.spans_of(tl.IN_CONSULTATION)
    assert pause.start >= consultation.start and pause.end is not None and consultation.end is not None
    assert pause.start - consultation.start < timedelta(seconds=1)


def test_a_recording_not_yet_sealed_stays_open() -> None:
    record = tl.timeline(HEARING[:-1], tz=TZ)
    (recorded,) = record.spans_of(tl.RECORDED)
    assert (recorded.end, recorded.end_seq, recorded.seconds) == (None, None, None)


def test_every_event_has_its_sentence_in_both_languages() -> None:
    record = tl.timeline(HEARING, tz=TZ)
    grant = record.section(tl.FLOOR)[0]
    assert grant.words == {
        "da": "Judge Holm (dommer) gav ordet til anklageren (retssalen)",
        "en": "Judge Holm (judge) gave the floor to the prosecutor (courtroom)",
    }
    assert grant.speaker == "courtroom:prosecutor"


def test_the_json_has_stable_keys_and_survives_a_round_trip() -> None:
    record = tl.timeline(HEARING, tz=TZ)
    data = record.to_json()
    assert set(data) == {"events", "spans"}
    assert set(data["events"][0]) == {"seq", "at", "action", "section", "actor", "seat", "speaker", "details", "words"}
    assert set(data["spans"][0]) == {
        *("kind", "start", "start_seq", "end", "end_seq", "seconds"),
        *("seat", "speaker", "members", "details"),
    }
    assert json.loads(json.dumps(data)) == data
    assert data["events"][0]["actor"] == {"kind": "user", "id": 4, "role": "judge", "name": "Judge Holm"}
    assert data["events"][0]["at"] == "2026-12-01T08:30:00+00:00"


def test_a_span_cannot_end_before_it_starts() -> None:
    with pytest.raises(InvalidInput, match="before it starts"):
        tl.Span(tl.MUTED, T0, 2, end=T0 - timedelta(seconds=1), end_seq=3)
    with pytest.raises(InvalidInput, match="both its time and its entry"):
        tl.Span(tl.MUTED, T0, 2, end=T0)
    with pytest.raises(InvalidInput, match="No span"):
        tl.Span("nap", T0, 2)


def test_a_clock_that_stepped_back_still_gives_a_span_that_ends_after_it_starts() -> None:
    entries = story((10, A.FLOOR_MUTED, JUDGE, {"seat": "custody"}), (4, A.FLOOR_UNMUTED, JUDGE, {"seat": "custody"}))
    (muted,) = tl.timeline(entries, tz=TZ).spans_of(tl.MUTED)
    assert muted.seconds == 0


def test_odd_payloads_are_events_and_open_nothing() -> None:
    entries = story(
        (0, A.FLOOR_MUTED, JUDGE, {"seat": 7}),
        (1, A.CONSULTATION_ENDED, JUDGE, {}),
        (2, A.RECORDING_PAUSED, SYSTEM, {"recording_id": "three"}),
        (3, A.HEARING_LINK_RESTORED, SYSTEM, {"seat": "custody"}),
    )
    entries.append(ReadEntry(9, T0, JUDGE, A.FLOOR_HIDDEN.value, None, "shredded"))
    record = tl.timeline(entries, tz=TZ)
    assert len(record.events) == 5
    assert record.spans == ()


# Every action the record takes, with a realistic payload (the audit sentences' own).
RECORDED_ACTIONS = sorted(a for a in REALISTIC if a.value in tl.SECTION_OF)
WHO_AND_PAYLOAD = {a: REALISTIC[a] for a in RECORDED_ACTIONS}


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(RECORDED_ACTIONS + [A.AUDIT_READ]), st.floats(min_value=-5, max_value=60)),
        max_size=40,
    ),
    st.randoms(use_true_random=False),
)
def test_any_order_of_real_actions_never_crashes_nor_ends_a_span_before_it_starts(
    steps: list[tuple[Action, float]], rnd: Any
) -> None:
    at = T0
    entries = []
    for seq, (action, step) in enumerate(steps, start=1):
        # Mostly forward, sometimes a clock stepping back.
        at += timedelta(seconds=step)
        who, payload = REALISTIC[action]
        entries.append(ReadEntry(seq, at, who, action.value, dict(payload)))
    rnd.shuffle(entries)
    record = tl.timeline(entries, tz=TZ)
    assert [e.seq for e in record.events] == sorted(e.seq for e in record.events)
    for span in record.spans:
        assert span.end is None or (span.end >= span.start and span.end_seq is not None)
        assert span.end_seq is None or span.end_seq >= span.start_seq
    json.dumps(record.to_json())

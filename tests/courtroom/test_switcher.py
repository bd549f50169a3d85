from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearing.courtroom.switcher import (
    Decision,
    Override,
    Switcher,
    SwitcherConfig,
    SwitchInputs,
    SwitchState,
    decide,
)
from hearing.errors import ConfigurationError, InvalidInput

SEATS = ("judge", "prosecutor", "defence", "witness")
CONFIG = SwitcherConfig(
    cameras={f"cam-{seat}": seat for seat in SEATS},
    overview="overview",
    threshold=-40.0,
    hold_seconds=1.5,
    min_speech_seconds=0.3,
    silence_seconds=2.0,
)
CAMERAS = sorted(CONFIG.all_cameras)
LOUD, QUIET = -20.0, -70.0


def levels(*speaking: str, level: float = LOUD) -> dict[str, float]:
    return {seat: (level if seat in speaking else QUIET) for seat in SEATS}


def run(switcher: Switcher, start: float, end: float, *speaking: str, dt: float = 0.1) -> Decision:
    """Step every `dt` from `start` up to and including `end`."""
    decision = None
    steps = round((end - start) / dt)
    for i in range(steps + 1):
        decision = switcher.step(start + i * dt, levels(*speaking))
    assert decision is not None
    return decision


# --- the court, by example ---------------------------------------------------


def test_the_program_opens_on_the_overview() -> None:
    assert Switcher(CONFIG).step(0.0, levels()) == Decision("overview", "overview")


def test_the_prosecutor_speaks_for_two_seconds_and_is_shown() -> None:
    switcher = Switcher(CONFIG)
    run(switcher, 0.0, 2.0)  # a quiet courtroom: the hold after opening passes
    assert run(switcher, 2.1, 4.1, "prosecutor") == Decision("cam-prosecutor", "voice")


def test_a_cough_of_a_fifth_of_a_second_switches_nothing() -> None:
    switcher = Switcher(CONFIG)
    run(switcher, 0.0, 2.0)
    run(switcher, 2.1, 2.3, "defence")  # 0.2 s
    assert run(switcher, 2.4, 4.0) == Decision("overview", "overview")


def test_the_judge_gives_the_floor_to_defence_counsel_at_once() -> None:
    switcher = Switcher(CONFIG)
    run(switcher, 0.0, 2.0)
    assert run(switcher, 2.1, 4.1, "prosecutor").camera == "cam-prosecutor"
    # 0.1 s after the last switch: the hold would stop a voice, not the floor.
    assert switcher.step(4.2, levels("prosecutor"), floor_seat="defence") == Decision("cam-defence", "floor")


def test_the_floor_to_the_custody_seat_leaves_the_courtroom_picture_to_the_voices() -> None:
    switcher = Switcher(CONFIG)
    run(switcher, 0.0, 2.0)
    assert switcher.step(2.1, levels(), floor_seat="custody") == Decision("overview", "overview")


def test_two_talking_at_once_bring_the_overview_after_the_silence() -> None:
    switcher = Switcher(CONFIG)
    run(switcher, 0.0, 2.0)
    assert run(switcher, 2.1, 4.1, "prosecutor").camera == "cam-prosecutor"
    assert run(switcher, 4.2, 5.9, "prosecutor", "defence").camera == "cam-prosecutor"
    assert run(switcher, 6.0, 6.7, "prosecutor", "defence") == Decision("overview", "overview")


def test_a_quick_reply_waits_for_the_hold() -> None:
    switcher = Switcher(CONFIG)
    run(switcher, 0.0, 2.0)
    run(switcher, 2.1, 2.4, "witness")  # shown at 2.4
    assert run(switcher, 2.5, 3.5, "judge") == Decision("cam-witness", "hold")
    assert run(switcher, 3.6, 4.0, "judge") == Decision("cam-judge", "voice")


def test_a_move_held_off_and_given_up_leaves_the_reason_as_it_was() -> None:
    switcher = Switcher(CONFIG)
    run(switcher, 0.0, 2.0)
    run(switcher, 2.1, 2.4, "witness")  # shown at 2.4
    assert run(switcher, 2.5, 3.0, "judge") == Decision("cam-witness", "hold")
    assert switcher.step(3.1, levels("witness")) == Decision("cam-witness", "voice")


def test_the_judge_pins_a_camera_and_a_layout_until_released() -> None:
    switcher = Switcher(CONFIG)
    run(switcher, 0.0, 2.0)
    pin = Override(camera="cam-witness", layout="grid")
    for i in range(10):
        decision = switcher.step(2.1 + i * 0.1, levels("prosecutor"), override=pin)
        assert decision == Decision("cam-witness", "override", "grid")
    # Released: the prosecutor, still speaking, is shown once the hold since
    # the pin (at 2.1) has passed.
    assert switcher.step(3.1, levels("prosecutor")) == Decision("cam-witness", "hold")
    assert run(switcher, 3.2, 3.7, "prosecutor") == Decision("cam-prosecutor", "voice")


def test_a_layout_alone_leaves_the_camera_to_the_rules() -> None:
    switcher = Switcher(CONFIG)
    decision = switcher.step(0.0, levels(), override=Override(layout="speaker-strip"))
    assert decision == Decision("overview", "overview", "speaker-strip")


def test_a_camera_that_dies_is_replaced_at_once() -> None:
    switcher = Switcher(CONFIG)
    run(switcher, 0.0, 2.0)
    assert run(switcher, 2.1, 4.1, "prosecutor").camera == "cam-prosecutor"
    dead = frozenset({"cam-prosecutor"})
    assert switcher.step(4.2, levels("prosecutor"), unavailable=dead) == Decision("overview", "overview")
    no_overview = frozenset({"cam-prosecutor", "overview"})
    assert switcher.step(4.3, levels("prosecutor"), unavailable=no_overview) == Decision("cam-defence", "fallback")
    assert switcher.step(4.4, levels(), unavailable=frozenset(CAMERAS)) == Decision(None, "fallback")


def test_a_pinned_camera_that_dies_is_not_shown() -> None:
    switcher = Switcher(CONFIG)
    pin = Override(camera="cam-judge")
    decision = switcher.step(0.0, levels(), override=pin, unavailable=frozenset({"cam-judge"}))
    assert decision == Decision("overview", "override")


def test_the_threshold_itself_is_not_speech() -> None:
    switcher = Switcher(CONFIG)
    run(switcher, 0.0, 2.0)
    for i in range(30):
        decision = switcher.step(2.1 + i * 0.1, levels("witness", level=CONFIG.threshold))
    assert decision.camera == "overview"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"overview": ""}, "overview"),
        ({"cameras": {"a": "judge", "b": "judge"}}, "two cameras"),
        ({"threshold": 3.0}, "dBFS"),
        ({"hold_seconds": -1.0}, "hold_seconds"),
        ({"silence_seconds": float("nan")}, "silence_seconds"),
    ],
)
def test_a_bad_configuration_is_refused_clearly(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        dataclasses.replace(CONFIG, **changes)  # type: ignore[arg-type]


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(InvalidInput):
        Override()
    with pytest.raises(InvalidInput):
        SwitchInputs(0.0, {"judge": float("nan")})
    state, _ = decide(CONFIG, SwitchState(), SwitchInputs(1.0, {}))
    with pytest.raises(InvalidInput, match="backwards"):
        decide(CONFIG, state, SwitchInputs(0.5, {}))
    with pytest.raises(InvalidInput, match="Unknown cameras"):
        decide(CONFIG, state, SwitchInputs(1.0, {}, unavailable=frozenset({"cam-usher"})))
    with pytest.raises(InvalidInput, match="unknown camera"):
        decide(CONFIG, state, SwitchInputs(1.0, {}, override=Override(camera="cam-usher")))


# --- properties over random scripts ----------------------------------------


@dataclasses.dataclass(frozen=True)
class Segment:
    speaking: frozenset[str]
    level: float  # of those speaking; the threshold itself is not speech
    duration: float
    dt: float
    floor_seat: str | None
    override: Override | None
    unavailable: frozenset[str]


segments = st.builds(
    Segment,
    speaking=st.frozensets(st.sampled_from(SEATS), max_size=2),
    level=st.sampled_from([LOUD, -39.9, CONFIG.threshold, -45.0]),
    duration=st.sampled_from([0.05, 0.2, 0.29, 0.35, 1.0, 1.6, 2.5, 4.0]),
    dt=st.sampled_from([0.02, 0.1, 0.25]),
    floor_seat=st.sampled_from([None, None, "custody", *SEATS]),
    override=st.one_of(
        st.none(),
        st.none(),
        st.none(),
        st.builds(
            Override,
            camera=st.sampled_from(CAMERAS),
            layout=st.sampled_from([None, "single", "grid"]),
        ),
        st.builds(Override, layout=st.just("grid")),
    ),
    unavailable=st.one_of(
        st.just(frozenset[str]()),
        st.just(frozenset[str]()),
        st.frozensets(st.sampled_from(CAMERAS), max_size=len(CAMERAS)),
    ),
)


def play(script: Sequence[Segment]) -> list[tuple[SwitchInputs, Decision]]:
    history: list[tuple[SwitchInputs, Decision]] = []
    state, now = SwitchState(), 0.0
    for segment in script:
        for _ in range(max(1, round(segment.duration / segment.dt))):
            inputs = SwitchInputs(
                now=round(now, 6),
                levels=levels(*segment.speaking, level=segment.level),
                floor_seat=segment.floor_seat,
                override=segment.override,
                unavailable=segment.unavailable,
            )
            state, decision = decide(CONFIG, state, inputs)
            history.append((inputs, decision))
            now += segment.dt
    return history


def switches(history: list[tuple[SwitchInputs, Decision]]) -> list[int]:
    """The steps at which the program camera changed (the first step counts)."""
    return [i for i, (_, d) in enumerate(history) if i == 0 or d.camera != history[i - 1][1].camera]


def speaks(inputs: SwitchInputs, seat: str) -> bool:
    return inputs.levels.get(seat, float("-inf")) > CONFIG.threshold


scripts = st.lists(segments, min_size=1, max_size=12)
PROPERTY = settings(max_examples=200, deadline=None)


@PROPERTY
@given(scripts)
def test_voices_and_the_overview_never_switch_within_the_hold(script: list[Segment]) -> None:
    history = play(script)
    changes = switches(history)
    for before, after in zip(changes, changes[1:], strict=False):
        inputs, decision = history[after]
        shown = history[after - 1][1].camera
        if shown is None or shown in inputs.unavailable:
            continue  # the camera shown died: replaced at once, not by the voices
        if decision.reason in ("voice", "overview"):
            assert inputs.now - history[before][0].now >= CONFIG.hold_seconds - 1e-9


@PROPERTY
@given(scripts)
def test_a_voice_switch_follows_a_sustained_sound_above_the_threshold(script: list[Segment]) -> None:
    history = play(script)
    for i in switches(history):
        inputs, decision = history[i]
        if decision.reason != "voice":
            continue
        assert decision.camera is not None
        seat = CONFIG.cameras[decision.camera]
        # Above the threshold at every step back to one at least
        # min_speech_seconds earlier: never a short or quiet sound.
        j = i
        while j > 0 and speaks(history[j - 1][0], seat) and inputs.now - history[j][0].now < CONFIG.min_speech_seconds:
            j -= 1
        assert all(speaks(history[k][0], seat) for k in range(j, i + 1))
        assert inputs.now - history[j][0].now >= CONFIG.min_speech_seconds - 1e-9


@PROPERTY
@given(scripts)
def test_an_active_override_is_always_obeyed(script: list[Segment]) -> None:
    for inputs, decision in play(script):
        override = inputs.override
        if override is None:
            assert decision.layout is None
            continue
        assert decision.layout == override.layout
        if override.camera is not None:
            assert decision.reason == "override"
            if override.camera not in inputs.unavailable:
                assert decision.camera == override.camera


@PROPERTY
@given(scripts)
def test_a_floor_change_to_a_courtroom_seat_is_followed_at_once(script: list[Segment]) -> None:
    history = play(script)
    for i, (inputs, decision) in enumerate(history):
        previous_floor = history[i - 1][0].floor_seat if i > 0 else None
        if inputs.floor_seat == previous_floor or inputs.floor_seat is None:
            continue
        if inputs.override is not None and inputs.override.camera is not None:
            continue
        camera = CONFIG.camera_of(inputs.floor_seat)
        if camera is None or camera in inputs.unavailable:
            continue
        assert decision == Decision(camera, "floor", inputs.override.layout if inputs.override else None)


@PROPERTY
@given(scripts)
def test_silence_falls_back_to_the_overview(script: list[Segment]) -> None:
    history = play(script)
    window = CONFIG.silence_seconds + CONFIG.hold_seconds
    start = 0
    for i, (inputs, decision) in enumerate(history):
        calm = (
            not any(speaks(inputs, seat) for seat in SEATS)
            and (inputs.override is None or inputs.override.camera is None)
            and "overview" not in inputs.unavailable
            and (i == 0 or inputs.floor_seat == history[i - 1][0].floor_seat)
        )
        if not calm:
            start = i + 1
            continue
        if inputs.now - history[start][0].now >= window:
            assert decision.camera == "overview"


@PROPERTY
@given(scripts)
def test_an_unavailable_camera_is_never_chosen(script: list[Segment]) -> None:
    for inputs, decision in play(script):
        if decision.camera is None:
            assert inputs.unavailable == CONFIG.all_cameras
        else:
            assert decision.camera not in inputs.unavailable

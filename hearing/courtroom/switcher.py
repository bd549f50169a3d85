"""The switcher: which courtroom camera the program shows.

A pure function of its inputs and time: `decide(config, state, inputs)`
returns the next `SwitchState` and a `Decision`; nothing here reads a clock,
a device or the network (the rig agent calls it every tick with the levels
it measured, the floor it was told and the judge's override). `Switcher`
holds the state for a caller that prefers an object.

The rules, first match wins:

1. The judge's override pins a camera (and/or a layout) until released.
2. The floor leads: when the floor passes to a seat with a camera, that
   camera is shown at once; the hold does not delay it.
3. A program camera that is gone (unavailable, or nothing shown yet) is
   replaced at once: by the overview, else any available camera, else none.
4. Voices: a seat whose level stays above the threshold for
   `min_speech_seconds` is the candidate and is shown once `hold_seconds`
   have passed since the last switch; nobody, or several at once, for
   `silence_seconds` brings the overview (also after the hold).

The floor does not lock the picture: after a floor change the voices rule
again, so the judge interrupting is shown like anyone else.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

from hearing.errors import ConfigurationError, InvalidInput

# Why the program shows its camera. "hold": the rules would move the
# picture, but the hold since the last switch has not passed (or an
# override was released and nothing has asked for a move since).
# "fallback": the camera shown before became unavailable.
Reason = Literal["override", "floor", "voice", "overview", "hold", "fallback"]


@dataclasses.dataclass(frozen=True)
class SwitcherConfig:
    cameras: Mapping[str, str]  # camera id -> seat
    overview: str  # camera id; need not belong to a seat
    threshold: float = -40.0  # dBFS; strictly above counts as speaking
    hold_seconds: float = 1.5
    min_speech_seconds: float = 0.3
    silence_seconds: float = 2.0

    def __post_init__(self) -> None:
        if not self.overview:
            raise ConfigurationError("The switcher needs an overview camera.")
        seats: dict[str, str] = {}
        for camera, seat in self.cameras.items():
            if not camera or not seat:
                raise ConfigurationError("Every camera needs an id and a seat.")
            if seat in seats:
                # One camera per seat: otherwise a speaker's camera is ambiguous.
                raise ConfigurationError(f"Seat {seat!r} has two cameras: {seats[seat]!r} and {camera!r}.")
            seats[seat] = camera
        if not math.isfinite(self.threshold) or self.threshold > 0:
            raise ConfigurationError(f"The threshold is in dBFS (at most 0), not {self.threshold!r}.")
        for name in ("hold_seconds", "min_speech_seconds", "silence_seconds"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ConfigurationError(f"{name} must be a non-negative number of seconds, not {value!r}.")
        # Frozen, so the mapping cannot change under a running switcher.
        object.__setattr__(self, "cameras", MappingProxyType(dict(self.cameras)))

    @property
    def all_cameras(self) -> frozenset[str]:
        return frozenset(self.cameras) | {self.overview}

    def camera_of(self, seat: str) -> str | None:
        for camera, owner in self.cameras.items():
            if owner == seat:
                return camera
        return None


@dataclasses.dataclass(frozen=True)
class Override:
    """The judge's choice: a pinned camera, a layout, or both."""

    camera: str | None = None
    layout: str | None = None

    def __post_init__(self) -> None:
        if self.camera is None and self.layout is None:
            raise InvalidInput("An override pins a camera or a layout.", field="override")
        if self.camera == "" or self.layout == "":
            raise InvalidInput("An override's camera and layout are not empty.", field="override")


@dataclasses.dataclass(frozen=True)
class SwitchInputs:
    now: float  # seconds, from the caller's monotonic clock
    levels: Mapping[str, float]  # seat -> dBFS; a seat left out is silent
    floor_seat: str | None = None
    override: Override | None = None
    unavailable: frozenset[str] = frozenset()  # camera ids

    def __post_init__(self) -> None:
        if not math.isfinite(self.now):
            raise InvalidInput(f"The time must be a finite number, not {self.now!r}.", field="now")
        for seat, level in self.levels.items():
            # -inf is digital silence; NaN is a meter's bug.
            if math.isnan(level):
                raise InvalidInput(f"The level of seat {seat!r} is not a number.", field="levels")


@dataclasses.dataclass(frozen=True)
class Decision:
    camera: str | None  # None only when every camera is unavailable
    reason: Reason
    layout: str | None = None  # the override's layout; None for the rig's default


@dataclasses.dataclass(frozen=True)
class SwitchState:
    camera: str | None = None
    reason: Reason = "fallback"  # why `camera` was chosen
    now: float | None = None  # the last step's time
    last_switch: float | None = None  # when the program camera last changed
    floor_seat: str | None = None
    # seat -> time of the first of its consecutive steps above the threshold
    above_since: Mapping[str, float] = dataclasses.field(default_factory=lambda: MappingProxyType({}))
    # since when nobody, or several, have been speaking (None: exactly one)
    unclear_since: float | None = None


def decide(config: SwitcherConfig, state: SwitchState, inputs: SwitchInputs) -> tuple[SwitchState, Decision]:
    now = inputs.now
    if state.now is not None and now < state.now:
        raise InvalidInput(f"Time went backwards: {now!r} after {state.now!r}.", field="now")
    unknown = inputs.unavailable - config.all_cameras
    if unknown:
        raise InvalidInput(f"Unknown cameras marked unavailable: {sorted(unknown)}.", field="unavailable")
    override = inputs.override
    if override is not None and override.camera is not None and override.camera not in config.all_cameras:
        raise InvalidInput(f"The override pins an unknown camera {override.camera!r}.", field="override")

    available = config.all_cameras - inputs.unavailable
    above_since = {
        seat: state.above_since.get(seat, now)
        for seat in config.cameras.values()
        if inputs.levels.get(seat, -math.inf) > config.threshold
    }
    speakers = [seat for seat, since in above_since.items() if now - since >= config.min_speech_seconds]
    if len(speakers) == 1:
        unclear_since = None
    else:
        unclear_since = state.unclear_since if state.unclear_since is not None else now
    floor_changed = inputs.floor_seat != state.floor_seat

    camera, reason = _choose(
        config, state, now, available, speakers, unclear_since, floor_changed, inputs.floor_seat, override
    )
    switched = camera != state.camera
    new_state = SwitchState(
        camera=camera,
        # Why the camera shown was chosen: a held-off move does not change it.
        reason=state.reason if reason == "hold" else reason,
        now=now,
        last_switch=now if switched else state.last_switch,
        floor_seat=inputs.floor_seat,
        above_since=MappingProxyType(above_since),
        unclear_since=unclear_since,
    )
    layout = override.layout if override is not None else None
    return new_state, Decision(camera=camera, reason=reason, layout=layout)


def _choose(
    config: SwitcherConfig,
    state: SwitchState,
    now: float,
    available: frozenset[str],
    speakers: list[str],
    unclear_since: float | None,
    floor_changed: bool,
    floor_seat: str | None,
    override: Override | None,
) -> tuple[str | None, Reason]:
    if override is not None and override.camera is not None:
        if override.camera in available:
            return override.camera, "override"
        # A pinned camera that dies is never shown; the pin stays, so the
        # reason says the override is still what holds the picture.
        return _fallback(config, available), "override"

    if floor_changed and floor_seat is not None:
        floor_camera = config.camera_of(floor_seat)
        if floor_camera is not None and floor_camera in available:
            return floor_camera, "floor"

    if state.camera is None or state.camera not in available:
        fallback = _fallback(config, available)
        return fallback, "overview" if fallback == config.overview else "fallback"

    # An override just released: the picture stays until the rules move it.
    staying: Reason = "hold" if state.reason == "override" else state.reason

    wanted: str | None = None
    wanted_reason: Reason = "voice"
    if len(speakers) == 1:
        wanted = config.camera_of(speakers[0])
    elif unclear_since is not None and now - unclear_since >= config.silence_seconds:
        wanted, wanted_reason = config.overview, "overview"
    if wanted is None or wanted not in available or wanted == state.camera:
        return state.camera, staying
    if state.last_switch is not None and now - state.last_switch < config.hold_seconds:
        return state.camera, "hold"
    return wanted, wanted_reason


def _fallback(config: SwitcherConfig, available: frozenset[str]) -> str | None:
    if config.overview in available:
        return config.overview
    # Sorted, so the same inputs always give the same camera.
    return min(available, default=None)


class Switcher:
    """`decide` with its state kept: one per rig, stepped every tick."""

    def __init__(self, config: SwitcherConfig) -> None:
        self.config = config
        self.state = SwitchState()

    def step(
        self,
        now: float,
        levels: Mapping[str, float],
        floor_seat: str | None = None,
        override: Override | None = None,
        unavailable: frozenset[str] = frozenset(),
    ) -> Decision:
        inputs = SwitchInputs(now, levels, floor_seat, override, unavailable)
        self.state, decision = decide(self.config, self.state, inputs)
        return decision

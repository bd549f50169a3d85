"""One hearing in progress: the room, the floor it follows, who is connected.

Inputs arrive after each commit (a floor, with its interpretation mode; the
lifecycle moving; the recorder starting) and each one recomposes the media
state from *all* of them, so a floor command can never undo the recording
flag. Outputs go through channels: one per seat's
connection, one per open panel; a channel never blocks the sender.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from aiortc import RTCConfiguration, RTCIceCandidate

from hearing.custody.planb import Interruption, Interruptions, LinkJudge
from hearing.docket.lifecycle import HearingState, available
from hearing.live.pacing import TokenBucket
from hearing.media.health import Health
from hearing.media.mixer import Level
from hearing.media.rig_report import CameraChange, RigLevels, RigPreview, RigReport, RigView
from hearing.media.room import Room
from hearing.media.switchboard import Receiver
from hearing.routing import seats
from hearing.routing.policy import MediaState, Route, unseen
from hearing.speaker_order.floor import Floor

logger = logging.getLogger(__name__)

Message = dict[str, Any]
# Who sees everyone's health and audio levels besides the panels: the bench.
OVERSEERS = (seats.JUDGE,)
RECONNECT_SECONDS = 60.0  # a seat back within this is a reconnect, with the same routing
# Diagnostics and benchmarks: (hearing id, event, floor version), with the
# events "followed" (a newer floor taken), "rerouted" and "first_mix" (the
# mixer's first tick by the new routes).
Trace = Callable[[int, str, int], None]


def compose(floor: Floor, *, recording: bool = False, audio_only: frozenset[str] = frozenset()) -> MediaState:
    """The routing's whole input, from everything it depends on: composed
    here and nowhere else (tests/test_code_quality.py checks)."""
    return MediaState(
        floor.seat_roles,
        mode=floor.mode,
        floor=floor.holder_seat,
        kept_live=floor.kept_live_seats,
        muted=floor.muted,
        hidden=floor.hidden,
        lobby=floor.lobby,
        # The bench sees who waits in the lobby, to decide whether to admit them.
        lobby_viewers=frozenset({seats.JUDGE}) & frozenset(floor.seat_roles),
        consultation=floor.consultation,
        # The judge's interpretation mode is the floor's: a floor command sets
        # it, and the direction follows the floor holder (routing rule 6).
        interpretation=floor.interpretation,
        needs_interpretation=floor.needs_interpretation,
        recording=recording,
        # Only seats the floor knows: a seat's link may be judged before a
        # newer floor without it arrives.
        audio_only=audio_only & frozenset(floor.seat_roles),
    )


def heard_by(routes: dict[str, Route], seats_: frozenset[str] | set[str]) -> dict[str, list[str]]:
    """Per seat, whose route hears it now (the recorder's too, when it runs)."""
    return {seat: sorted(r for r, route in routes.items() if route.hears(seat)) for seat in sorted(seats_)}


def interpretation_of(floor: Floor, routes: dict[str, Route] | None = None) -> Message:
    """How the interpreter is heard, and who hears each seat now (issue 12).
    Without routes (a hearing not live in this process): nobody hears anyone."""
    return {
        "type": "interpretation",
        "mode": floor.interpretation.value,
        "direction": floor.direction.value,
        "needs": sorted(floor.needs_interpretation),
        "heard_by": heard_by(routes or {}, set(floor.seat_roles)),
    }


def lifecycle_of(state: HearingState) -> Message:
    return {"hearing_state": state.value, "transitions": [t.value for t in available(state)]}


def snapshot(
    floor: Floor,
    lifecycle: HearingState,
    *,
    seats: dict[str, Any] | None = None,
    recording: bool = False,
    interpretation: Message | None = None,
    audio_only: frozenset[str] = frozenset(),
    interruptions: dict[str, Any] | None = None,
    rig: Message | None = None,
    recording_state: str = "off",
) -> Message:
    """What a panel draws: of a live hearing, or (with its defaults) of one
    not in progress in this process, as the database has it."""
    return {
        "type": "snapshot",
        "version": floor.version,
        "floor": floor.to_json(),
        **lifecycle_of(lifecycle),
        "seats": seats or {},
        "recording": recording,
        "recording_state": recording_state,
        # The interpretation message's fields (issue 12), without its type.
        "interpretation": {k: v for k, v in (interpretation or interpretation_of(floor)).items() if k != "type"},
        "audio_only": sorted(audio_only),
        "interruptions": interruptions or {},
        # The courtroom rig's cameras and program (issue 13); None: no rig has reported.
        "rig": None if rig is None else {k: v for k, v in rig.items() if k != "type"},
    }


class LifecycleObserver(Protocol):
    """Who follows a live hearing's lifecycle besides its seats and panels:
    the recording desk (hearing/recording/desk.py) starts, pauses and seals
    the recording by it."""

    def moved(self, live: LiveHearing, state: HearingState) -> None: ...

    def ended(self, live: LiveHearing, state: HearingState) -> None: ...


class Channel(Protocol):
    """Where a live hearing tells one connection something."""

    def deliver(self, message: Message) -> None:
        """Queue a message for the connection; never blocks, never raises."""

    def dismiss(self, reason: str) -> None:
        """End the connection: `denied`, `ended` or `replaced`."""


@dataclasses.dataclass
class Presence:
    """What is known of one seat's connection (times on the monotonic clock)."""

    connected: bool = False
    joined_at: float | None = None
    left_at: float | None = None
    last_seen: float | None = None
    health: Health | None = None


class LiveHearing:
    def __init__(
        self,
        hearing_id: int,
        floor: Floor,
        lifecycle: HearingState,
        *,
        configuration: RTCConfiguration | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        trace: Trace | None = None,
        observer: LifecycleObserver | None = None,
    ) -> None:
        self.id = hearing_id
        self.observer = observer
        self.floor = floor
        self.lifecycle = lifecycle
        self.recording = False
        self.recording_state = "off"  # the desk's (issue 14); `recording` is whether segments are written
        self.presence: dict[str, Presence] = {}
        self._clock = clock
        self._wall = wall
        self._trace = trace
        # Plan B (hearing/custody/planb.py): which links carry sound only,
        # and which seats' connections were lost mid-hearing.
        self._links = LinkJudge()
        self.interruptions = Interruptions(RECONNECT_SECONDS)
        self._seats: dict[str, Channel] = {}
        self._panels: set[Channel] = set()
        self._pictures_told: dict[str, Message] = {}
        # What each seat, and the panels, were last told of the
        # interpretation: told again only when it changes.
        self._interpretation_told: dict[str, Message] = {}
        self._interpretation_panels: Message | None = None
        # Per seat, not per connection: reconnecting does not refill it.
        self._pacing: dict[str, TokenBucket] = {}
        # The courtroom rig's cameras (issue 13), for the panels.
        self.rig = RigView()
        self.room = Room(
            f"hearing {hearing_id}",
            self.media_state(),
            configuration=configuration,
            on_level=self._level,
            on_health=self._health,
            on_pictures=self._pictures_changed,
            on_first_mix=lambda: self._traced("first_mix"),
        )

    def __repr__(self) -> str:
        return f"LiveHearing({self.id})"

    async def start(self) -> None:
        await self.room.start()

    async def stop(self) -> None:
        await self.room.stop()

    # --- what the routing follows -------------------------------------------------

    def media_state(self) -> MediaState:
        return compose(self.floor, recording=self.recording, audio_only=self._links.audio_only)

    @property
    def audio_only(self) -> frozenset[str]:
        return self._links.audio_only

    def follow(self, floor: Floor) -> bool:
        """A committed floor. Two commands may commit in one order and arrive
        here in the other: the version decides, and an older floor is never
        followed over a newer. Returns whether it was news; news goes to the
        seats (each its own view) and to the panels (the whole floor)."""
        if floor.version <= self.floor.version:
            return False
        self.floor = floor
        self._traced("followed")
        self._reroute(tell_interpretation=False)
        for seat, channel in list(self._seats.items()):
            channel.deliver(floor.public_view(seat))
        self._tell_panels({"type": "floor", "version": floor.version, "floor": floor.to_json()})
        # After the floor it follows from: a page reads the news in order.
        self._tell_interpretation()
        return True

    def lifecycle_moved(self, state: HearingState) -> None:
        self.lifecycle = state
        self._tell_panels(self._lifecycle_message())
        self._tell_seats(self.seat_lifecycle())
        if self.observer is not None:
            self.observer.moved(self, state)

    def set_recording(self, on: bool) -> None:
        """The recorder started or stopped: it is routed like a seat, and
        every seat is told (the people recorded must be able to see it)."""
        if on == self.recording:
            return
        self.recording = on
        self._reroute()
        self._tell_everyone({"type": "recording", "recording": on})

    def recording_moved(self, state: str) -> None:
        """The recording desk's state for the panels (issue 14): `off`,
        `recording`, `paused` (by the judge) or `consultation` (paused by it)."""
        self.recording_state = state
        self._tell_panels({"type": "recording_state", "state": state})

    def recording_alert(self, reason: str) -> None:
        """The recorder failed or fell behind (issue 14): the judge's panel
        and the clerk see it at once; the recorder goes on in a new segment.
        The segment in progress was given up: nothing is being written until
        the next one opens (the desk's watch then says so again)."""
        self.set_recording(False)
        self._tell_panels({"type": "recording_alert", "reason": reason})

    def seat_lifecycle(self) -> Message:
        """What a seat is told of the lifecycle: the state, not the judge's
        transitions."""
        return {"type": "hearing", "hearing_state": self.lifecycle.value}

    def welcome(self, seat: str) -> Message:
        """What a seat is told when it connects: its floor, the hearing's
        state and recording, the people who may ask to speak from it (a seat
        with none, a booth, has nobody to ask for) and the hearing's seats."""
        return {
            "type": "welcome",
            "seat": seat,
            "hearing": self.id,
            "floor": self.floor.public_view(seat),
            "hearing_state": self.lifecycle.value,
            "recording": self.recording,
            "speakers": [s.name for s in self.floor.speakers if s.seat == seat],
            # The views it may pin (an interpreter's seat, when there is one).
            "seats": sorted(self.floor.seat_roles),
            # The interpretation message's fields, as the seat would be told them.
            "interpretation": {k: v for k, v in self._interpretation_for(seat).items() if k != "type"},
        }

    def checked_in(self, info: Message) -> None:
        """The custody officer's check-in changed (hearing/custody/desk.py):
        the judge and the clerk see it on their panels at once."""
        self._tell_panels({"type": "check_in", "check_in": info})

    def _reroute(self, *, tell_interpretation: bool = True) -> None:
        self.room.reroute(self.media_state())
        self._traced("rerouted")
        for seat in list(self.room.board.receivers):
            self._tell_pictures(seat)
        if tell_interpretation:
            self._tell_interpretation()

    # --- interpretation: who hears whom, told in words on every page ---------------

    def interpretation(self) -> Message:
        """The mode, its direction, who needs it, and who hears each seat now."""
        return interpretation_of(self.floor, self.room.routes)

    def _interpretation_for(self, seat: str, whole: Message | None = None) -> Message:
        """What a seat is told: who hears *it*; never who else hears whom (a
        selective mute would show)."""
        message = whole if whole is not None else self.interpretation()
        return {**message, "heard_by": {seat: message["heard_by"].get(seat, [])}}

    def _tell_interpretation(self) -> None:
        """Every seat and every panel, when what it would be told changes: the
        mode, the direction (a floor change can turn it), who needs it, or
        who hears the seat."""
        whole = self.interpretation()
        for seat, channel in list(self._seats.items()):
            message = self._interpretation_for(seat, whole)
            if self._interpretation_told.get(seat) != message:
                self._interpretation_told[seat] = message
                channel.deliver(message)
        if whole != self._interpretation_panels:
            self._interpretation_panels = whole
            self._tell_panels(whole)

    # --- the seats ------------------------------------------------------------------

    def returning(self, seat: str) -> bool:
        """Whether this seat left less than RECONNECT_SECONDS ago."""
        presence = self.presence.get(seat)
        left = presence.left_at if presence is not None else None
        return left is not None and self._clock() - left < RECONNECT_SECONDS

    @property
    def connected(self) -> frozenset[str]:
        """The seats with a connection now."""
        return frozenset(self._seats)

    async def seat_connected(self, seat: str, channel: Channel) -> None:
        """A connection takes its seat. A seat has one connection: an earlier
        one is dismissed as replaced, and its media goes with it."""
        earlier = self._seats.get(seat)
        self._seats[seat] = channel
        if earlier is not None:
            logger.info("%r: a new connection replaces %s's", self, seat)
            earlier.dismiss("replaced")
            await self.room.leave(seat)
        now = self._clock()
        presence = self.presence.setdefault(seat, Presence())
        presence.connected, presence.joined_at, presence.last_seen = True, now, now
        # Its welcome (sent next, by the caller) says how it stands now.
        self._interpretation_told[seat] = self._interpretation_for(seat)
        self._tell_presence()

    async def seat_disconnected(self, seat: str, channel: Channel) -> bool:
        """A connection has ended. Whether it still held the seat (a replaced
        connection leaves its successor alone)."""
        if self._seats.get(seat) is not channel:
            return False
        del self._seats[seat]
        # Marked gone before the room lets go of the peer (which awaits): a
        # connection that comes back meanwhile is then told it returns.
        presence = self.presence[seat]
        presence.connected, presence.left_at = False, self._clock()
        self._pictures_told.pop(seat, None)
        self._interpretation_told.pop(seat, None)
        await self.room.leave(seat)
        if self._links.forget(seat):
            # A new connection is judged afresh; the notice goes with this one.
            self._reroute()
            self._tell_everyone({"type": "link", "seat": seat, "audio_only": False})
        if seat == seats.COURTROOM:
            self.rig.disconnected()
            self._tell_rig()
        self._tell_presence()
        return True

    # --- interruptions (plan B) -------------------------------------------------------

    def interrupted(self, seat: str, *, paused: bool) -> Interruption:
        """The seat's connection was lost mid-hearing (the service has
        audited it, and paused the hearing if the court says so)."""
        interruption = self.interruptions.began(seat, since=self._wall(), now=self._clock(), paused=paused)
        self._tell_interruption(seat, interruption.since, interruption.paused)
        return interruption

    def restored(self, seat: str) -> tuple[Interruption, float, bool] | None:
        """The seat is back: its interruption, how long it lasted, and
        whether it came back within RECONNECT_SECONDS; None if it was not
        interrupted."""
        ended = self.interruptions.ended(seat, self._clock())
        if ended is not None:
            interruption, duration, in_time = ended
            extra = {"duration_seconds": round(duration, 1), "in_time": in_time}
            self._tell_interruption(seat, None, interruption.paused, **extra)
        return ended

    def _tell_interruption(self, seat: str, since: float | None, paused: bool, **extra: object) -> None:
        message = {"type": "interruption", "seat": seat, "since": since, "paused": paused, **extra}
        self._tell_everyone(message)

    @property
    def clock(self) -> Callable[[], float]:
        return self._clock

    def may_command(self, seat: str) -> bool:
        """Whether the seat's next floor request may go to the database now
        (hearing/live/pacing.py); a refusal costs nothing and is not audited."""
        bucket = self._pacing.get(seat)
        if bucket is None:
            bucket = self._pacing[seat] = TokenBucket(self._clock)
        return bucket.take()

    def heard_from(self, seat: str) -> None:
        presence = self.presence.get(seat)
        if presence is not None:
            presence.last_seen = self._clock()

    def turn_away(self, seat: str) -> None:
        """The judge turned a waiting seat away: its connection is closed."""
        channel = self._seats.get(seat)
        if channel is not None:
            channel.dismiss("denied")

    async def negotiate(self, seat: str, offer_sdp: str, views: Sequence[str]) -> str:
        answer = await self.room.join(seat, offer_sdp, views)
        self._tell_pictures(seat)
        self._tell_presence()
        return answer

    async def add_candidate(self, seat: str, candidate: RTCIceCandidate) -> None:
        await self.room.add_candidate(seat, candidate)

    def attach(self, receiver: Receiver) -> None:
        """A receiver that is not a peer (the recorder, a preview), routed by
        the same policy as any seat: the recorder's seat is `RECORDER`."""
        self.room.board.attach(receiver)

    def detach(self, seat: str) -> None:
        self.room.board.detach(seat)

    # --- the panels -----------------------------------------------------------------

    def panel_opened(self, channel: Channel) -> None:
        self._panels.add(channel)

    def panel_closed(self, channel: Channel) -> None:
        self._panels.discard(channel)

    def snapshot(self) -> Message:
        """Everything a panel draws, as of now."""
        return snapshot(
            self.floor,
            self.lifecycle,
            seats=self.seat_presence(),
            recording=self.recording,
            interpretation=self.interpretation(),
            audio_only=self.audio_only,
            interruptions=self.interruptions.to_json(),
            rig=self.rig.message(),
            recording_state=self.recording_state,
        )

    # --- the courtroom rig (issue 13) ---------------------------------------------------

    def rig_reported(self, report: RigReport) -> list[CameraChange]:
        """The rig's cameras and program: every panel is told; the cameras
        that failed or came back are returned, for the caller to audit."""
        changes = self.rig.reported(report)
        for change in changes:
            logger.info("%r: camera %s is %s", self, change.camera.id, "down" if change.unavailable else "back")
        self._tell_rig()
        return changes

    def rig_levels(self, levels: RigLevels) -> None:
        self._tell_panels({"type": "rig_levels", "levels": dict(levels.levels)})

    def rig_preview(self, preview: RigPreview) -> None:
        if self.rig.preview_due(preview.camera, self._clock()):
            self._tell_panels({"type": "preview", "camera": preview.camera, "jpeg": preview.jpeg})

    def _tell_rig(self) -> None:
        if (message := self.rig.message()) is not None:
            self._tell_panels(message)

    def seat_presence(self) -> dict[str, Any]:
        """Who is connected: the socket (present), the media, its health."""
        seats_ = sorted(set(self.presence) | set(self.room.peers))
        return {
            seat: {
                "present": seat in self._seats,
                "media": seat in self.room.peers,
                "health": health.to_json() if (health := self._health_of(seat)) is not None else None,
            }
            for seat in seats_
        }

    # --- the end --------------------------------------------------------------------

    async def end(self, state: HearingState) -> None:
        """The hearing has ended: everyone is told and disconnected, the room closes."""
        self.lifecycle = state
        self._tell_panels(self._lifecycle_message())
        self._tell_seats(self.seat_lifecycle())
        if self.observer is not None:
            self.observer.ended(self, state)
        for channel in [*self._seats.values(), *self._panels]:
            channel.dismiss("ended")
        self._panels.clear()
        await self.room.stop()

    # --- what the room reports --------------------------------------------------------

    def _level(self, seat: str, level: Level) -> None:
        message = {"type": "level", "seat": seat, "dbfs": level.dbfs, "speaking": level.speaking}
        self._tell(OVERSEERS, message)

    def _health(self, seat: str, health: Health) -> None:
        presence = self.presence.setdefault(seat, Presence())
        presence.health = health
        self._tell(sorted({seat, *OVERSEERS}), {"type": "health", "seat": seat, **health.to_json()})
        if seat not in self._seats:
            return  # a receiver that is not a peer (the recorder) has no link to judge
        changed = self._links.sample(seat, health)
        if changed is not None:
            logger.info("%r: %s is %s", self, seat, "on audio only" if changed else "back on video")
            self._reroute()
            self._tell_everyone({"type": "link", "seat": seat, "audio_only": changed})

    def _health_of(self, seat: str) -> Health | None:
        presence = self.presence.get(seat)
        return presence.health if presence is not None else None

    def _pictures_changed(self, receiver: Receiver) -> None:
        self._tell_pictures(receiver.seat)

    def _tell_pictures(self, seat: str) -> None:
        """Tell a seat whose pictures it is sent, and why not where it is not,
        so that its screen can say so in words instead of freezing."""
        receiver = self.room.board.receivers.get(seat)
        channel = self._seats.get(seat)
        if receiver is None or channel is None:
            return
        message = {
            "type": "pictures",
            "main": self._picture(seat, receiver.showing) if receiver.picture is not None else None,
            "views": {
                view.source: self._picture(seat, view.source if view.live else None, view.source)
                for view in receiver.views
            },
        }
        if self._pictures_told.get(seat) != message:
            self._pictures_told[seat] = message
            channel.deliver(message)

    def _picture(self, receiver: str, shown: str | None, pinned: str | None = None) -> Message:
        if shown is not None:
            return {"source": shown, "shown": True}
        state = self.room.board.state
        reason: str = "no_picture"
        if pinned is not None and pinned in state.roles:
            why = unseen(state, pinned, receiver)
            reason = why.value if why is not None else reason
        elif receiver in state.lobby:
            reason = "lobby"
        return {"source": pinned, "shown": False, "reason": reason}

    # --- telling ----------------------------------------------------------------------

    def _tell(self, seats_: Sequence[str], message: Message) -> None:
        for seat in seats_:
            channel = self._seats.get(seat)
            if channel is not None:
                channel.deliver(message)
        self._tell_panels(message)

    def _tell_everyone(self, message: Message) -> None:
        """Every seat and every panel."""
        self._tell(list(self._seats), message)

    def _tell_seats(self, message: Message) -> None:
        for channel in list(self._seats.values()):
            channel.deliver(message)

    def _tell_panels(self, message: Message) -> None:
        for channel in list(self._panels):
            channel.deliver(message)

    def _tell_presence(self) -> None:
        self._tell_panels({"type": "presence", "seats": self.seat_presence()})

    def _lifecycle_message(self) -> Message:
        return {"type": "hearing", **lifecycle_of(self.lifecycle)}

    def _traced(self, event: str) -> None:
        if self._trace is not None:
            self._trace(self.id, event, self.floor.version)

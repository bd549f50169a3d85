"""The switchboard: what each seat sends, to whom, by the current routes.

It knows nothing of WebRTC. Senders hand it decoded audio frames and encoded
video frames; receivers are anything with a place to put them (`AudioSink`,
`VideoSink`): the server's peer connections, the recorder, a preview. Every
receiver is routed by the same policy (as Galène's disk writer joins a
group like any client).

Audio: each sender's frames go into its playout buffer
(hearing/media/playout.py), in 20 ms slots by RTP timestamp; every 20 ms
`tick()` takes each sender's frame for the slot due, mixes each receiver's
N-1 mix from its route and pushes it to that receiver. Before a tick the
caller may wait up to `due_wait()` for a frame that is on its way. Video is
never decoded: each complete encoded frame goes, as it arrives, to the
receivers whose chosen picture it is. A receiver gets one main picture (the
floor holder's, else the first its route allows of custody, courtroom,
judge) and may pin further *views* to named sources, each sent only while
its route allows it. Keyframe requests travel upstream, at most one per
source every 300 ms.

A new route takes effect at the next tick for audio (at most 20 ms), and at
the source's next keyframe (requested at once) for video. Deterministic:
time comes from an injectable clock, and nothing here sleeps.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from hearing.media import vp8
from hearing.media.mixer import Level, LevelMeter, Pcm, mix
from hearing.media.playout import Playout
from hearing.media.vp8 import EncodedFrame
from hearing.routing.policy import MediaState, Route, route

KEYFRAME_REQUEST_INTERVAL = 0.3  # seconds between upstream keyframe requests per source
# Whose picture a receiver sees when several are routed to it: the floor
# holder first, then the custody facility, the courtroom, the judge's panel.
VIDEO_PREFERENCE: Sequence[str] = ("custody", "courtroom", "judge")


class AudioSink(Protocol):
    def push(self, pcm: Pcm) -> None:
        """One 20 ms mixed frame."""


@runtime_checkable
class TimedAudioSink(Protocol):
    def push(self, pcm: Pcm) -> None: ...

    def push_at(self, pcm: Pcm, behind: float) -> None:
        """One 20 ms mix whose sound arrived `behind` seconds ago."""


class VideoSink(Protocol):
    def push(self, frame: EncodedFrame) -> None:
        """One complete encoded frame of the chosen source."""

    def switch(self) -> None:
        """The source changes (or starts): begin again at its next keyframe."""


@dataclasses.dataclass(eq=False)
class View:
    """A picture pinned to one source."""

    source: str
    sink: VideoSink
    live: bool = False  # the receiver's route allows it and the source is sending


@dataclasses.dataclass(eq=False)
class Receiver:
    """Somewhere the routes send a seat's share of the hearing."""

    seat: str
    audio: AudioSink | None = None
    picture: VideoSink | None = None  # None: takes no main picture
    views: list[View] = dataclasses.field(default_factory=list)
    showing: str | None = None  # whose picture `picture` is being sent


@dataclasses.dataclass(eq=False)
class Sender:
    """What a seat sends into the switchboard, and what is known of it."""

    seat: str
    # Asks the seat's encoder for a keyframe (a PLI to this SSRC).
    request_keyframe: Callable[[int], None] = lambda ssrc: None
    inbox: Playout = dataclasses.field(default_factory=Playout)
    meter: LevelMeter = dataclasses.field(default_factory=LevelMeter)
    sends_video: bool = False
    video_ssrc: int | None = None
    video_size: tuple[int, int] | None = None  # of the picture it sends, from its keyframes
    frames_in: int = 0
    last_keyframe_request: float = float("-inf")


LevelReport = Callable[[str, Level], None]
PictureReport = Callable[[Receiver], None]


class Switchboard:
    def __init__(
        self,
        state: MediaState,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_level: LevelReport | None = None,
        on_pictures: PictureReport | None = None,
        on_first_mix: Callable[[], None] | None = None,
    ) -> None:
        self.senders: dict[str, Sender] = {}
        self.receivers: dict[str, Receiver] = {}
        self.clock = clock
        self._state = state
        self._routes = route(state)
        self._on_level = on_level
        self._on_pictures = on_pictures
        self._on_first_mix = on_first_mix
        self._mixed_routes = True  # whether a tick has mixed by the current routes

    @property
    def state(self) -> MediaState:
        return self._state

    @property
    def routes(self) -> dict[str, Route]:
        return self._routes

    def reroute(self, state: MediaState) -> None:
        """A new hearing state: the next tick mixes by it, and every
        receiver's pictures are chosen again."""
        self._state = state
        self._routes = route(state)
        self._mixed_routes = False
        self._choose_pictures()

    # --- who is connected --------------------------------------------------------

    def connect(self, sender: Sender) -> None:
        self.senders[sender.seat] = sender
        self._choose_pictures()

    def attach(self, receiver: Receiver) -> None:
        self.receivers[receiver.seat] = receiver
        self._choose_pictures()

    def disconnect(self, seat: str) -> None:
        """The seat is gone, as a sender and as a receiver."""
        self.senders.pop(seat, None)
        self.receivers.pop(seat, None)
        self._choose_pictures()

    def detach(self, seat: str) -> None:
        self.receivers.pop(seat, None)

    # --- audio -------------------------------------------------------------------

    def hear(self, seat: str, timestamp: int, pcm: Pcm) -> None:
        """Decoded audio from a seat, with its RTP timestamp."""
        sender = self.senders.get(seat)
        if sender is not None:
            sender.inbox.push(timestamp, pcm, self.clock())

    def due_wait(self) -> float:
        """How long the tick that is due should still wait for a frame on its
        way from a seat someone hears: a late frame is worth a few
        milliseconds of this tick, where giving up would put a gap in the
        speech (the playout buffer decides, up to its patience)."""
        heard = {feed.source for receiver_route in self._routes.values() for feed in receiver_route.audio}
        now = self.clock()
        return max((s.inbox.wait(now) for seat, s in self.senders.items() if seat in heard), default=0.0)

    def tick(self) -> None:
        """One 20 ms step: every sender's frame for this slot, one mix per receiver."""
        now = self.clock()
        frames: dict[str, Pcm] = {}
        for seat, sender in self.senders.items():
            frame = sender.inbox.take(now)
            if frame is None:
                continue
            frames[seat] = frame
            level = sender.meter.feed(frame)
            if level is not None and self._on_level is not None:
                self._on_level(seat, level)
        routes = self._routes
        # How long ago this slot's sound arrived, jitter aside: the playout
        # buffers held it, and this tick may be late (a receiver that places
        # sound in time, the recorder, takes it into account).
        arrivals = [a for s in frames if (a := self.senders[s].inbox.taken_arrival) is not None]
        behind = max(0.0, now - min(arrivals)) if arrivals else 0.0
        for seat, receiver in self.receivers.items():
            receiver_route = routes.get(seat)
            if receiver_route is not None and receiver.audio is not None:
                mixed = mix(frames, receiver_route.audio)
                if isinstance(receiver.audio, TimedAudioSink):
                    receiver.audio.push_at(mixed, behind)
                else:
                    receiver.audio.push(mixed)
        if not self._mixed_routes:
            self._mixed_routes = True
            if self._on_first_mix is not None:
                self._on_first_mix()

    # --- video -------------------------------------------------------------------

    def sends_video(self, seat: str) -> None:
        """The seat has a camera: it may be chosen as a picture."""
        sender = self.senders.get(seat)
        if sender is not None and not sender.sends_video:
            sender.sends_video = True
            self._choose_pictures()

    def forward(self, seat: str, frame: EncodedFrame) -> None:
        """A complete encoded frame from a seat, to whoever is shown it."""
        source = self.senders.get(seat)
        if source is None:
            return
        source.video_ssrc = frame.ssrc
        source.frames_in += 1
        if frame.keyframe:
            source.video_size = vp8.keyframe_size(frame.data)
        for receiver in self.receivers.values():
            if receiver.showing == seat and receiver.picture is not None:
                receiver.picture.push(frame)
            for view in receiver.views:
                if view.live and view.source == seat:
                    view.sink.push(frame)

    def keyframe_for(self, seat: str) -> None:
        """A receiver needs a keyframe of its main picture."""
        receiver = self.receivers.get(seat)
        if receiver is not None and receiver.showing is not None:
            self.keyframe_from(receiver.showing)

    def keyframe_from(self, seat: str) -> None:
        """Ask a source for a keyframe, at most every 300 ms."""
        source = self.senders.get(seat)
        if source is None or not source.sends_video or source.video_ssrc is None:
            return
        now = self.clock()
        if now - source.last_keyframe_request >= KEYFRAME_REQUEST_INTERVAL:
            source.last_keyframe_request = now
            source.request_keyframe(source.video_ssrc)

    def _choose_pictures(self) -> None:
        for receiver in self.receivers.values():
            sending = self._sending(receiver)
            # Who waits in the lobby is seen in a view of their own, never as the main picture.
            main = [s for s in sending if s not in self._state.lobby]
            choice = self._main_picture(main) if receiver.picture is not None else None
            changed = choice != receiver.showing
            if changed:
                receiver.showing = choice
                if receiver.picture is not None:
                    receiver.picture.switch()
            for view in receiver.views:
                live = view.source in sending
                if live and not view.live:
                    view.sink.switch()  # from the source's next keyframe
                changed = changed or live != view.live
                view.live = live
            if changed and self._on_pictures is not None:
                self._on_pictures(receiver)

    def _sending(self, receiver: Receiver) -> list[str]:
        """The sources this receiver may see that are sending a picture."""
        receiver_route = self._routes.get(receiver.seat)
        if receiver_route is None:
            return []
        return [s for s in receiver_route.video if s in self.senders and self.senders[s].sends_video]

    def _main_picture(self, sending: list[str]) -> str | None:
        if not sending:
            return None
        floor = self._state.floor

        def rank(source: str) -> tuple[int, int, str]:
            preference = VIDEO_PREFERENCE.index(source) if source in VIDEO_PREFERENCE else len(VIDEO_PREFERENCE)
            return (0 if source == floor else 1, preference, source)

        return min(sending, key=rank)

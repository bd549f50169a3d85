"""The test call's loopback: one peer connection that sends an endpoint
back what it sends, so that it sees and hears itself as the court would.

Video is forwarded encoded, with the room's own parts: aiortc's decoder is
bypassed (`aiortc_hooks.tap_video`), each complete VP8 frame goes into a
`ForwardVideoTrack` on the way back, and keyframe requests from the
endpoint's decoder travel upstream to its encoder, as in a hearing. So the
picture that comes back has the size and rate the endpoint's camera and
encoder managed over this network, not the server's re-encoding of it, and
the loop costs the server almost nothing. Audio is decoded and re-encoded
(the mixer's path in a hearing: every seat hears a mix), through a
`MixedAudioTrack` fed with the endpoint's own decoded frames.

It belongs to no hearing's room and nothing of it is recorded. The network
figures come from the connection's own statistics (RTCP): loss both ways,
the round trip the endpoint's receiver reports, and the jitter of what
arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging

import av
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCRtpReceiver, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from hearing.media import aiortc_hooks
from hearing.media.room import START_BITRATE_KBPS
from hearing.media.stats import CLOCK_KHZ
from hearing.media.tracks import ForwardVideoTrack, MixedAudioTrack, to_mono
from hearing.media.vp8 import EncodedFrame

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Network:
    rtt_ms: float | None  # the largest round trip the endpoint's receiver reports
    upstream_loss_percent: float | None  # of what the endpoint sent
    downstream_loss_percent: float | None  # of what came back to it
    jitter_ms: float | None  # of what arrived here, the larger of audio and video


class Loopback:
    def __init__(self, name: str, configuration: RTCConfiguration | None = None) -> None:
        self.name = name
        # A closed network (no STUN), max-bundle as the room (see room.py).
        self.connection = RTCPeerConnection(
            configuration or RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )
        self.audio = MixedAudioTrack()
        self.video = ForwardVideoTrack(on_keyframe_needed=self._keyframe_needed)
        self.frames_in = 0  # complete video frames that came in
        self._video_in: RTCRtpReceiver | None = None
        self._ssrc: int | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._requests: set[asyncio.Task[None]] = set()
        self.connected = asyncio.Event()

        @self.connection.on("connectionstatechange")
        def on_state() -> None:
            if self.connection.connectionState == "connected":
                self.connected.set()

        @self.connection.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            receiver = next(t.receiver for t in self.connection.getTransceivers() if t.receiver.track is track)
            if track.kind == "audio":
                aiortc_hooks.quicken_audio(receiver)
                self._tasks.append(asyncio.create_task(self._loop_audio(track), name=f"{self!r} audio"))
            else:
                aiortc_hooks.tap_video(receiver, self._frame)
                self._video_in = receiver
                self._tasks.append(asyncio.create_task(self._drain(track), name=f"{self!r} video end"))

    def __repr__(self) -> str:
        return f"Loopback({self.name})"

    async def answer(self, offer_sdp: str) -> str:
        """The answer to the endpoint's offer (audio and video, sending both)."""
        connection = self.connection
        try:
            await connection.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            kinds = sorted(t.kind for t in connection.getTransceivers())
            if kinds != ["audio", "video"]:
                raise ValueError("a test call offers one audio and one video section")
            connection.addTrack(self.audio)
            aiortc_hooks.on_keyframe_request(connection.addTrack(self.video), self._keyframe_needed)
            aiortc_hooks.set_start_bitrate(connection, START_BITRATE_KBPS)
            await connection.setLocalDescription(await connection.createAnswer())
        except Exception as exc:
            # The offer is the client's input: aiortc answers a malformed one
            # with assertion, key and value errors alike.
            raise ValueError(f"unusable offer ({exc if isinstance(exc, ValueError) else type(exc).__name__})") from exc
        return str(connection.localDescription.sdp)

    def _frame(self, frame: EncodedFrame) -> None:
        self._ssrc = frame.ssrc
        if frame.complete:
            self.frames_in += 1
        self.video.push(frame)

    def _keyframe_needed(self) -> None:
        if self._video_in is None or self._ssrc is None:
            return
        task = asyncio.create_task(aiortc_hooks.request_keyframe(self._video_in, self._ssrc), name=f"{self!r} PLI")
        self._requests.add(task)
        task.add_done_callback(self._requests.discard)

    async def _loop_audio(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if isinstance(frame, av.AudioFrame):
                    self.audio.push(to_mono(frame))

    @staticmethod
    async def _drain(track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()

    async def network(self) -> Network:
        """The loop's figures from the connection's statistics since it
        started; None where RTCP has not told yet."""
        report = await self.connection.getStats()
        received = lost_in = sent = lost_out = 0
        jitter: float | None = None
        rtts: list[float] = []
        for stats in report.values():
            if stats.type == "inbound-rtp":
                received += stats.packetsReceived
                lost_in += max(0, stats.packetsLost)
                value = stats.jitter / CLOCK_KHZ.get(stats.kind, 90.0)
                jitter = value if jitter is None else max(jitter, value)
            elif stats.type == "remote-inbound-rtp":
                if stats.roundTripTime is not None:
                    rtts.append(stats.roundTripTime * 1000)
                lost_out += max(0, stats.packetsLost or 0)
            elif stats.type == "outbound-rtp":
                sent += stats.packetsSent
        return Network(
            rtt_ms=round(max(rtts), 1) if rtts else None,
            upstream_loss_percent=round(100 * lost_in / (received + lost_in), 2) if received + lost_in else None,
            # Only once the endpoint has reported back (RTCP) is its loss known.
            downstream_loss_percent=round(100 * lost_out / sent, 2) if sent and rtts else None,
            jitter_ms=None if jitter is None else round(jitter, 1),
        )

    async def close(self) -> None:
        for task in [*self._tasks, *self._requests]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self.audio.stop()
        self.video.stop()
        await self.connection.close()

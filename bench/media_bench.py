"""Media-plane benchmark: latency through the server next to a direct link, and capacity.

Measures, in one run and side by side:

1. glass-to-glass video latency: the sender draws the time (milliseconds of
   CLOCK_MONOTONIC, shared by all processes of this machine) into each camera
   frame before aiortc encodes it (VP8); the receiver decodes, reads it back
   and subtracts it from the time the decoded frame reached it. Through the
   server (a Room, encoded forwarding) and over a direct aiortc-to-aiortc
   link, interleaved, same processes, same cores; and, for comparison, through
   a naive aiortc relay in the server process (MediaRelay: every picture and
   every voice frame decoded and re-encoded);
2. mouth-to-ear audio latency: 50 ms tone bursts every 500 ms, the onset
   (first sample over a threshold) found in the decoded audio of the far
   peer; through the server's mixer and over the direct link, in the same
   runs as 1; and each burst's shape (placed by RTP timestamp: from its
   first to its last loud sample, and the longest hole inside), so a burst
   the mixer cut short or broke up is counted. `--paths legacy` runs the
   server with the mixer's inbox as it was before the playout buffer (a
   3-frame inbox, one frame taken per tick, the oldest dropped after a
   5-tick backlog; a 3-frame outgoing queue), for comparison in one run;
3. capacity: 1, 2, 4, ... full hearings (courtroom program 720p video and
   audio, custody camera 720p and audio, interpreter audio, all routed by the
   room's policy) until frames are lost or latency misses its target, with
   the CPU time of the server process alone per hearing. The senders send a
   pre-encoded VP8 clip and pre-encoded Opus (aiortc sends `av.Packet`s as
   they are), receivers count frames without decoding, and one receiver per
   hearing decodes the custody picture and hears the custody bursts to
   measure latency (send-to-display: the clip's frame index is drawn in each
   picture, the sender logs when it sent each index).

The server (Rooms in one process, offer and answer passed through a pipe) and
the endpoints run in separate processes, pinned to different cores when the
machine has two. The script prints figures and compares them with the
targets; it asserts nothing.

How long: a full run takes about 3 minutes on the project's 2-core machine
(nine latency runs of 3 + 10 s, then capacity at 1, 2, 4 and 8 hearings);
--skip-capacity about 2 minutes, --skip-latency about 1. `--quick` (1 s
windows, 320x180, one hearing) takes about 15 s: it shows the bench still
works, not what the figures are.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import cProfile
import dataclasses
import fractions
import io
import logging
import math
import multiprocessing
import multiprocessing.context
import os
import pstats
import statistics
import threading
import time
import traceback
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

import aioice
import aiortc
import av
import av.stream
import numpy as np
import quick  # bench/quick.py
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtp import RtpPacket
from machine_facts import load_average, print_machine  # bench/machine_facts.py

from hearing.docket.parties import ParticipantRole
from hearing.live.hearing import compose
from hearing.media import aiortc_hooks
from hearing.media.mixer import FRAME_SAMPLES, SAMPLE_RATE, Pcm
from hearing.media.playout import Playout
from hearing.media.room import Peer, Room
from hearing.media.switchboard import Sender
from hearing.media.tracks import (
    COUNTER_BITS,
    VIDEO_CLOCK,
    ForwardVideoTrack,
    MixedAudioTrack,
    Pacer,
    draw_counter,
    read_counter,
    to_frame,
    to_mono,
)
from hearing.media.vp8 import EncodedFrame
from hearing.speaker_order.floor import Floor

TARGET_VIDEO_EXTRA_P50_MS = 10.0  # server p50 within this of direct
TARGET_VIDEO_P95_MS = 100.0
TARGET_AUDIO_EXTRA_MS = 40.0  # server within this of direct
TARGET_CORES_PER_HEARING = 0.2
TARGET_LOSS = 0.01

LOOPBACK = ("127.0.0.1",)
VIDEO_BITRATE = 1_500_000  # aiortc's VP8 ceiling; about what a browser sends at 720p
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK)
AUDIO_TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
COUNTER_MODULUS = 1 << COUNTER_BITS
FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
BURST_PERIOD_SAMPLES = SAMPLE_RATE // 2  # a burst every 500 ms ...
BURST_SAMPLES = SAMPLE_RATE // 20  # ... 50 ms long
BURST_HZ = 1000.0  # whole cycles in a burst: it starts and ends at zero
BURST_AMPLITUDE = 0.5
QUIET_HZ = 440.0  # whole cycles in a burst period: the quiet clip loops seamlessly
QUIET_AMPLITUDE = 0.01  # far under the onset threshold
ONSET_THRESHOLD = 0.2 * 32767
REARM_SAMPLES = SAMPLE_RATE // 5  # 200 ms under the threshold before the next onset
MAX_LATENCY = 2.0  # seconds; a reading beyond is a misread counter
VOICE_CYCLE_FRAMES = BURST_PERIOD_SAMPLES // FRAME_SAMPLES
SENDER_ENCODER = "_RTCRtpSender__encoder"
HEARING_ROLES: dict[str, ParticipantRole] = {
    "courtroom": ParticipantRole.JUDGE,  # as in hearing.routing.seats
    "custody": ParticipantRole.DETAINEE,
    "interpreter": ParticipantRole.INTERPRETER,
}
PATHS = ("direct", "server", "relay", "legacy")
DEFAULT_PATHS = ("direct", "server", "relay")
BURST_MS = BURST_SAMPLES / SAMPLE_RATE * 1000
BURST_TOLERANCE_MS = 3.0  # a burst heard this much shorter or longer, or with a hole this long, is broken
QUICK = {"seconds": 1.0, "warmup": 1.0, "repeats": 1, "hearings": "1", "resolution": "320x180", "clip_seconds": 1.0}


# ---------------------------------------------------------------- arguments


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per run (default 10)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds after connecting before measuring")
    parser.add_argument("--repeats", type=int, default=3, help="latency runs per path (default 3)")
    parser.add_argument("--hearings", default="1,2,4,8", help="capacity levels, tried in order until one fails")
    parser.add_argument("--keep-going", action="store_true", help="try every capacity level even after a failure")
    parser.add_argument("--resolution", default="1280x720", help="WIDTHxHEIGHT (default 1280x720)")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--clip-seconds", type=float, default=8.0, help="length of the pre-encoded capacity clip")
    parser.add_argument("--skip-latency", action="store_true", help="capacity only")
    parser.add_argument("--skip-capacity", action="store_true", help="latency only")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="after capacity, profile the server at N")
    parser.add_argument(
        "--paths",
        default=",".join(DEFAULT_PATHS),
        help=f"latency paths, in order (default {','.join(DEFAULT_PATHS)}): relay = naive aiortc relay (decode, "
        "re-encode); legacy = the server with the mixer's inbox before the playout buffer",
    )
    quick.add_option(parser, QUICK)
    args = quick.parse(parser, argv, QUICK)
    args.paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    unknown = [p for p in args.paths if p not in PATHS]
    if unknown or not args.paths or len(set(args.paths)) != len(args.paths):
        parser.error(f"--paths takes distinct names from {', '.join(PATHS)}")
    width, _, height = args.resolution.partition("x")
    args.width, args.height = int(width), int(height)
    if args.width % 2 or args.height % 2 or args.width < COUNTER_BITS * 4:
        parser.error("--resolution needs even sides and a width of at least 96")
    args.levels = [int(n) for n in args.hearings.split(",") if n.strip()]
    return args


# ---------------------------------------------------------------- machine facts


def cores() -> tuple[int | None, int | None]:
    """(server core, endpoint core), or no pinning on a single core."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return None, None
    return available[-1], available[0]


def print_header(args: argparse.Namespace) -> None:
    server_core, endpoint_core = cores()
    print_machine("media benchmark")
    print(
        f"packages:   aiortc {aiortc.__version__}, aioice {aioice.__version__}, av {av.__version__}, "
        f"numpy {np.__version__}"
    )
    if args.quick:
        print(quick.NOTE)
    print(f"pinning:    server process on core {server_core}, endpoint processes on core {endpoint_core}")
    print(
        f"video:      {args.width}x{args.height} {args.fps} fps VP8 at {VIDEO_BITRATE // 1000} kbit/s "
        "(live senders: aiortc's encoder held at that rate)"
    )
    print(
        f"runs:       warm-up {args.warmup:g} s, measured {args.seconds:g} s, latency repeats {args.repeats}, "
        f"capacity levels {args.levels}, latency paths {','.join(args.paths)}"
    )
    print("ICE:        host candidates on 127.0.0.1 only, in every process")
    print()


# ---------------------------------------------------------------- media sources


class Scene:
    """A camera-like picture in YUV 4:2:0: moving bands under fresh sensor
    noise, so that VP8 spends its whole budget (about 7 kB a frame at 720p25,
    six RTP packets) as on a real camera; a flat pattern would fit in one."""

    def __init__(self, width: int, height: int) -> None:
        rng = np.random.default_rng(1)
        self.height = height
        self.base = (np.add.outer(np.arange(height), np.arange(width)) % 256).astype(np.uint8)
        self.noise = [rng.integers(0, 3, (height, width), dtype=np.uint8) for _ in range(8)]
        self.buffer = np.full((height * 3 // 2, width), 128, dtype=np.uint8)

    def frame(self, index: int, counter: int) -> av.VideoFrame:
        luma = self.buffer[: self.height]
        np.add(np.roll(self.base, index * 4, axis=1), self.noise[index % len(self.noise)], out=luma)
        draw_counter(luma, counter)
        return av.VideoFrame.from_ndarray(self.buffer, format="yuv420p")


def stamp(at: float) -> int:
    return int(at * 1000) % COUNTER_MODULUS


class StampedCamera(MediaStreamTrack):
    """A live camera that draws the capture time into every frame."""

    kind = "video"

    def __init__(self, width: int, height: int, fps: int) -> None:
        super().__init__()
        self.scene = Scene(width, height)
        self.pacer = Pacer(fps)

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        count = await self.pacer.next()
        frame = self.scene.frame(count, stamp(time.monotonic()))
        frame.pts = int(count * VIDEO_CLOCK // self.pacer.rate)
        frame.time_base = VIDEO_TIME_BASE
        return frame


class SteadyVp8Encoder(Vp8Encoder):
    """aiortc's VP8 encoder held at one bitrate. aiortc re-creates its encoder,
    with a keyframe, whenever REMB moves the target by more than 10 %: spikes
    from the ramp-up that would blur both paths alike."""

    def __init__(self) -> None:
        super().__init__()
        self._Vp8Encoder__target_bitrate = VIDEO_BITRATE

    @property
    def target_bitrate(self) -> int:
        return VIDEO_BITRATE

    @target_bitrate.setter
    def target_bitrate(self, bitrate: int) -> None:
        pass


class ClipCamera(MediaStreamTrack):
    """Sends a pre-encoded clip in a loop, as packets aiortc does not re-encode.

    The clip's frame index is drawn in its pictures; `sent` logs when each
    index went out. A keyframe request restarts the clip at its keyframe."""

    kind = "video"

    def __init__(self, clip: Sequence[bytes], fps: int, sent: list[tuple[float, int]]) -> None:
        super().__init__()
        self.clip = clip
        self.pacer = Pacer(fps)
        self.sent = sent
        self.position = 0

    def restart(self) -> None:
        self.position = 0

    async def recv(self) -> av.Packet[av.stream.Stream]:
        if self.readyState != "live":
            raise MediaStreamError
        count = await self.pacer.next()
        index = self.position
        self.position = (index + 1) % len(self.clip)
        packet = av.Packet(self.clip[index])
        packet.pts = int(count * (VIDEO_CLOCK // self.pacer.rate))
        packet.time_base = VIDEO_TIME_BASE
        self.sent.append((time.monotonic(), index))
        return packet


def burst_cycle() -> Pcm:
    t = np.arange(BURST_PERIOD_SAMPLES) / SAMPLE_RATE
    pcm = np.sin(2 * math.pi * BURST_HZ * t) * BURST_AMPLITUDE * 32767
    pcm[BURST_SAMPLES:] = 0
    return pcm.astype(np.int16)


def quiet_cycle() -> Pcm:
    t = np.arange(BURST_PERIOD_SAMPLES) / SAMPLE_RATE
    return (np.sin(2 * math.pi * QUIET_HZ * t) * QUIET_AMPLITUDE * 32767).astype(np.int16)


class BurstTone(MediaStreamTrack):
    """A live microphone: a tone burst every 500 ms, encoded by aiortc.

    `bursts` logs each burst's mouth time: its first sample, taken as captured
    20 ms before the frame that holds it is handed over (as a real microphone
    delivers a frame when it is full)."""

    kind = "audio"

    def __init__(self, bursts: list[float]) -> None:
        super().__init__()
        self.cycle = burst_cycle()
        self.pacer = Pacer()
        self.bursts = bursts

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pts = await self.pacer.next() * FRAME_SAMPLES
        offset = pts % BURST_PERIOD_SAMPLES
        if offset == 0:
            self.bursts.append(time.monotonic() - FRAME_SECONDS)
        return to_frame(self.cycle[offset : offset + FRAME_SAMPLES], pts)


class ClipVoice(MediaStreamTrack):
    """Pre-encoded Opus, one 500 ms cycle in a loop (bursts or a quiet tone);
    aiortc sends the packets as they are. Mouth times as in `BurstTone`."""

    kind = "audio"

    def __init__(self, cycle: Sequence[bytes], bursts: list[float] | None) -> None:
        super().__init__()
        self.cycle = cycle
        self.pacer = Pacer()
        self.bursts = bursts

    async def recv(self) -> av.Packet[av.stream.Stream]:
        if self.readyState != "live":
            raise MediaStreamError
        pts = await self.pacer.next() * FRAME_SAMPLES
        position = pts // FRAME_SAMPLES % len(self.cycle)
        if position == 0 and self.bursts is not None:
            self.bursts.append(time.monotonic() - FRAME_SECONDS)
        packet = av.Packet(self.cycle[position])
        packet.pts = pts
        packet.time_base = AUDIO_TIME_BASE
        return packet


@dataclasses.dataclass(frozen=True)
class Clip:
    video: list[bytes]  # frame 0 is the only keyframe
    bursts: list[bytes]  # one 500 ms cycle of Opus packets
    quiet: list[bytes]


def encode_video_clip(width: int, height: int, fps: int, frames: int) -> list[bytes]:
    """VP8 as aiortc's encoder makes it (same options), at VIDEO_BITRATE."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base = fractions.Fraction(1, fps)
    codec.framerate = fractions.Fraction(fps)
    codec.bit_rate = VIDEO_BITRATE
    codec.gop_size = 100_000
    codec.qmin, codec.qmax = 2, 56
    codec.options = {
        "bufsize": str(VIDEO_BITRATE),
        "cpu-used": "-6",
        "deadline": "realtime",
        "lag-in-frames": "0",
        "minrate": str(VIDEO_BITRATE),
        "maxrate": str(VIDEO_BITRATE),
        "noise-sensitivity": "4",
        "overshoot-pct": "15",
        "partitions": "0",
        "static-thresh": "1",
        "undershoot-pct": "100",
    }
    codec.thread_count = 2
    scene = Scene(width, height)
    packets: list[bytes] = []
    for index in range(frames):
        frame = scene.frame(index, index)
        frame.pts = index
        packets.extend(bytes(p) for p in codec.encode(frame))
    packets.extend(bytes(p) for p in codec.encode(None))
    return packets[:frames]


def encode_voice_clip(cycle: Pcm) -> list[bytes]:
    """One cycle of Opus as aiortc's encoder makes it, taken in steady state
    (the third of four cycles encoded in a row)."""
    codec = av.CodecContext.create("libopus", "w")
    codec.bit_rate = 96_000
    codec.format = "s16"
    codec.layout = "stereo"
    codec.sample_rate = SAMPLE_RATE
    codec.time_base = AUDIO_TIME_BASE
    codec.options = {"application": "voip"}
    packets: list[bytes] = []
    for count in range(4 * VOICE_CYCLE_FRAMES):
        start = count % VOICE_CYCLE_FRAMES * FRAME_SAMPLES
        stereo = np.repeat(cycle[start : start + FRAME_SAMPLES], 2).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(stereo, format="s16", layout="stereo")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = count * FRAME_SAMPLES
        frame.time_base = AUDIO_TIME_BASE
        packets.extend(bytes(p) for p in codec.encode(frame))
    return packets[2 * VOICE_CYCLE_FRAMES : 3 * VOICE_CYCLE_FRAMES]


def make_clip(args: argparse.Namespace) -> Clip:
    frames = max(2, round(args.clip_seconds * args.fps))
    return Clip(
        video=encode_video_clip(args.width, args.height, args.fps, frames),
        bursts=encode_voice_clip(burst_cycle()),
        quiet=encode_voice_clip(quiet_cycle()),
    )


# ---------------------------------------------------------------- media sinks


class CountingBuffer:
    """Stands in for an audio receiver's jitter buffer: counts packets and
    hands none to the decoder."""

    def __init__(self, arrivals: list[float]) -> None:
        self.arrivals = arrivals

    def add(self, packet: RtpPacket) -> tuple[bool, None]:
        self.arrivals.append(time.monotonic())
        return False, None


class OnsetDetector:
    """The first sample over the threshold after at least 200 ms under it;
    and each burst's shape, with samples placed by RTP timestamp: its length
    from the first to the last sample over the threshold, and the longest
    run under it in between (a tick of silence in a burst is a 20 ms hole, a
    dropped frame makes it 20 ms short)."""

    def __init__(self) -> None:
        self.origin: int | None = None
        self.last_loud = -REARM_SAMPLES
        self.burst: tuple[float, int, int] | None = None  # onset time, first loud sample, longest hole
        self.shapes: list[tuple[float, float, float]] = []  # onset time, length ms, longest hole ms

    def feed(self, pcm: Pcm, at: float, pts: int) -> float | None:
        if self.origin is None:
            self.origin = pts
        start = pts - self.origin
        loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > ONSET_THRESHOLD)
        onset = None
        if loud.size:
            first = start + int(loud[0])
            inside = int(np.diff(loud).max()) - 1 if loud.size > 1 else 0
            if first - self.last_loud >= REARM_SAMPLES:
                self.close()
                onset = at + int(loud[0]) / SAMPLE_RATE  # when it can be played at the earliest
                self.burst = (onset, first, inside)
            elif self.burst is not None:
                self.burst = (self.burst[0], self.burst[1], max(self.burst[2], first - self.last_loud - 1, inside))
            self.last_loud = start + int(loud[-1])
        elif self.burst is not None and start + len(pcm) - self.last_loud >= REARM_SAMPLES:
            self.close()
        return onset

    def close(self) -> None:
        if self.burst is not None:
            onset, first, hole = self.burst
            length = (self.last_loud - first + 1) / SAMPLE_RATE * 1000
            self.shapes.append((onset, length, hole / SAMPLE_RATE * 1000))
            self.burst = None


def counter_rows(frame: av.VideoFrame) -> np.ndarray:
    """The luma rows `draw_counter` wrote, without converting the picture."""
    plane = frame.planes[0]
    rows = frame.width // COUNTER_BITS // 2
    luma: np.ndarray = np.frombuffer(memoryview(plane), np.uint8)
    return luma.reshape(-1, plane.line_size)[:rows, : frame.width]


@dataclasses.dataclass
class PeerLog:
    video_sent: list[tuple[float, int]] = dataclasses.field(default_factory=list)  # (time, clip index)
    bursts: list[float] = dataclasses.field(default_factory=list)  # mouth times
    pictures: list[tuple[float, int, int]] = dataclasses.field(default_factory=list)  # (time, counter, pts)
    frames: list[tuple[float, int]] = dataclasses.field(default_factory=list)  # tapped: (time, RTP timestamp)
    onsets: list[float] = dataclasses.field(default_factory=list)  # ear times
    shapes: list[tuple[float, float, float]] = dataclasses.field(default_factory=list)  # burst heard: onset, ms, hole
    audio: list[float] = dataclasses.field(default_factory=list)  # arrival of each audio frame or packet
    keyframes: list[float] = dataclasses.field(default_factory=list)  # keyframe requests reaching the sender

    def window(self, start: float, end: float) -> PeerLog:
        """What was received in [start, end], and what was sent from 3 s before."""

        def inside(at: float) -> bool:
            return start <= at <= end

        return PeerLog(
            video_sent=[s for s in self.video_sent if start - 3 <= s[0] <= end],
            bursts=[b for b in self.bursts if start - 3 <= b <= end],
            pictures=[p for p in self.pictures if inside(p[0])],
            frames=[f for f in self.frames if inside(f[0])],
            onsets=[o for o in self.onsets if inside(o)],
            shapes=[b for b in self.shapes if inside(b[0])],
            audio=[a for a in self.audio if inside(a)],
            keyframes=[k for k in self.keyframes if inside(k)],
        )


# ---------------------------------------------------------------- child processes


@dataclasses.dataclass(frozen=True)
class PeerSpec:
    """What one endpoint peer sends and what it does with what it receives."""

    video_out: str | None = None  # "live" (encoded by aiortc) or "clip"
    audio_out: str | None = None  # "live-bursts", "clip-bursts" or "clip-quiet"
    receive_video: bool = True
    video_in: str = "count"  # "probe": decode and read the counter
    audio_in: str = "count"  # "probe": decode and find burst onsets


class EndpointPeer:
    def __init__(self, spec: PeerSpec, args: argparse.Namespace | None, clip: Clip | None) -> None:
        assert args is not None, "load first"
        self.spec = spec
        self.args = args
        self.clip = clip
        self.log = PeerLog()
        self.tasks: list[asyncio.Task[None]] = []
        self.connection = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.connection.on("track", self._on_track)

    def add_sources(self, *, offering: bool) -> None:
        spec, args, pc = self.spec, self.args, self.connection
        if spec.audio_out == "live-bursts":
            pc.addTrack(BurstTone(self.log.bursts))
        elif spec.audio_out in ("clip-bursts", "clip-quiet"):
            assert self.clip is not None, "load the clip first"
            bursts = spec.audio_out == "clip-bursts"
            pc.addTrack(ClipVoice(self.clip.bursts if bursts else self.clip.quiet, self.log.bursts if bursts else None))
        elif offering:
            pc.addTransceiver("audio", direction="recvonly")
        if spec.video_out == "live":
            sender = pc.addTrack(StampedCamera(args.width, args.height, args.fps))
            setattr(sender, SENDER_ENCODER, SteadyVp8Encoder())
            aiortc_hooks.on_keyframe_request(sender, self._keyframe_requested)
        elif spec.video_out == "clip":
            assert self.clip is not None, "load the clip first"
            camera = ClipCamera(self.clip.video, args.fps, self.log.video_sent)
            sender = pc.addTrack(camera)
            aiortc_hooks.on_keyframe_request(sender, camera.restart)
            aiortc_hooks.on_keyframe_request(sender, self._keyframe_requested)
        elif offering and spec.receive_video:
            pc.addTransceiver("video", direction="recvonly")

    def _on_track(self, track: MediaStreamTrack) -> None:
        receiver = next(t.receiver for t in self.connection.getTransceivers() if t.receiver.track is track)
        if track.kind == "video":
            if self.spec.video_in == "probe":
                self.tasks.append(asyncio.create_task(self._watch(track)))
            else:
                aiortc_hooks.tap_video(receiver, self._count_frame)
        elif self.spec.audio_in == "probe":
            self.tasks.append(asyncio.create_task(self._listen(track)))
        else:
            setattr(receiver, aiortc_hooks.RECEIVER_JITTER_BUFFER, CountingBuffer(self.log.audio))

    def _keyframe_requested(self) -> None:
        self.log.keyframes.append(time.monotonic())

    def _count_frame(self, frame: EncodedFrame) -> None:
        if frame.complete:
            self.log.frames.append((time.monotonic(), frame.timestamp))

    async def _watch(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                at = time.monotonic()
                assert isinstance(frame, av.VideoFrame)
                self.log.pictures.append((at, read_counter(counter_rows(frame)), int(frame.pts or 0)))

    async def _listen(self, track: MediaStreamTrack) -> None:
        detector = OnsetDetector()
        detector.shapes = self.log.shapes
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                at = time.monotonic()
                assert isinstance(frame, av.AudioFrame)
                self.log.audio.append(at)
                onset = detector.feed(to_mono(frame), at, int(frame.pts or 0))
                if onset is not None:
                    self.log.onsets.append(onset)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.connection.close()


class Handler(Protocol):
    async def handle(self, message: tuple[Any, ...]) -> Any: ...
    async def shutdown(self) -> None: ...


class Endpoint:
    """The peers of one endpoint process (one hearing's, or one side of a link)."""

    def __init__(self) -> None:
        self.peers: dict[str, EndpointPeer] = {}
        self.args: argparse.Namespace | None = None
        self.clip: Clip | None = None

    async def handle(self, message: tuple[Any, ...]) -> Any:
        match message:
            case ("load", args, clip):
                self.args, self.clip = args, clip
            case ("offer", name, spec):
                peer = self.peers[name] = EndpointPeer(spec, self.args, self.clip)
                peer.add_sources(offering=True)
                await peer.connection.setLocalDescription(await peer.connection.createOffer())
                return peer.connection.localDescription.sdp
            case ("answer", name, sdp):
                await self.peers[name].connection.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
            case ("accept", name, spec, sdp):
                peer = self.peers[name] = EndpointPeer(spec, self.args, self.clip)
                await peer.connection.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
                peer.add_sources(offering=False)
                await peer.connection.setLocalDescription(await peer.connection.createAnswer())
                return peer.connection.localDescription.sdp
            case ("connected", timeout):
                return await self.connected(timeout)
            case ("results", start, end):
                # Plain dicts: this module is __mp_main__ here, __main__ there.
                return {name: dataclasses.asdict(peer.log.window(start, end)) for name, peer in self.peers.items()}
            case ("close",):
                await self.shutdown()
            case _:
                raise ValueError(f"unknown message {message[0]!r}")
        return None

    async def connected(self, timeout: float) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(p.connection.connectionState == "connected" for p in self.peers.values()):
                break
            await asyncio.sleep(0.05)
        return {name: p.connection.connectionState for name, p in self.peers.items()}

    async def shutdown(self) -> None:
        peers, self.peers = list(self.peers.values()), {}
        for peer in peers:
            await peer.close()


class Relay:
    """The naive alternative to a Room, as in aiortc's examples: one
    RTCPeerConnection per peer, and every track received from one peer sent to
    the peers joining after it through MediaRelay, so aiortc decodes it and
    encodes it again for each. Its video encoders are held at the senders'
    rate (SteadyVp8Encoder), like the endpoints'."""

    def __init__(self) -> None:
        self.media = MediaRelay()
        self.connections: list[RTCPeerConnection] = []
        self.tracks: list[MediaStreamTrack] = []  # received so far, from every peer

    async def join(self, offer_sdp: str) -> str:
        connection = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.connections.append(connection)
        received: list[MediaStreamTrack] = []
        connection.on("track", received.append)
        await connection.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
        kinds = {t.kind for t in connection.getTransceivers()}
        for track in self.tracks:
            if track.kind in kinds:
                sender = connection.addTrack(self.media.subscribe(track))
                if track.kind == "video":
                    setattr(sender, SENDER_ENCODER, SteadyVp8Encoder())
        self.tracks.extend(received)
        await connection.setLocalDescription(await connection.createAnswer())
        return connection.localDescription.sdp

    async def close(self) -> None:
        connections, self.connections, self.tracks = self.connections, [], []
        for connection in connections:
            await connection.close()


class LegacyInbox:
    """The mixer's inbox before the playout buffer, kept to compare against
    (`--paths legacy`): three frames, the oldest dropped by a fourth; one
    taken per tick (none there: silence); the oldest dropped when frames had
    kept waiting for five ticks. Counts what it did."""

    def __init__(self) -> None:
        self.frames: deque[Pcm] = deque(maxlen=3)
        self.backlog = 0
        self.started = False
        self.counts = {"played": 0, "underruns": 0, "inbox_dropped": 0, "backlog_dropped": 0}

    def __len__(self) -> int:
        return len(self.frames)

    def push(self, timestamp: int, pcm: Pcm, at: float) -> None:
        if len(self.frames) == self.frames.maxlen:
            self.counts["inbox_dropped"] += 1
        self.frames.append(pcm)
        self.started = True

    def wait(self, now: float) -> float:
        return 0.0

    def take(self, now: float) -> Pcm | None:
        if not self.frames:
            self.counts["underruns"] += self.started
            return None
        frame = self.frames.popleft()
        self.counts["played"] += 1
        self.backlog = self.backlog + 1 if self.frames else 0
        if self.backlog >= 5:
            self.frames.popleft()
            self.counts["backlog_dropped"] += 1
            self.backlog = 0
        return frame


def playout_counts(peer: Peer) -> dict[str, int]:
    inbox: Playout | LegacyInbox = peer.sender.inbox
    return dict(inbox.counts) if isinstance(inbox, LegacyInbox) else dataclasses.asdict(inbox.counts)


class Hub:
    """The server: one Room per hearing, joined by offers through the pipe;
    or, for comparison, a naive Relay, or a Room with the legacy inbox."""

    def __init__(self) -> None:
        self.rooms: dict[str, Room] = {}
        self.legacy: set[str] = set()  # rooms whose peers get the legacy inbox
        self.relay: Relay | None = None
        self.profiler: cProfile.Profile | None = None
        self.depths = {"inbox": [0, 0], "video": [0, 0]}  # sum of queue lengths, samples
        self.sampler: asyncio.Task[None] | None = None

    async def handle(self, message: tuple[Any, ...]) -> Any:
        match message:
            case ("open", name, *options):
                # Every party on a seat of its own, all heard: the live hearing's
                # composition (the one place a MediaState is made) of an open floor.
                room = self.rooms[name] = Room(name, compose(Floor.for_parties(HEARING_ROLES)))
                if "legacy" in options:
                    self.legacy.add(name)
                await room.start()
                if self.sampler is None:
                    self.sampler = asyncio.create_task(self.sample())
            case ("join", name, seat, sdp):
                answer = await self.rooms[name].join(seat, sdp)
                if name in self.legacy:
                    peer = self.rooms[name].peers[seat]
                    peer.sender.inbox = LegacyInbox()  # type: ignore[assignment]
                    if isinstance(peer.receiver.audio, MixedAudioTrack):
                        peer.receiver.audio._frames = deque(maxlen=3)  # the old depth
                return answer
            case ("relay", sdp):
                if self.relay is None:
                    self.relay = Relay()
                return await self.relay.join(sdp)
            case ("stats",):
                return self.stats()
            case ("profile", "start"):
                # CPU time of the event loop thread, not wall time: waiting for the
                # GIL or for packets would otherwise show up as the cost of calls.
                self.profiler = cProfile.Profile(time.thread_time)
                self.profiler.enable()
            case ("profile", "stop", limit):
                return self.profile_report(limit)
            case ("close",):
                await self.shutdown()
            case _:
                raise ValueError(f"unknown message {message[0]!r}")
        return None

    async def sample(self) -> None:
        """How many frames wait in the room's queues: each sender's audio inbox
        at the switchboard (a frame waits there for the mixer's tick) and each
        forwarded picture's queue. Every 11 ms, out of step with the mixer's
        20 ms; cheap, as it counts in the server's CPU time."""
        speaking: weakref.WeakSet[Sender] = weakref.WeakSet()  # whose audio has reached their inbox
        while True:
            await asyncio.sleep(0.011)
            for room in self.rooms.values():
                for peer in room.peers.values():
                    inbox = peer.sender.inbox
                    if inbox:
                        speaking.add(peer.sender)
                    if peer.sender in speaking:
                        self.depths["inbox"][0] += len(inbox)
                        self.depths["inbox"][1] += 1
                    picture = forwarded_picture(peer)
                    if picture is not None:
                        self.depths["video"][0] += picture.queued
                        self.depths["video"][1] += 1

    def peers(self) -> list[Peer]:
        return [peer for room in self.rooms.values() for peer in room.peers.values()]

    def stats(self) -> dict[str, Any]:
        peers = self.peers()
        pictures = [picture for p in peers if (picture := forwarded_picture(p)) is not None]
        mixes = [p.receiver.audio for p in peers if isinstance(p.receiver.audio, MixedAudioTrack)]
        return {
            "at": time.monotonic(),
            "cpu": cpu_seconds(os.getpid()),
            "threads": thread_seconds(),
            "depths": {k: tuple(v) for k, v in self.depths.items()},
            "peers": len(peers),
            "video_forwarded": sum(p.forwarded for p in pictures),
            "video_dropped": sum(p.dropped for p in pictures),
            "audio_dropped": sum(m.dropped for m in mixes),
            "playout": self.playout(peers),
        }

    def playout(self, peers: Sequence[Peer]) -> dict[str, int]:
        """What the audio inboxes did, summed over every peer so far."""
        total: dict[str, int] = {}
        for peer in peers:
            for key, value in playout_counts(peer).items():
                total[key] = total.get(key, 0) + value
        return total

    def profile_report(self, limit: int) -> str:
        if self.profiler is None:
            return "(not profiling)"
        self.profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(self.profiler, stream=out)
        out.write(by_module(stats))
        stats.sort_stats("tottime").print_stats(limit)
        stats.sort_stats("cumulative").print_stats(limit)
        self.profiler = None
        text = out.getvalue()
        for module in (aiortc, asyncio):  # site-packages/, then the standard library
            text = text.replace(str(Path(module.__file__ or "").parent.parent) + "/", "")
        return text.replace(str(Path.cwd()) + "/", "")

    async def shutdown(self) -> None:
        rooms, self.rooms = list(self.rooms.values()), {}
        self.legacy.clear()
        for room in rooms:
            await room.stop()
        relay, self.relay = self.relay, None
        if relay is not None:
            await relay.close()
        if self.sampler is not None:
            self.sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.sampler
            self.sampler = None


def by_module(stats: pstats.Stats) -> str:
    """The profile's own time summed by source file: where the event loop's time goes."""
    totals: dict[str, float] = {}
    for (filename, _, function), row in stats.stats.items():  # type: ignore[attr-defined]
        name = function if filename == "~" else "/".join(Path(filename).parts[-2:])
        totals[name] = totals.get(name, 0.0) + row[2]
    whole = sum(totals.values()) or 1.0
    lines = [f"own time by file or built-in, of {whole:.2f} s profiled:"]
    for name, seconds in sorted(totals.items(), key=lambda kv: -kv[1])[:18]:
        lines.append(f"  {seconds / whole:6.1%}  {seconds:7.3f} s  {name}")
    return "\n".join(lines) + "\n"


def forwarded_picture(peer: Peer) -> ForwardVideoTrack | None:
    """The picture the room forwards to a peer (none to a seat that offered no video)."""
    picture = peer.receiver.picture
    return picture if isinstance(picture, ForwardVideoTrack) else None


async def serve(conn: Connection, handler: Handler) -> None:
    """Answer the orchestrator's messages, one at a time, until "exit"."""
    loop = asyncio.get_running_loop()
    reader = ThreadPoolExecutor(1, thread_name_prefix="pipe")
    try:
        while True:
            try:
                message = await loop.run_in_executor(reader, conn.recv)
            except EOFError:
                return
            if message[0] == "exit":
                break
            try:
                conn.send(("ok", await handler.handle(message)))
            except Exception:
                conn.send(("error", traceback.format_exc()))
    finally:
        await handler.shutdown()
        reader.shutdown(wait=False)
    conn.send(("ok", None))


def child_main(kind: str, conn: Connection, core: int | None) -> None:
    aiortc_hooks.restrict_host_addresses(LOOPBACK)
    if core is not None:
        os.sched_setaffinity(0, {core})
    logging.basicConfig(level=logging.ERROR)
    handler: Handler = Hub() if kind == "server" else Endpoint()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(conn, handler))


# ---------------------------------------------------------------- orchestration


class Child:
    """A server or endpoint process, called through a pipe."""

    def __init__(self, ctx: multiprocessing.context.SpawnContext, kind: str, name: str, core: int | None) -> None:
        self.name = name
        self.conn, theirs = ctx.Pipe()
        self.process = ctx.Process(target=child_main, args=(kind, theirs, core), name=name, daemon=True)
        self.process.start()
        theirs.close()

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    def call(self, *message: Any, timeout: float = 60.0) -> Any:
        self.conn.send(message)
        if not self.conn.poll(timeout):
            raise TimeoutError(f"{self.name}: no reply to {message[0]!r} in {timeout:g} s")
        status, value = self.conn.recv()
        if status != "ok":
            raise RuntimeError(f"{self.name}: {message[0]!r} failed:\n{value}")
        return value

    def stop(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(Exception):
                self.call("exit", timeout=20)
            self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()


class Fleet:
    """The server process and a pool of endpoint processes, made as needed."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.ctx = multiprocessing.get_context("spawn")
        self.server_core, self.endpoint_core = cores()
        self.server = Child(self.ctx, "server", "server", self.server_core)
        self.endpoints: list[Child] = []
        self.clip: Clip | None = None

    def endpoint(self, index: int) -> Child:
        while len(self.endpoints) <= index:
            child = Child(self.ctx, "endpoint", f"endpoint {len(self.endpoints)}", self.endpoint_core)
            child.call("load", self.args, self.clip, timeout=120)
            self.endpoints.append(child)
        return self.endpoints[index]

    def load_clip(self, clip: Clip) -> None:
        self.clip = clip
        for child in self.endpoints:
            child.call("load", self.args, clip, timeout=120)

    def stop(self) -> None:
        for child in [*self.endpoints, self.server]:
            child.stop()


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """User + system CPU time of a process (all its threads) or one thread."""
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def thread_seconds() -> dict[str, float]:
    """CPU time of this process's live threads by kind: the event loop, the
    default executor (where aiortc encodes), decoder threads, the rest."""
    groups: dict[str, float] = {}
    pid = os.getpid()
    for thread in threading.enumerate():
        if thread is threading.main_thread():
            group = "event loop"
        elif thread.name.startswith("asyncio"):
            group = "executor"
        elif "decoder" in thread.name:
            group = "decoders"
        else:
            group = "other"
        with contextlib.suppress(OSError, IndexError, TypeError):
            groups[group] = groups.get(group, 0.0) + cpu_seconds(pid, thread.native_id)
    return groups


def core_busy_seconds() -> dict[int, float]:
    """CPU time each core spent on anything but idling, since boot."""
    busy: dict[int, float] = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name[3:].isdigit():
            fields = [int(v) for v in values[:8]]
            busy[int(name[3:])] = (sum(fields) - fields[3] - fields[4]) / _CLOCK_TICKS  # less idle and iowait
    return busy


@dataclasses.dataclass
class CpuSnapshot:
    at: float
    server: dict[str, Any]
    endpoints: float
    cores: dict[int, float]

    @classmethod
    def take(cls, fleet: Fleet, endpoints: Sequence[Child]) -> CpuSnapshot:
        server = fleet.server.call("stats")
        return cls(time.monotonic(), server, sum(cpu_seconds(e.pid) for e in endpoints), core_busy_seconds())


def join_server(fleet: Fleet, endpoint: Child, room: str, seat: str, spec: PeerSpec) -> None:
    offer = endpoint.call("offer", seat, spec)
    answer = fleet.server.call("join", room, seat, offer)
    endpoint.call("answer", seat, answer)


def join_relay(fleet: Fleet, endpoint: Child, seat: str, spec: PeerSpec) -> None:
    offer = endpoint.call("offer", seat, spec)
    answer = fleet.server.call("relay", offer)
    endpoint.call("answer", seat, answer)


def join_direct(
    offerer: Child, offer_name: str, spec: PeerSpec, answerer: Child, answer_name: str, rx: PeerSpec
) -> None:
    offer = offerer.call("offer", offer_name, spec)
    answer = answerer.call("accept", answer_name, rx, offer)
    offerer.call("answer", offer_name, answer)


def wait_connected(endpoints: Sequence[Child]) -> None:
    for endpoint in endpoints:
        states = endpoint.call("connected", 20.0)
        if any(state != "connected" for state in states.values()):
            raise RuntimeError(f"{endpoint.name}: not connected: {states}")


# ---------------------------------------------------------------- analysis


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else math.nan


def stamped_latencies(pictures: Sequence[tuple[float, int, int]]) -> tuple[list[float], int]:
    """Milliseconds from the time drawn in each picture; and misreadings."""
    latencies: list[float] = []
    misread = 0
    for at, drawn, _ in pictures:
        latency = (at * 1000 - drawn) % COUNTER_MODULUS - 0.5  # drawn was truncated to the millisecond
        if 0 <= latency <= MAX_LATENCY * 1000:
            latencies.append(latency)
        else:
            misread += 1
    return latencies, misread


def clip_latencies(
    pictures: Sequence[tuple[float, int, int]], sent: Sequence[tuple[float, int]]
) -> tuple[list[float], int]:
    """Milliseconds from the last sending of the clip index drawn in each picture."""
    times: dict[int, list[float]] = {}
    for at, index in sent:
        times.setdefault(index, []).append(at)
    latencies: list[float] = []
    misread = 0
    for at, index, _ in pictures:
        candidates = times.get(index, [])
        i = bisect.bisect_right(candidates, at) - 1
        if i >= 0 and at - candidates[i] <= MAX_LATENCY:
            latencies.append((at - candidates[i]) * 1000)
        else:
            misread += 1
    return latencies, misread


def audio_latencies(onsets: Sequence[float], bursts: Sequence[float]) -> tuple[list[float], int]:
    """Milliseconds from each burst to its onset at the receiver; and onsets
    not within 90 % of a period after a burst."""
    latencies: list[float] = []
    unmatched = 0
    for ear in onsets:
        i = bisect.bisect_right(bursts, ear) - 1
        if i >= 0 and ear - bursts[i] < 0.9 * BURST_PERIOD_SAMPLES / SAMPLE_RATE:
            latencies.append((ear - bursts[i]) * 1000)
        else:
            unmatched += 1
    return latencies, unmatched


def frames_received(timestamps: Sequence[int], step: int) -> tuple[int, int]:
    """(distinct frames received, frames sent) between the first and the last
    received, from their timestamps (unwrapped, in arrival order)."""
    if not timestamps:
        return 0, 0
    first = timestamps[0]
    relative = set()
    for value in timestamps:
        delta = (value - first) % (1 << 32)
        relative.add(delta - (1 << 32) if delta >= 1 << 31 else delta)
    return len(relative), (max(relative) - min(relative)) // step + 1


@dataclasses.dataclass
class Figures:
    """One measured window: latencies in ms, counts, CPU in cores."""

    video: list[float] = dataclasses.field(default_factory=list)
    audio: list[float] = dataclasses.field(default_factory=list)
    misread: int = 0
    unmatched: int = 0
    frames: int = 0
    frames_expected: int = 0
    audio_frames: int = 0
    audio_expected: int = 0
    server_cores: float = 0.0
    server_threads: dict[str, float] = dataclasses.field(default_factory=dict)
    endpoint_cores: float = 0.0
    server_video_dropped: int = 0
    server_video_forwarded: int = 0
    server_audio_dropped: int = 0
    inbox_depth: float = math.nan  # mean frames waiting in a peer's audio inbox
    video_depth: float = math.nan  # mean frames waiting in a forwarded video queue
    foreign_cores: float = 0.0  # CPU used by other processes on the machine meanwhile
    core_busy: dict[int, float] = dataclasses.field(default_factory=dict)  # each core's busy share, all processes
    keyframe_requests: int = 0  # reaching the senders
    seconds: float = 0.0
    playout: dict[str, int] = dataclasses.field(default_factory=dict)  # what the server's audio inboxes did
    shapes: list[tuple[float, float, float]] = dataclasses.field(default_factory=list)  # bursts heard

    @property
    def broken(self) -> int:
        """Bursts heard shorter or longer than sent, or with a hole inside."""
        return sum(
            abs(length - BURST_MS) > BURST_TOLERANCE_MS or hole > BURST_TOLERANCE_MS for _, length, hole in self.shapes
        )

    @property
    def loss(self) -> float:
        return 1 - self.frames / self.frames_expected if self.frames_expected else math.nan

    @property
    def audio_loss(self) -> float:
        return max(0.0, 1 - self.audio_frames / self.audio_expected) if self.audio_expected else math.nan

    @property
    def server_loss(self) -> float:
        total = self.server_video_forwarded + self.server_video_dropped
        return self.server_video_dropped / total if total else 0.0

    def add_cpu(self, before: CpuSnapshot, after: CpuSnapshot) -> None:
        span = after.server["at"] - before.server["at"]
        self.seconds = after.at - before.at
        self.server_cores = (after.server["cpu"] - before.server["cpu"]) / span
        self.endpoint_cores = (after.endpoints - before.endpoints) / self.seconds
        self.core_busy = {core: (after.cores[core] - before.cores[core]) / self.seconds for core in after.cores}
        self.foreign_cores = max(0.0, sum(self.core_busy.values()) - self.server_cores - self.endpoint_cores)
        self.server_threads = {
            k: (v - before.server["threads"].get(k, 0.0)) / span for k, v in after.server["threads"].items()
        }
        self.add_server(before.server, after.server)

    def add_server(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        self.server_video_dropped = after["video_dropped"] - before["video_dropped"]
        self.server_video_forwarded = after["video_forwarded"] - before["video_forwarded"]
        self.server_audio_dropped = after["audio_dropped"] - before["audio_dropped"]
        self.playout = {k: v - before["playout"].get(k, 0) for k, v in after["playout"].items()}
        depth = {k: (v[0] - before["depths"][k][0], v[1] - before["depths"][k][1]) for k, v in after["depths"].items()}
        self.inbox_depth = depth["inbox"][0] / depth["inbox"][1] if depth["inbox"][1] else math.nan
        self.video_depth = depth["video"][0] / depth["video"][1] if depth["video"][1] else math.nan

    def add_received(self, log: PeerLog, step: int, seconds: float) -> None:
        if log.pictures:
            got, expected = frames_received([p[2] for p in log.pictures], step)
        else:
            got, expected = frames_received([f[1] for f in log.frames], step)
        self.frames += got
        self.frames_expected += expected
        self.audio_frames += len(log.audio)
        self.audio_expected += round(seconds / FRAME_SECONDS)
        self.keyframe_requests += len(log.keyframes)


def measure(
    fleet: Fleet, endpoints: Sequence[Child], seconds: float, profile: bool = False
) -> tuple[Figures, dict[str, dict[str, PeerLog]], str]:
    """Wait out the warm-up, then measure one window: logs from every endpoint."""
    time.sleep(fleet.args.warmup)
    if profile:
        fleet.server.call("profile", "start")
    before = CpuSnapshot.take(fleet, endpoints)
    time.sleep(seconds)
    after = CpuSnapshot.take(fleet, endpoints)
    report = fleet.server.call("profile", "stop", 15) if profile else ""
    figures = Figures()
    figures.add_cpu(before, after)
    logs = {
        e.name: {name: PeerLog(**log) for name, log in e.call("results", before.at, after.at).items()}
        for e in endpoints
    }
    return figures, logs, report


def close_all(fleet: Fleet, endpoints: Sequence[Child]) -> None:
    for endpoint in endpoints:
        endpoint.call("close")
    fleet.server.call("close")


# ---------------------------------------------------------------- latency (1 and 2)

LIVE_SENDER = PeerSpec(video_out="live", audio_out="live-bursts")
LIVE_RECEIVER = PeerSpec(video_in="probe", audio_in="probe")


def latency_run(fleet: Fleet, path: str) -> Figures:
    sender, receiver = fleet.endpoint(0), fleet.endpoint(1)
    try:
        if path == "direct":
            join_direct(sender, "custody", LIVE_SENDER, receiver, "courtroom", LIVE_RECEIVER)
        elif path == "relay":
            # The sender first: the relay sends a peer the tracks of those who joined before it.
            join_relay(fleet, sender, "custody", LIVE_SENDER)
            join_relay(fleet, receiver, "courtroom", LIVE_RECEIVER)
        else:
            fleet.server.call("open", "latency", *(["legacy"] if path == "legacy" else []))
            join_server(fleet, sender, "latency", "custody", LIVE_SENDER)
            join_server(fleet, receiver, "latency", "courtroom", LIVE_RECEIVER)
        wait_connected([sender, receiver])
        figures, logs, _ = measure(fleet, [sender, receiver], fleet.args.seconds)
    finally:
        close_all(fleet, [sender, receiver])
    sent, heard = logs[sender.name]["custody"], logs[receiver.name]["courtroom"]
    figures.video, figures.misread = stamped_latencies(heard.pictures)
    figures.audio, figures.unmatched = audio_latencies(heard.onsets, sent.bursts)
    figures.shapes = heard.shapes
    figures.add_received(heard, VIDEO_CLOCK // fleet.args.fps, fleet.args.seconds)
    figures.keyframe_requests += len(sent.keyframes)
    return figures


def fmt(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def pct(value: float) -> str:
    return "-" if math.isnan(value) else f"{value * 100:.1f}%"


LATENCY_HEADER = (
    "              video (ms)                     audio (ms)                  cores               server",
    "run path      p50    p95    n mis  lost      p50    p95   n unm brk      server endpts other   inbox kf-req",
)


def print_latency_row(run: int, path: str, f: Figures) -> None:
    print(
        f"{run:>3} {path:<6} {fmt(percentile(f.video, 50)):>6} {fmt(percentile(f.video, 95)):>6} "
        f"{len(f.video):>4} {f.misread:>3} {pct(f.loss):>5}   "
        f"{fmt(percentile(f.audio, 50)):>6} {fmt(percentile(f.audio, 95)):>6} {len(f.audio):>3} {f.unmatched:>3} "
        f"{f.broken:>3}   {fmt(f.server_cores, 3):>9} {fmt(f.endpoint_cores, 2):>6} {fmt(f.foreign_cores, 2):>5}   "
        f"{fmt(f.inbox_depth, 2):>5} {f.keyframe_requests:>6}",
        flush=True,
    )
    happened = {k: v for k, v in f.playout.items() if v and k != "played"}
    if path in ("server", "legacy"):
        told = ", ".join(f"{k} {v}" for k, v in happened.items()) or "nothing but frames played"
        print(f"           mixer inbox: {told}; mixed frames dropped {f.server_audio_dropped}", flush=True)


def median_of(runs: Sequence[Figures], get: Callable[[Figures], float]) -> float:
    values = [v for v in (get(r) for r in runs) if not math.isnan(v)]
    return statistics.median(values) if values else math.nan


NO_FIGURES = (math.nan, math.nan)


@dataclasses.dataclass
class LatencySummary:
    direct_video: tuple[float, float] = NO_FIGURES
    server_video: tuple[float, float] = NO_FIGURES
    direct_audio: tuple[float, float] = NO_FIGURES
    server_audio: tuple[float, float] = NO_FIGURES
    relay_video: tuple[float, float] = NO_FIGURES
    relay_audio: tuple[float, float] = NO_FIGURES
    legacy_video: tuple[float, float] = NO_FIGURES
    legacy_audio: tuple[float, float] = NO_FIGURES
    cores: dict[str, float] = dataclasses.field(default_factory=dict)  # median server-process CPU by path


def latency_phase(fleet: Fleet) -> LatencySummary:
    print("1-2. latency: custody sender -> courtroom receiver, live VP8 and Opus encoded by aiortc")
    print("     direct = aiortc to aiortc; server = through a Room (video forwarded encoded, audio mixed);")
    print("     relay = naive aiortc relay in the server process (MediaRelay: video and audio decoded and re-encoded)")
    print("     video: capture time drawn in the picture -> decoded at the receiver (glass to glass, less display)")
    print("     audio: burst's first sample, taken as captured 20 ms before its frame is handed over -> onset in")
    print("            the decoded audio, plus its offset in the frame (earliest it can be played)")
    print("     mis: counters misread; lost: frames not received; unm: onsets matching no burst; brk: bursts heard")
    print(f"     more than {BURST_TOLERANCE_MS:g} ms short or long, or with a hole that long inside; other: CPU")
    print("     of other processes meanwhile; inbox: mean audio frames waiting in the server's inbox; kf-req:")
    print("     keyframe requests reaching the sender")
    print()
    print("\n".join(LATENCY_HEADER))
    paths: list[str] = fleet.args.paths
    runs: dict[str, list[Figures]] = {path: [] for path in paths}
    for repeat in range(fleet.args.repeats):
        order = paths if repeat % 2 == 0 else paths[::-1]
        for path in order:
            figures = latency_run(fleet, path)
            runs[path].append(figures)
            print_latency_row(repeat + 1, path, figures)
    summary = LatencySummary()
    for path, measured in runs.items():
        setattr(summary, f"{path}_video", medians(measured, "video"))
        setattr(summary, f"{path}_audio", medians(measured, "audio"))
        summary.cores[path] = median_of(measured, lambda f: f.server_cores)
    print_latency_summary(summary, runs)
    return summary


def medians(runs: Sequence[Figures], kind: str) -> tuple[float, float]:
    return (
        median_of(runs, lambda f: percentile(getattr(f, kind), 50)),
        median_of(runs, lambda f: percentile(getattr(f, kind), 95)),
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def print_latency_summary(s: LatencySummary, runs: dict[str, list[Figures]]) -> None:
    print()
    counts = sorted({len(r) for r in runs.values()})
    print(f"medians over {'/'.join(map(str, counts))} runs per path (ms; server cores: CPU of the server process)")
    print(
        "                 direct   server    relay  server-direct  server/direct  relay-direct  relay/direct"
        "  relay/server"
    )
    rows = (
        ("video p50", s.direct_video[0], s.server_video[0], s.relay_video[0]),
        ("video p95", s.direct_video[1], s.server_video[1], s.relay_video[1]),
        ("audio p50", s.direct_audio[0], s.server_audio[0], s.relay_audio[0]),
        ("audio p95", s.direct_audio[1], s.server_audio[1], s.relay_audio[1]),
    )
    for label, direct, server, relay in rows:
        print(
            f"  {label:<12} {fmt(direct):>8} {fmt(server):>8} {fmt(relay):>8} {fmt(server - direct):>14} "
            f"{fmt(ratio(server, direct), 2):>14} {fmt(relay - direct):>13} {fmt(ratio(relay, direct), 2):>13} "
            f"{fmt(ratio(relay, server), 2):>13}"
        )
    cpu = {path: s.cores.get(path, math.nan) for path in PATHS}
    print(
        f"  {'server cores':<12} {fmt(cpu['direct'], 3):>8} {fmt(cpu['server'], 3):>8} {fmt(cpu['relay'], 3):>8} "
        f"{fmt(cpu['server'] - cpu['direct'], 3):>14} {'':>14} {fmt(cpu['relay'] - cpu['direct'], 3):>13} {'':>13} "
        f"{fmt(ratio(cpu['relay'], cpu['server']), 1):>13}"
    )
    broken = {path: (sum(f.broken for f in done), sum(len(f.shapes) for f in done)) for path, done in runs.items()}
    print("  bursts broken (all runs): " + ", ".join(f"{path} {b} of {n}" for path, (b, n) in broken.items()))
    if "legacy" in runs and "server" in runs:
        print("  the mixer before (legacy: 3-frame inbox, backlog rule) and after (playout buffer), interleaved:")
        print("                   legacy   server  server-legacy   legacy-direct  server-direct")
        for label, index in (("audio p50", 0), ("audio p95", 1)):
            legacy, server, direct = s.legacy_audio[index], s.server_audio[index], s.direct_audio[index]
            print(
                f"    {label:<12} {fmt(legacy):>8} {fmt(server):>8} {fmt(server - legacy):>14} "
                f"{fmt(legacy - direct):>15} {fmt(server - direct):>14}"
            )
    print("targets")
    if "direct" in runs and "server" in runs:
        extra = s.server_video[0] - s.direct_video[0]
        print(
            f"  video p50 through the server within +{TARGET_VIDEO_EXTRA_P50_MS:g} ms of direct: {extra:+.1f} ms, ",
            end="",
        )
        print(verdict(extra <= TARGET_VIDEO_EXTRA_P50_MS))
    if "server" in runs:
        print(f"  video p95 through the server <= {TARGET_VIDEO_P95_MS:g} ms: {fmt(s.server_video[1])} ms, ", end="")
        print(verdict(s.server_video[1] <= TARGET_VIDEO_P95_MS))
    if "direct" in runs and "server" in runs:
        extra = s.server_audio[0] - s.direct_audio[0]
        print(
            f"  audio p50 through the mixer within +{TARGET_AUDIO_EXTRA_MS:g} ms of direct: {extra:+.1f} ms, ", end=""
        )
        print(verdict(extra <= TARGET_AUDIO_EXTRA_MS))
    if "server" in runs:
        print(f"  (server process while forwarding one 720p stream and mixing one voice: {cpu['server']:.3f} cores)")
    if "relay" in runs:
        print(
            f"  (naive relay, decoding and re-encoding one 720p stream and one voice: {cpu['relay']:.3f} cores, "
            f"{fmt(ratio(cpu['relay'], cpu['server']), 1)}x our server's)"
        )
        print(
            f"  (relay: video p50 {fmt(s.relay_video[0] - s.direct_video[0])} ms over direct, "
            f"{fmt(s.relay_video[0] - s.server_video[0])} ms over our server; "
            f"audio p50 {fmt(s.relay_audio[0] - s.direct_audio[0])} ms over direct, "
            f"{fmt(s.relay_audio[0] - s.server_audio[0])} ms over our server)"
        )
    noisy = sum(f.foreign_cores > 0.25 for path in runs.values() for f in path)
    if noisy:
        print(
            f"  note: in {noisy} of {sum(map(len, runs.values()))} runs other processes used over 0.25 of a core "
            "(column 'other'): their figures may be inflated"
        )
    print(flush=True)


# ---------------------------------------------------------------- capacity (3)

COURTROOM = PeerSpec(video_out="clip", audio_out="clip-quiet", video_in="probe", audio_in="probe")
CUSTODY = PeerSpec(video_out="clip", audio_out="clip-bursts")
INTERPRETER = PeerSpec(audio_out="clip-quiet", receive_video=False)


def capacity_level(fleet: Fleet, hearings: int, profile: bool = False) -> tuple[Figures, str]:
    endpoints = [fleet.endpoint(h) for h in range(hearings)]
    try:
        for h, endpoint in enumerate(endpoints):
            room = f"hearing {h}"
            fleet.server.call("open", room)
            join_server(fleet, endpoint, room, "custody", CUSTODY)
            join_server(fleet, endpoint, room, "courtroom", COURTROOM)
            join_server(fleet, endpoint, room, "interpreter", INTERPRETER)
        wait_connected(endpoints)
        figures, logs, report = measure(fleet, endpoints, fleet.args.seconds, profile)
    finally:
        close_all(fleet, endpoints)
    step = VIDEO_CLOCK // fleet.args.fps
    for endpoint in endpoints:
        peers = logs[endpoint.name]
        video, misread = clip_latencies(peers["courtroom"].pictures, peers["custody"].video_sent)
        audio, unmatched = audio_latencies(peers["courtroom"].onsets, peers["custody"].bursts)
        figures.shapes += peers["courtroom"].shapes
        figures.video += video
        figures.audio += audio
        figures.misread += misread
        figures.unmatched += unmatched
        for name in ("courtroom", "custody"):
            figures.add_received(peers[name], step, fleet.args.seconds)
        figures.audio_frames += len(peers["interpreter"].audio)
        figures.audio_expected += round(fleet.args.seconds / FRAME_SECONDS)
    return figures, report


@dataclasses.dataclass(frozen=True)
class Level:
    hearings: int
    figures: Figures
    loss_ok: bool  # < 1 % of frames lost at the receivers and at the server
    video_ok: bool  # p95 within the target
    audio_ok: bool  # p95 within direct + 40 ms (nan target: not judged)
    load_ok: bool  # audio p95 no more than 40 ms above the first level's: load adds no delay

    @property
    def carried(self) -> bool:
        return self.loss_ok and self.video_ok and self.load_ok


def judge_level(hearings: int, f: Figures, audio_target: float, first: Level | None) -> Level:
    audio_p95 = percentile(f.audio, 95)
    baseline = percentile(first.figures.audio, 95) if first else audio_p95
    return Level(
        hearings,
        f,
        loss_ok=f.loss < TARGET_LOSS and f.server_loss < TARGET_LOSS,
        video_ok=percentile(f.video, 95) <= TARGET_VIDEO_P95_MS,
        audio_ok=math.isnan(audio_target) or audio_p95 <= audio_target,
        load_ok=audio_p95 <= baseline + TARGET_AUDIO_EXTRA_MS,
    )


CAPACITY_HEADER = (
    "hear  server cores      video (ms)          audio (ms)       lost: video   audio  endpts  within",
    "ings  total per hrg    p50    p95    n    p50    p95    n      recv server         cores  loss video audio load",
)


def print_capacity_row(level: Level, endpoint_core: int | None) -> None:
    f = level.figures
    threads = ", ".join(f"{k} {v:.2f}" for k, v in sorted(f.server_threads.items(), key=lambda kv: -kv[1]))
    flags = " ".join(f"{'yes' if ok else 'NO':>4}" for ok in (level.loss_ok, level.video_ok, level.audio_ok))
    busy = "  (endpoint core saturated)" if saturated(level, endpoint_core) else ""
    print(
        f"{level.hearings:>4} {f.server_cores:>6.3f} {f.server_cores / level.hearings:>7.3f}  "
        f"{fmt(percentile(f.video, 50)):>6} {fmt(percentile(f.video, 95)):>6} {len(f.video):>4}  "
        f"{fmt(percentile(f.audio, 50)):>6} {fmt(percentile(f.audio, 95)):>6} {len(f.audio):>4}   "
        f"{pct(f.loss):>7} {pct(f.server_loss):>6} {pct(f.audio_loss):>6}  {f.endpoint_cores:>5.2f}  "
        f"{flags} {'yes' if level.load_ok else 'NO':>4}{busy}",
        flush=True,
    )
    busy_cores = ", ".join(f"{core} {share:.0%}" for core, share in sorted(f.core_busy.items()))
    print(f"      server threads (cores): {threads}; cores busy (all processes): {busy_cores}")
    print(
        f"      queued at the server: audio inbox {fmt(f.inbox_depth, 2)}, video {fmt(f.video_depth, 2)} frames; "
        f"keyframe requests reaching senders {f.keyframe_requests / f.seconds:.1f}/s"
    )
    print(
        f"      mixed audio frames dropped {f.server_audio_dropped}; bursts broken {f.broken} of {len(f.shapes)}; "
        f"misread {f.misread}; unmatched onsets {f.unmatched}",
        flush=True,
    )


def capacity_phase(fleet: Fleet, latency: LatencySummary | None) -> list[Level]:
    args = fleet.args
    started = time.monotonic()
    fleet.load_clip(make_clip(args))
    assert fleet.clip is not None
    sizes = [len(p) for p in fleet.clip.video]
    print(
        f"3. capacity: pre-encoded clip of {len(sizes)} frames ({time.monotonic() - started:.1f} s to encode), "
        f"keyframe {sizes[0] / 1000:.1f} kB, mean frame {statistics.mean(sizes[1:]) / 1000:.1f} kB "
        f"({statistics.mean(sizes[1:]) * 8 * args.fps / 1000:.0f} kbit/s)"
    )
    print("   a hearing: courtroom (720p video + audio in; receives custody video, mix), custody (720p video + audio;")
    print("   receives courtroom video, mix), interpreter (audio; receives mix). Receivers count frames without")
    print("   decoding, except the courtroom, which decodes the custody picture and hears the custody bursts:")
    print("   video latency = custody packet sent -> picture decoded at the courtroom (no encode in it)")
    audio_target = latency.direct_audio[1] + TARGET_AUDIO_EXTRA_MS if latency else math.nan
    print(
        f"   within: loss < {TARGET_LOSS:.0%} of frames (receivers and server); "
        f"video p95 <= {TARGET_VIDEO_P95_MS:g} ms; audio p95 <= {fmt(audio_target)} ms (direct p95 + "
        f"{TARGET_AUDIO_EXTRA_MS:g});"
    )
    print(
        f"   load: audio p95 <= the first level's + {TARGET_AUDIO_EXTRA_MS:g} ms. A level is carried when loss, "
        "video and load are met; levels stop at the first not carried"
    )
    print()
    print("\n".join(CAPACITY_HEADER))
    levels: list[Level] = []
    for hearings in args.levels:
        figures, _ = capacity_level(fleet, hearings)
        level = judge_level(hearings, figures, audio_target, levels[0] if levels else None)
        levels.append(level)
        print_capacity_row(level, fleet.endpoint_core)
        if not level.carried and not args.keep_going:
            break
    print_capacity_summary(levels, fleet.endpoint_core)
    return levels


def saturated(level: Level, endpoint_core: int | None) -> bool:
    """Whether the endpoints' core (or, unpinned, the machine) was busy over 90 % of the time."""
    busy = level.figures.core_busy
    if endpoint_core is not None:
        return busy.get(endpoint_core, 0.0) > 0.9
    return sum(busy.values()) > 0.9 * max(1, len(busy))


def print_capacity_summary(levels: Sequence[Level], endpoint_core: int | None) -> None:
    print()
    carried = [level.hearings for level in levels if level.carried]
    if carried:
        print(f"carried: {max(carried)} hearing(s) (frames lost < 1 %, video p95 within target, no load-induced delay)")
    else:
        print("carried: no level")
    missed_audio = [level.hearings for level in levels if not level.audio_ok]
    if missed_audio:
        print(f"audio p95 over direct + {TARGET_AUDIO_EXTRA_MS:g} ms at levels {missed_audio}")
    busy = [level.hearings for level in levels if saturated(level, endpoint_core)]
    if busy:
        print(f"endpoint core saturated at levels {busy}: from there the endpoints, not the server, may limit")
    if levels:
        per = {level.hearings: level.figures.server_cores / level.hearings for level in levels}
        judged = [level.hearings for level in levels if level.carried] or list(per)
        met = [h for h in judged if per[h] <= TARGET_CORES_PER_HEARING]
        missed = [h for h in judged if h not in met]
        print(
            f"server CPU per hearing: {', '.join(f'{c:.3f}' for c in per.values())} cores at {list(per)} hearings; "
            f"target <= {TARGET_CORES_PER_HEARING} (levels carried): met at {met or 'none'}, "
            f"missed at {missed or 'none'}"
        )
        last = judged[-1]
        print(
            f"at the rate of {last} hearing(s) one server core would carry about {1 / max(per[last], 1e-9):.1f} "
            "hearings (CPU alone; a level not carried overloads something, so its rate is not used)"
        )
    print(flush=True)


def profile_phase(fleet: Fleet, hearings: int) -> None:
    print(
        f"profile: the server's event loop with {hearings} hearing(s), {fleet.args.seconds:g} s (cProfile on the "
        "thread's CPU clock; it slows the loop about 2-3x, so read shares, not absolute times)"
    )
    figures, report = capacity_level(fleet, hearings, profile=True)
    threads = ", ".join(f"{k} {v:.3f}" for k, v in sorted(figures.server_threads.items(), key=lambda kv: -kv[1]))
    print(f"server cores while profiled: {figures.server_cores:.3f} ({threads})")
    for line in report.splitlines():
        if line.strip():
            print("  " + line.rstrip()[:150])
    print(flush=True)


# ---------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    aiortc_hooks.restrict_host_addresses(LOOPBACK)
    print_header(args)
    started = time.monotonic()
    fleet = Fleet(args)
    try:
        latency = None if args.skip_latency else latency_phase(fleet)
        if not args.skip_capacity:
            capacity_phase(fleet, latency)
        if args.profile:
            if fleet.clip is None:
                fleet.load_clip(make_clip(args))
            profile_phase(fleet, args.profile)
    finally:
        fleet.stop()
    print(f"load avg:   {load_average()} (at end); total {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()

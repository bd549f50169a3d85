"""Every use of aiortc's private internals, in one place.

aiortc has no public API for receiving video without decoding it, for
learning that a receiver asked for a keyframe when we send encoded frames,
or for restricting ICE to chosen addresses. These hooks add that. They name
private attributes of aiortc 1.16.0 and aioice 0.13.0, which pyproject.toml
pins exactly; tests/media/test_aiortc_hooks.py fails loudly when an upgrade
moves any of them.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import Any

import aioice.ice
import aiortc.rtp
import av
import numpy as np
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket
from aiortc.utils import uint16_add, uint16_gt

from hearing.media import vp8
from hearing.media.vp8 import EncodedFrame

logger = logging.getLogger(__name__)

RECEIVER_JITTER_BUFFER = "_RTCRtpReceiver__jitter_buffer"
RECEIVER_TIMESTAMP_MAPPER = "_RTCRtpReceiver__timestamp_mapper"


class MarkerFrameAssembler(JitterBuffer):
    """A video jitter buffer that hands each frame on when its marker-bit
    packet completes it (aiortc's waits for the next frame's first packet,
    one frame period later), to a callback instead of the decoder.

    NACK, RTX, receiver reports and the buffer's own keyframe requests keep
    working: only what `add` returns to the receiver changes (never a frame).
    A hole that retransmission does not fill within `max_stall` seconds is
    given up: the buffer skips to the next frame start and asks for a keyframe.
    """

    def __init__(self, on_frame: Callable[[EncodedFrame], None], max_stall: float = 0.3) -> None:
        super().__init__(capacity=512, is_video=True)
        self._on_frame = on_frame
        self._max_stall = max_stall
        self._stalled_since: float | None = None
        self._after_gap = False

    def add(self, packet: RtpPacket) -> tuple[bool, None]:
        keyframe_wanted, _ = super().add(packet)  # calls _remove_frame below
        slots = self._packets
        buffered = slots[packet.sequence_number % self._capacity] is packet
        if buffered and self._origin is not None and slots[self._origin % self._capacity] is None:
            now = time.monotonic()
            if self._stalled_since is None:
                self._stalled_since = now
            elif now - self._stalled_since > self._max_stall:
                self._skip_to_next_frame_start()
                self._after_gap = True
                self._stalled_since = None
                keyframe_wanted = True
                self._remove_frame(packet.sequence_number)
        else:
            self._stalled_since = None
        return keyframe_wanted, None

    def _skip_to_next_frame_start(self) -> None:
        assert self._origin is not None
        seen_gap, last = False, -1
        for count in range(self.capacity):
            packet = self._packets[(self._origin + count) % self._capacity]
            if packet is None:
                seen_gap = True
                continue
            last = count
            if seen_gap and vp8.starts_partition(packet.payload):
                self.remove(count)
                return
        # remove(capacity) would move the origin past packets still to come.
        self.remove(last + 1)

    def _remove_frame(self, sequence_number: int) -> None:
        while (frame := self._pop_frame()) is not None:
            self._on_frame(frame)

    def _pop_frame(self) -> EncodedFrame | None:
        if self._origin is None:
            return None
        packets: list[RtpPacket] = []
        for count in range(self.capacity):
            packet = self._packets[(self._origin + count) % self._capacity]
            if packet is None:
                return None
            if packets and packet.timestamp != packets[0].timestamp:
                # A frame whose marker packet was lost: hand it on as incomplete.
                self.remove(count)
                return self._frame(packets, ended=False)
            packets.append(packet)
            if packet.marker:
                self.remove(count + 1)
                return self._frame(packets, ended=True)
        return None

    def _frame(self, packets: list[RtpPacket], *, ended: bool) -> EncodedFrame:
        data = b"".join(p._data for p in packets)  # type: ignore[attr-defined]
        after_gap, self._after_gap = self._after_gap, False
        return EncodedFrame(
            data=data,
            timestamp=packets[0].timestamp,
            keyframe=vp8.is_keyframe(data),
            ssrc=packets[0].ssrc,
            complete=ended and vp8.starts_partition(packets[0].payload),
            after_gap=after_gap,
        )


def tap_video(receiver: RTCRtpReceiver, on_frame: Callable[[EncodedFrame], None]) -> None:
    """Encoded frames from this receiver go to `on_frame`; its decoder idles."""
    if not hasattr(receiver, RECEIVER_JITTER_BUFFER):
        raise RuntimeError("aiortc internals changed: RTCRtpReceiver has no jitter buffer attribute")
    setattr(receiver, RECEIVER_JITTER_BUFFER, MarkerFrameAssembler(on_frame))


class ImmediateAudioBuffer(JitterBuffer):
    """Hands each audio packet to the decoder as it arrives: one Opus packet
    is one 20 ms frame. aiortc's buffer holds four frames (about 80 ms), and
    even with a prefetch of one waits for the next packet (20 ms more).

    A reordered packet is handed on too (the room's playout buffer puts its
    frame in its slot; decoded out of order, Opus gives it back nearly
    whole, which beats silence); a duplicate, or a packet `window` or more
    behind the newest, is dropped."""

    def __init__(self, window: int = 32) -> None:
        super().__init__(capacity=16, prefetch=1)
        self._newest: int | None = None
        self._window = window
        self._recent: deque[int] = deque(maxlen=window)

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        sequence = packet.sequence_number
        if self._newest is None or uint16_gt(sequence, self._newest):
            self._newest = sequence
        elif uint16_add(self._newest, -sequence) >= self._window or sequence in self._recent:
            return False, None
        self._recent.append(sequence)
        return False, JitterFrame(data=packet._data, timestamp=packet.timestamp)  # type: ignore[attr-defined]


class SerialTimestampMapper:
    """RTP timestamps unwrapped to the value nearest the newest, from 0 at the
    first. aiortc's mapper takes any timestamp lower than the last one for a
    wrap, so a single reordered packet would move every later frame 2**32
    samples (a day) on."""

    def __init__(self) -> None:
        self._origin: int | None = None
        self._newest = 0

    def map(self, timestamp: int) -> int:
        if self._origin is None:
            self._origin = timestamp
            return 0
        offset = (timestamp - self._origin - self._newest + (1 << 31)) % (1 << 32) - (1 << 31)
        value = self._newest + offset
        self._newest = max(self._newest, value)
        return value


def quicken_audio(receiver: RTCRtpReceiver) -> None:
    """Hand audio to the decoder as each packet arrives, each frame's pts its
    unwrapped RTP timestamp."""
    for name in (RECEIVER_JITTER_BUFFER, RECEIVER_TIMESTAMP_MAPPER):
        if not hasattr(receiver, name):
            raise RuntimeError(f"aiortc internals changed: RTCRtpReceiver has no {name} attribute")
    setattr(receiver, RECEIVER_JITTER_BUFFER, ImmediateAudioBuffer())
    setattr(receiver, RECEIVER_TIMESTAMP_MAPPER, SerialTimestampMapper())


def request_keyframe(receiver: RTCRtpReceiver, ssrc: int) -> Coroutine[Any, Any, None]:
    """A picture loss indication upstream to the sender of `ssrc`: the
    caller runs it as a task of its own, and stops it with the peer."""
    send: Callable[[int], Coroutine[Any, Any, None]] = receiver._send_rtcp_pli
    return send(ssrc)


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call `callback` when the far end of `sender` asks for a keyframe (PLI
    or FIR): aiortc only tells its own encoder, which we do not use."""
    original = sender._send_keyframe

    def send_keyframe() -> None:
        original()
        callback()

    sender._send_keyframe = send_keyframe  # type: ignore[method-assign]


# The host addresses ICE offers in the current context. The process default
# (restrict_host_addresses) serves the internal listener; a remote party's
# negotiation runs inside host_addresses(gateway addresses). aiortc gathers
# inside the awaited setLocalDescription, in tasks that copy the context of
# the negotiation that awaits them, so each peer gets its own listener's.
_DEFAULT_HOST_ADDRESSES: list[str] | None = None
_HOST_ADDRESSES: contextvars.ContextVar[tuple[str, ...] | None] = contextvars.ContextVar(
    "hearing_host_addresses", default=None
)
_AIOICE_HOST_ADDRESSES = aioice.ice.get_host_addresses


def _host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    chosen = _HOST_ADDRESSES.get()
    if chosen is not None:
        return list(chosen)
    if _DEFAULT_HOST_ADDRESSES is not None:
        return list(_DEFAULT_HOST_ADDRESSES)
    return _AIOICE_HOST_ADDRESSES(use_ipv4, use_ipv6)


def restrict_host_addresses(addresses: Sequence[str]) -> None:
    """Offer ICE host candidates on these addresses only, wherever no
    host_addresses() context says otherwise (the process default).

    A closed network must not advertise every interface; aioice offers all
    but loopback by default."""
    global _DEFAULT_HOST_ADDRESSES
    _DEFAULT_HOST_ADDRESSES = list(addresses)
    aioice.ice.get_host_addresses = _host_addresses


@contextlib.contextmanager
def host_addresses(addresses: Sequence[str]) -> Iterator[None]:
    """Peers negotiated inside this block (and the tasks it starts) offer
    host candidates on `addresses` only: the gateway's, for a remote party."""
    aioice.ice.get_host_addresses = _host_addresses
    token = _HOST_ADDRESSES.set(tuple(addresses))
    try:
        yield
    finally:
        _HOST_ADDRESSES.reset(token)


def current_host_addresses() -> list[str] | None:
    """What a peer negotiated here would offer (None: aioice's own choice)."""
    chosen = _HOST_ADDRESSES.get()
    if chosen is not None:
        return list(chosen)
    return None if _DEFAULT_HOST_ADDRESSES is None else list(_DEFAULT_HOST_ADDRESSES)


def set_start_bitrate(connection: RTCPeerConnection, kbps: int) -> None:
    """Ask browsers to start sending VP8 at `kbps` (`x-google-start-bitrate`).
    Call after setRemoteDescription and before createAnswer. Without it
    Chromium sends 640x360 for the first half minute."""
    for transceiver in connection.getTransceivers():
        for codec in transceiver._codecs:
            if codec.mimeType.lower() == "video/vp8":
                codec.parameters["x-google-start-bitrate"] = kbps


_MAX_SAMPLE = 32767
_MIN_LEVEL = -127
# aiortc's own, kept for comparison (tests) before faster_audio_levels() swaps it.
AIORTC_AUDIO_LEVEL = aiortc.rtp.compute_audio_level_dbov


def audio_level_dbov(frame: av.AudioFrame) -> int:
    """RFC 6465 audio level, as aiortc computes it, in numpy: aiortc walks
    every sample in Python on the event loop (about 1.2 ms per 20 ms frame,
    for every outgoing audio stream)."""
    samples = np.frombuffer(bytes(frame.planes[0]), dtype=np.int16).astype(np.float64)
    rms = math.sqrt(float(np.dot(samples, samples)) / (frame.samples * _MAX_SAMPLE * _MAX_SAMPLE))
    if rms <= 0:
        return _MIN_LEVEL
    return round(min(0.0, max(float(_MIN_LEVEL), 20 * math.log10(rms))))


def faster_audio_levels() -> None:
    """Process-wide: aiortc's sender looks the function up on its module."""
    aiortc.rtp.compute_audio_level_dbov = audio_level_dbov

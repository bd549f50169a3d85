"""The private aiortc and aioice internals hearing/media/aiortc_hooks.py uses.

If an upgrade moves any of them, these fail by name, before anything subtler
does. The functional tests (tests/media/test_video.py) show the hooks work."""

from __future__ import annotations

import asyncio
import importlib.metadata
import re

import aioice.ice
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtcrtpreceiver import RTCRtpReceiver

from hearing.media import aiortc_hooks
from hearing.media.tracks import PatternTrack, ToneTrack


def test_pinned_versions() -> None:
    assert importlib.metadata.version("aiortc") == "1.16.0"
    assert importlib.metadata.version("aioice") == "0.13.0"


def test_the_internals_the_hooks_use_are_where_they_were() -> None:
    for name in ("_packets", "_origin", "_capacity", "remove", "_remove_frame", "add"):
        assert hasattr(JitterBuffer(capacity=16), name), name
    assert callable(RTCRtpReceiver._send_rtcp_pli)
    assert callable(RTCRtpSender._send_keyframe)
    assert callable(aioice.ice.get_host_addresses)

    async def inspect() -> None:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTrack(ToneTrack(440.0))
        video = pc.addTrack(PatternTrack(64, 64))
        receiver = next(t.receiver for t in pc.getTransceivers() if t.sender is video)
        assert hasattr(receiver, aiortc_hooks.RECEIVER_JITTER_BUFFER)
        assert hasattr(receiver, aiortc_hooks.RECEIVER_TIMESTAMP_MAPPER)
        assert all(hasattr(t, "_codecs") for t in pc.getTransceivers())
        await pc.close()

    asyncio.run(inspect())


def test_the_taps_replace_the_jitter_buffers() -> None:
    async def inspect() -> None:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        sender = pc.addTrack(PatternTrack(64, 64))
        receiver = next(t.receiver for t in pc.getTransceivers() if t.sender is sender)
        aiortc_hooks.tap_video(receiver, lambda frame: None)
        assert isinstance(getattr(receiver, aiortc_hooks.RECEIVER_JITTER_BUFFER), aiortc_hooks.MarkerFrameAssembler)
        aiortc_hooks.quicken_audio(receiver)
        assert isinstance(getattr(receiver, aiortc_hooks.RECEIVER_JITTER_BUFFER), aiortc_hooks.ImmediateAudioBuffer)
        mapper = getattr(receiver, aiortc_hooks.RECEIVER_TIMESTAMP_MAPPER)
        assert isinstance(mapper, aiortc_hooks.SerialTimestampMapper)
        calls: list[str] = []
        aiortc_hooks.on_keyframe_request(sender, lambda: calls.append("pli"))
        sender._send_keyframe()
        assert calls == ["pli"]
        await pc.close()

    asyncio.run(inspect())


def test_only_configured_addresses_appear_in_the_sdp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aioice.ice, "get_host_addresses", aioice.ice.get_host_addresses)
    aiortc_hooks.restrict_host_addresses(["127.0.0.1"])

    async def offer() -> str:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTrack(ToneTrack(440.0))
        pc.addTrack(PatternTrack(64, 64))
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        await pc.close()
        return sdp

    sdp = asyncio.run(offer())
    candidates = re.findall(r"a=candidate:\S+ \d+ \S+ \d+ (\S+) \d+ typ (\S+)", sdp)
    assert candidates, sdp
    assert {address for address, _ in candidates} == {"127.0.0.1"}
    assert {kind for _, kind in candidates} == {"host"}  # no STUN: no server-reflexive candidates
    connection_lines = set(re.findall(r"c=IN IP4 (\S+)", sdp))
    assert connection_lines <= {"127.0.0.1", "0.0.0.0"}


def test_the_numpy_audio_level_matches_aiortcs() -> None:
    import time

    import av
    import numpy as np
    from aiortc import rtp

    original = aiortc_hooks.AIORTC_AUDIO_LEVEL
    assert original is not aiortc_hooks.audio_level_dbov
    aiortc_hooks.faster_audio_levels()
    assert rtp.compute_audio_level_dbov is aiortc_hooks.audio_level_dbov
    rng = np.random.default_rng(6465)
    for amplitude in (0, 1, 30, 1000, 20000, 32767):
        for layout in ("mono", "stereo"):
            channels = 1 if layout == "mono" else 2
            pcm = (rng.uniform(-1, 1, 960 * channels) * amplitude).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout=layout)
            assert aiortc_hooks.audio_level_dbov(frame) == original(frame), (amplitude, layout)
    frame = av.AudioFrame.from_ndarray(np.full((1, 1920), 5000, dtype=np.int16), format="s16", layout="stereo")
    start = time.perf_counter()
    for _ in range(50):
        original(frame)
    slow = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(50):
        aiortc_hooks.audio_level_dbov(frame)
    fast = time.perf_counter() - start
    print(f"audio level per frame: aiortc {slow / 50 * 1e6:.0f} us, numpy {fast / 50 * 1e6:.0f} us")


def test_audio_packets_are_handed_on_as_they_arrive_reordered_too_but_not_twice() -> None:
    from aiortc.rtp import RtpPacket

    def packet(sequence: int) -> RtpPacket:
        p = RtpPacket(payload_type=111, sequence_number=sequence, timestamp=sequence * 960)
        p._data = bytes([sequence % 256])  # type: ignore[attr-defined]
        return p

    buffer = aiortc_hooks.ImmediateAudioBuffer(window=32)
    handed = []
    # Wraps; 1 comes after 2 (the room's playout buffer puts it in its slot);
    # 2 and 65535 come twice; 65500 is more than the window behind.
    for sequence in (65534, 65535, 0, 2, 1, 3, 2, 65535, 65500, 4):
        _, frame = buffer.add(packet(sequence))
        handed.append(None if frame is None else frame.timestamp // 960)
    assert handed == [65534, 65535, 0, 2, 1, 3, None, None, None, 4]


def test_timestamps_unwrap_and_a_reordered_packet_is_not_a_wrap() -> None:
    mapper = aiortc_hooks.SerialTimestampMapper()
    origin = (1 << 32) - 2 * 960
    raw = [origin, origin + 960, (origin + 3 * 960) % (1 << 32), (origin + 2 * 960) % (1 << 32), origin + 4 * 960]
    assert [mapper.map(t % (1 << 32)) for t in raw] == [0, 960, 2880, 1920, 3840]
    # aiortc's own mapper took the reordered one for a wrap: everything after moved a day on.
    from aiortc.rtcrtpreceiver import TimestampMapper

    theirs = TimestampMapper()
    assert [theirs.map(t % (1 << 32)) for t in raw][-1] == 3840 + (1 << 32)

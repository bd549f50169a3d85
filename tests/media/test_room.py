"""Real aiortc peers on loopback, real Opus, the room's mixer in between."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from hearing.docket.parties import ParticipantRole as R
from hearing.media import aiortc_hooks
from hearing.media.mixer import FRAME_SAMPLES, SAMPLE_RATE
from hearing.media.room import Room
from hearing.media.tracks import ToneTrack, to_mono
from hearing.routing.policy import MediaState

# Each tone names its sender: whole cycles per 20 ms frame, and no tone is
# the sum or difference of two others (which lossy coding can leave behind).
TONES = {"judge": 450.0, "detainee": 1150.0, "prosecutor": 1950.0}
ROLES = {"judge": R.JUDGE, "detainee": R.DETAINEE, "prosecutor": R.PROSECUTOR}


class Listener:
    """A client peer: sends its tone, records what it hears with arrival times."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pc.addTrack(ToneTrack(TONES[name]))
        self.heard: list[tuple[float, np.ndarray]] = []
        self.task: asyncio.Task[None] | None = None

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            receiver = next(t.receiver for t in self.pc.getTransceivers() if t.receiver.track is track)
            aiortc_hooks.quicken_audio(receiver)
            self.task = asyncio.create_task(self._record(track))

    async def _record(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                self.heard.append((time.monotonic(), to_mono(frame)))  # type: ignore[arg-type]
        except MediaStreamError:
            return

    async def join(self, room: Room) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await room.join(self.name, self.pc.localDescription.sdp)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    def silent_after(self, frequency: float, since: float) -> float:
        """Seconds from `since` to the first frame from which on the tone's
        level stays 30 dB below where it was (single-bin DFT per 20 ms frame)."""
        t = np.arange(FRAME_SAMPLES) / SAMPLE_RATE
        probe = np.exp(-2j * np.pi * frequency * t)
        levels = [(at, abs(np.dot(pcm.astype(np.float64), probe))) for at, pcm in self.heard]
        before = [level for at, level in levels if at < since]
        reference = float(np.median(before[-25:]))
        after = [(at, level) for at, level in levels if at >= since]
        for index, (at, _) in enumerate(after):
            if all(level < reference / 31.6 for _, level in after[index:]):
                return at - since
        return float("inf")

    def tones_since(self, since: float) -> set[str]:
        """Which senders' tones carry energy in what arrived after `since`."""
        frames = [pcm for at, pcm in self.heard if at >= since]
        assert len(frames) >= 10, f"{self.name} heard only {len(frames)} frames"
        signal = np.concatenate(frames[-25:]).astype(np.float64)
        spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
        bins = np.fft.rfftfreq(len(signal), 1 / SAMPLE_RATE)
        energy = {name: spectrum[np.argmin(np.abs(bins - f))] for name, f in TONES.items()}
        # Present: within 20 dB of the loudest tone and well above the noise.
        loudest = max(energy.values())
        noise = float(np.median(spectrum))
        return {name for name, e in energy.items() if e > loudest / 10 and e > noise * 100}

    async def close(self) -> None:
        await self.pc.close()
        if self.task is not None:
            self.task.cancel()


async def wait_until(condition, timeout: float = 10.0) -> float:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
    return time.monotonic() - start


async def three_peers() -> tuple[Room, dict[str, Listener]]:
    room = Room("test-hearing", MediaState(ROLES))
    await room.start()
    listeners = {name: Listener(name) for name in TONES}
    for listener in listeners.values():
        await listener.join(room)
    await wait_until(lambda: all(len(lst.heard) > 60 for lst in listeners.values()), timeout=20)
    return room, listeners


async def teardown(room: Room, listeners: dict[str, Listener]) -> None:
    for listener in listeners.values():
        await listener.close()
    await room.stop()


@pytest.mark.timeout(60)
def test_each_peer_hears_the_others_and_not_itself() -> None:
    async def scenario() -> None:
        room, listeners = await three_peers()
        try:
            now = time.monotonic() - 0.5
            for name, listener in listeners.items():
                assert listener.tones_since(now) == set(TONES) - {name}, name
        finally:
            await teardown(room, listeners)

    asyncio.run(scenario())


@pytest.mark.timeout(60)
def test_an_excluded_participant_falls_silent_within_100_ms_and_returns() -> None:
    async def scenario() -> None:
        room, listeners = await three_peers()
        try:
            changed = time.monotonic()
            room.reroute(MediaState(ROLES, muted=frozenset({"detainee"})))
            await asyncio.sleep(1.0)
            for name in ("judge", "prosecutor"):
                assert "detainee" not in listeners[name].tones_since(changed + 0.5), name
                # Frame by frame: the detainee's tone is gone from what arrives
                # within 100 ms of the change (the receiver's own jitter buffer
                # is made as short as the server's, see Listener).
                delay = listeners[name].silent_after(TONES["detainee"], changed)
                print(f"{name}: detainee silent {delay * 1000:.0f} ms after the change")
                assert delay < 0.1, f"{name}: tone still heard {delay * 1000:.0f} ms after the change"
            restored = time.monotonic()
            room.reroute(MediaState(ROLES))
            await asyncio.sleep(1.0)
            for name in ("judge", "prosecutor"):
                assert "detainee" in listeners[name].tones_since(restored + 0.5), name
        finally:
            await teardown(room, listeners)

    asyncio.run(scenario())


def test_pcm_frames_are_20_ms() -> None:
    assert FRAME_SAMPLES / SAMPLE_RATE == 0.02

"""A minute of tone through a real Room finds no gap, no repeated and no
skipped frame, with the machine loaded for a third of it; and the detector
finds each of those when they are there.

The receiver peer hands every packet to its decoder as it arrives
(`quicken_audio`) and the analysis places each decoded frame by its RTP
timestamp, so what is judged is exactly the stream the server sent: when
the test's own process is slow to read, nothing is lost or invented on the
receiving side. aiortc's default jitter buffer would not do: it holds about
80 ms and, when more than 16 packets are waiting (a stall of this process
under load), drops the oldest, so the test would find its own receiver's
gaps. A hole in the timestamps (a packet lost between server and receiver)
is counted apart and fails the test too.
"""

from __future__ import annotations

import asyncio
import fractions
import os
import resource
import subprocess
import sys
import time

import av
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from hearing.docket.parties import ParticipantRole as R
from hearing.media.mixer import FRAME_SAMPLES, SAMPLE_RATE, Pcm
from hearing.media.room import Room
from hearing.media.tracks import MixedAudioTrack, ToneTrack, to_mono
from hearing.routing.policy import MediaState
from tests.media import continuity
from tests.media.continuity import Defect
from tests.media.peers import Peer
from tests.waiting import wait_until_async

SECONDS = 60.0
LOADED = (20.0, 40.0)  # seconds into the minute with one CPU burner per core
SETTLE = 0.2  # seconds after the tone first arrives (the encoder starts, the mix starts)


# --- the detector, on audio coded as aiortc codes it -------------------------


def opus_round_trip(frames: list[Pcm]) -> list[tuple[int, Pcm]]:
    """Frames through libopus as aiortc's encoder and decoder set it up."""
    time_base = fractions.Fraction(1, SAMPLE_RATE)
    encoder = av.CodecContext.create("libopus", "w")
    encoder.bit_rate, encoder.format, encoder.layout, encoder.sample_rate = 96_000, "s16", "stereo", SAMPLE_RATE
    encoder.time_base = time_base
    encoder.options = {"application": "voip"}
    decoder = av.CodecContext.create("libopus", "r")
    decoder.format, decoder.layout, decoder.sample_rate = "s16", "stereo", SAMPLE_RATE
    out: list[tuple[int, Pcm]] = []
    for index, pcm in enumerate(frames):
        frame = av.AudioFrame.from_ndarray(np.repeat(pcm, 2).reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, index * FRAME_SAMPLES, time_base
        for packet in encoder.encode(frame):
            for decoded in decoder.decode(packet):
                out.append((int(packet.pts), to_mono(decoded)))
    return out


def examined(frames: list[Pcm]) -> continuity.Report:
    signal, holes = continuity.assemble(opus_round_trip(frames))
    return continuity.examine(signal[SAMPLE_RATE // 10 : -SAMPLE_RATE // 10], holes=holes)


def kinds(report: continuity.Report) -> list[str]:
    return [defect.kind for defect in report.defects]


def test_the_detector_finds_a_gap_a_repeat_and_a_skip_in_decoded_audio() -> None:
    tone = [continuity.tone(i * FRAME_SAMPLES, FRAME_SAMPLES) for i in range(300)]
    quiet = np.zeros(FRAME_SAMPLES, dtype=np.int16)
    clean = examined(tone)
    assert clean.whole and clean.phase_spread < 5 and clean.seconds > 5.5, clean
    # What the old mixer did: a tick of silence (and the rest 20 ms later) ...
    inserted = examined(tone[:150] + [quiet] + tone[150:])
    assert kinds(inserted) == ["gap", "insert"], inserted
    assert inserted.defects[0].at == pytest.approx(150 * 0.02 - 0.1, abs=0.02)
    # ... then a frame dropped to take the backlog away.
    assert kinds(examined(tone[:150] + tone[151:])) == ["skip"]
    assert kinds(examined(tone[:150] + [tone[149]] + tone[150:])) == ["insert"]  # a repeated frame
    assert kinds(examined(tone[:150] + [quiet] + tone[151:])) == ["gap"]  # a frame lost, silence in its slot
    # A packet lost between the server and the receiver is a hole in the timestamps.
    decoded = opus_round_trip(tone)
    signal, holes = continuity.assemble(decoded[:100] + decoded[101:])
    assert holes == 1
    assert not continuity.examine(signal[4800:-4800], holes=holes).whole


def test_the_detector_refuses_what_it_cannot_judge() -> None:
    with pytest.raises(ValueError):
        continuity.examine(np.zeros(10 * continuity.BLOCK))
    with pytest.raises(ValueError):
        continuity.examine(np.ones(100))


# --- a minute through the mixer ------------------------------------------------


def heard_tone(peer: Peer) -> bool:
    return any(np.abs(heard.pcm).max() > 3000 for heard in peer.heard[-5:])


async def join(room: Room, seat: str, pc: RTCPeerConnection) -> None:
    await pc.setLocalDescription(await pc.createOffer())
    answer = await room.join(seat, pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))


def burn(cores: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)]


def stop(burners: list[subprocess.Popen[bytes]]) -> None:
    for burner in burners:
        burner.terminate()
    for burner in burners:
        burner.wait(10)


@pytest.mark.solo
@pytest.mark.timeout(240)
def test_a_minute_of_tone_through_the_mixer_arrives_whole_with_the_machine_loaded() -> None:
    async def scenario() -> tuple[list[tuple[int, Pcm]], dict[str, object], float]:
        room = Room("continuity", MediaState({"custody": R.DETAINEE, "courtroom": R.JUDGE}))
        await room.start()
        sender = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        sender.addTransceiver(ToneTrack(continuity.TONE_HZ), direction="sendonly")
        recorder = Peer("courtroom", listen=True)  # a receive-only seat
        burners: list[subprocess.Popen[bytes]] = []
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            await join(room, "custody", sender)
            await recorder.join(room)
            await wait_until_async(lambda: heard_tone(recorder), describe=lambda: "no tone reached the receiver")
            start = time.monotonic()
            await asyncio.sleep(LOADED[0] + SETTLE)
            burners = burn(os.cpu_count() or 1)
            await asyncio.sleep(LOADED[1] - LOADED[0])
            stop(burners)
            burners = []
            await asyncio.sleep(SECONDS - LOADED[1] + 0.1)
            print(f"sent for {time.monotonic() - start:.1f} s after the tone arrived")
            # The server's own account, before anyone leaves.
            playout = room.peers["custody"].sender.inbox.counts
            mixed = room.peers["courtroom"].receiver.audio
            assert isinstance(mixed, MixedAudioTrack)
            account = {"playout": playout, "mixed_dropped": mixed.dropped}
        finally:
            stop(burners)
            await sender.close()
            await recorder.close()
            await room.stop()
        burned = resource.getrusage(resource.RUSAGE_CHILDREN)
        return [(heard.pts, heard.pcm) for heard in recorder.heard], account, burned.ru_utime - used.ru_utime

    frames, account, burned = asyncio.run(scenario())
    signal, holes = continuity.assemble(frames)
    onset = int(np.flatnonzero(np.abs(signal) > 3000)[0])
    report = continuity.examine(signal[onset + int(SETTLE * SAMPLE_RATE) : -SAMPLE_RATE // 20], holes=holes)
    print(f"burners used {burned:.1f} s of CPU in {LOADED[1] - LOADED[0]:g} s; server: {account}")
    print(f"received: {report.seconds:.1f} s, tone at {report.level_dbfs} dBFS, phase within {report.phase_spread} deg")
    assert burned > 2.0, "the machine was not loaded"
    assert report.seconds >= SECONDS
    assert report.holes == 0, f"{report.holes} frames never reached the receiver"
    assert report.defects == (), "\n".join(describe(d) for d in report.defects)
    playout = account["playout"]
    assert playout.concealed == playout.late_dropped == playout.overflowed == 0, playout  # type: ignore[attr-defined]
    assert account["mixed_dropped"] == 0


def describe(defect: Defect) -> str:
    unit = "dB down" if defect.kind == "gap" else "degrees"
    return f"{defect.kind} at {defect.at:.2f} s ({defect.size} {unit})"

"""A sealed recording as one playable file: its segments decrypted (every
chunk's tag checked before its bytes are used) and joined into one MP4
(issue 14 § 6): the picture remuxed without re-encoding, the sound decoded
and encoded once more as one stream.

Each segment is a self-contained fragmented MP4 placed on the recording's
clock (its own start, from the manifest), so a pause is a gap in time, as
it was in the hearing; in the sound the gap is silence.

Why the sound is encoded again: each segment's Opus stream comes from its
own encoder, so its first packets are the encoder's priming (312 samples,
which only the first stream's header tells a player to skip) and its last
packet is padded past the segment's end. Joined packet for packet, every
seam clicked and every segment made the sound 20-40 ms longer than its
picture (measured: 74 ms over three seams), which a player that plays the
sound as it comes, as most do, turns into drift, seconds over a hearing.
Decoded segment by segment (each decoder skips its own priming) and cut to
the manifest's times, the sound is one continuous timeline, encoded by one
encoder. It costs about 0.3 ms a second of sound.

The plaintext stays in memory, one segment at a time; only the exported
file is written.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.audio.stream
import numpy as np

from hearing.media.mixer import FRAME_SAMPLES, SAMPLE_RATE, Pcm
from hearing.recording import crypto, manifest
from hearing.recording.recorder import AUDIO_CODEC, AUDIO_OPTIONS

# Above the recording's 64 kbps: the second encoding adds as little as it can.
EXPORT_AUDIO_BIT_RATE = 96_000


def export(
    folder: Path, sealed: manifest.Manifest, key: bytes, out: Path, *, segments: Sequence[int] | None = None
) -> None:
    """Write `out` (MP4) from the recording's segments in `folder`."""
    chosen = [s for s in sealed.segments if segments is None or s.number in segments]
    if not chosen:
        raise ValueError("the recording has no segments to export")
    tmp = out.with_name(out.name + ".partial")
    with av.open(str(tmp), "w", format="mp4") as output:
        picture = _Picture(output)
        sound = _Sound(output)
        for entry in chosen:
            plaintext = crypto.decrypt_segment(
                folder / crypto.segment_name(entry.number),
                key,
                hearing_id=sealed.hearing_id,
                recording_id=sealed.recording_id,
                segment=entry.number,
            )
            start = Fraction(entry.start_seconds).limit_denominator(1000)
            with av.open(io.BytesIO(plaintext), "r") as segment:
                sound.segment_begins(round(start * SAMPLE_RATE), round(entry.duration_seconds * SAMPLE_RATE))
                picture.segment_begins(start)
                for packet in segment.demux(*[s for s in segment.streams if s.type in ("video", "audio")]):
                    if packet.dts is None or packet.size == 0:
                        continue  # the demuxer's flush packets
                    if packet.stream.type == "video":
                        picture.add(packet)
                    else:
                        for frame in packet.decode():
                            assert isinstance(frame, av.AudioFrame)
                            sound.add(frame)
                sound.segment_ends()
        sound.finish()
    tmp.replace(out)


class _Picture:
    """The segments' video packets, as they are, on the recording's clock."""

    def __init__(self, output: Any) -> None:
        self.output = output
        self.stream: Any = None
        self.last_dts: int | None = None
        self.start = Fraction(0)
        self.first: int | None = None

    def segment_begins(self, start: Fraction) -> None:
        self.start, self.first = start, None

    def add(self, packet: Any) -> None:
        if self.stream is None:
            self.stream = self.output.add_stream_from_template(packet.stream)
        assert packet.dts is not None and packet.time_base is not None
        if self.first is None:
            self.first = packet.dts
        # The segment's own time from its first packet, then the recording's clock.
        offset = round(self.start / packet.time_base) - self.first
        packet.dts += offset
        packet.pts = packet.pts + offset if packet.pts is not None else packet.dts
        # A muxer wants the time to move forward, even across a segment's first frames.
        if self.last_dts is not None and packet.dts <= self.last_dts:
            shift = self.last_dts + 1 - packet.dts
            packet.dts += shift
            packet.pts += shift
        self.last_dts = packet.dts
        packet.stream = self.stream
        self.output.mux(packet)


class _Sound:
    """One continuous timeline of the segments' sound (silence between
    them), encoded in 20 ms frames by one encoder."""

    def __init__(self, output: Any) -> None:
        self.output = output
        stream = output.add_stream(AUDIO_CODEC, rate=SAMPLE_RATE, options=AUDIO_OPTIONS)
        assert isinstance(stream, av.audio.stream.AudioStream)
        stream.layout = "mono"
        stream.bit_rate = EXPORT_AUDIO_BIT_RATE
        self.stream = stream
        self.written = 0  # samples on the timeline so far (encoded or pending)
        self.pending: list[Pcm] = []
        self.pending_samples = 0
        self.frames = 0
        self.until = 0  # the end of the segment in hand, in samples

    def segment_begins(self, start: int, length: int) -> None:
        self._silence(start - self.written)
        self.until = start + length

    def add(self, frame: av.AudioFrame) -> None:
        samples = frame.to_ndarray()
        mono = samples.mean(axis=0) if samples.ndim == 2 and samples.shape[0] > 1 else samples.reshape(-1)
        if np.issubdtype(mono.dtype, np.floating):
            mono = np.clip(mono * 32767.0, -32768, 32767)
        pcm = mono.astype(np.int16)
        # The segment's last packet is padded past its end: cut at the manifest's.
        self._append(pcm[: max(0, self.until - self.written)])

    def segment_ends(self) -> None:
        self._silence(self.until - self.written)  # a segment that decoded short

    def finish(self) -> None:
        if self.pending_samples % FRAME_SAMPLES:
            self._silence(FRAME_SAMPLES - self.pending_samples % FRAME_SAMPLES)
        self._encode_whole_frames()
        for packet in self.stream.encode(None):
            self.output.mux(packet)

    def _silence(self, samples: int) -> None:
        if samples > 0:
            self._append(np.zeros(samples, np.int16))

    def _append(self, pcm: Pcm) -> None:
        if not pcm.size:
            return
        self.pending.append(pcm)
        self.pending_samples += pcm.size
        self.written += pcm.size
        if self.pending_samples >= FRAME_SAMPLES:
            self._encode_whole_frames()

    def _encode_whole_frames(self) -> None:
        joined = np.concatenate(self.pending) if self.pending else np.zeros(0, np.int16)
        whole = joined.size // FRAME_SAMPLES * FRAME_SAMPLES
        for start in range(0, whole, FRAME_SAMPLES):
            frame = av.AudioFrame.from_ndarray(
                joined[start : start + FRAME_SAMPLES].reshape(1, FRAME_SAMPLES), format="s16", layout="mono"
            )
            frame.sample_rate = SAMPLE_RATE
            frame.pts = self.frames * FRAME_SAMPLES
            frame.time_base = Fraction(1, SAMPLE_RATE)
            self.frames += 1
            for packet in self.stream.encode(frame):
                self.output.mux(packet)
        rest = joined[whole:]
        self.pending = [rest] if rest.size else []
        self.pending_samples = rest.size

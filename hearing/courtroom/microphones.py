"""The rig's microphone readers: the scripted synthetic voice, a file, an
ALSA or PulseAudio device, read through PyAV as int16 (samples, channels)
blocks at 48 kHz, one channel a seat.

`open_microphone` chooses the reader by the configured kind; a
`MicrophoneFeed` (hearing/courtroom/sources.py) calls it in its thread and
opens it again after a failure. Apart from the feeds so that the threads and
the failure rules know no device, and a device's quirks stay here.
"""

from __future__ import annotations

import time
from typing import Any

import av
import av.container
import numpy as np

from hearing.courtroom import config, synthetic
from hearing.courtroom.sources import NETWORK_OPEN_TIMEOUT, NETWORK_READ_TIMEOUT, AudioSource, Block, Pacer
from hearing.errors import InvalidInput
from hearing.media.mixer import FRAME_SAMPLES, SAMPLE_RATE


class ScriptSource:
    """The synthetic microphone: each mapped channel carries its seat's
    speech from the script, 20 ms at a time in real time. Script time 0 is
    `origin` (a time.monotonic() value), so every synthetic microphone and
    the test that wrote the script share one clock."""

    def __init__(self, script: synthetic.SpeechScript, channels: tuple[tuple[int, str], ...], origin: float) -> None:
        self.script = script
        self.channels = channels
        self.origin = origin
        self.width = max(channel for channel, _ in channels) + 1
        self._pacer = Pacer(FRAME_SAMPLES / SAMPLE_RATE)
        self._next: int | None = None  # the next sample's number on the script's clock

    def read(self) -> Block:
        if self._next is None:
            self._next = max(0, round((time.monotonic() - self.origin) * SAMPLE_RATE))
        self._pacer.wait()
        block = np.zeros((FRAME_SAMPLES, self.width), dtype=np.int16)
        t0 = self._next / SAMPLE_RATE
        for channel, seat in self.channels:
            block[:, channel] = self.script.samples(seat, t0, FRAME_SAMPLES)
        self._next += FRAME_SAMPLES
        return block

    def close(self) -> None:
        pass


def _packed(frame: av.AudioFrame) -> Block:
    samples = np.asarray(frame.to_ndarray(), dtype=np.int16)
    # s16 is packed: one row of interleaved samples.
    return samples.reshape(-1, frame.layout.nb_channels)


class AvMicrophone:
    """A file (looped, paced in real time) or an ALSA/PulseAudio device (it
    paces itself), resampled to 48 kHz s16 with its channels kept."""

    def __init__(self, target: str, format: str | None, channels: int = 2) -> None:
        self.target, self.format, self.channels = target, format, channels
        self._pacer = Pacer(1 / SAMPLE_RATE) if format is None else None
        # Opened here, not on the first read, so a missing device is "cannot open".
        container = self._open()
        self._container: av.container.InputContainer | None = container
        self._blocks = self._decode(container)

    def _open(self) -> av.container.InputContainer:
        if self.format is None:
            container = av.open(self.target)
        else:
            container = av.open(
                self.target,
                format=self.format,
                options={"channels": str(self.channels), "sample_rate": str(SAMPLE_RATE)},
                timeout=(NETWORK_OPEN_TIMEOUT, NETWORK_READ_TIMEOUT),
            )
        if not container.streams.audio:
            container.close()
            raise InvalidInput(f"{self.target} has no audio stream")
        return container

    def _decode(self, container: av.container.InputContainer) -> Any:
        while True:
            stream = container.streams.audio[0]
            # layout=None keeps the source's channels: one channel a seat.
            resampler = av.AudioResampler(format="s16", rate=SAMPLE_RATE)
            samples = 0
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    samples += out.samples
                    yield _packed(out)
            for out in resampler.resample(None):
                samples += out.samples
                yield _packed(out)
            container.close()
            self._container = None
            if self.format is not None:
                raise InvalidInput("the device stopped")
            if not samples:
                raise InvalidInput(f"{self.target} has no audio samples")
            container = self._open()
            self._container = container

    def read(self) -> Block:
        block: Block = next(self._blocks)
        if self._pacer is not None:
            self._pacer.wait(block.shape[0])
        return block

    def close(self) -> None:
        self._blocks.close()
        if self._container is not None:
            self._container.close()
            self._container = None


def open_microphone(
    microphone: config.Microphone, script: synthetic.SpeechScript | None = None, origin: float | None = None
) -> AudioSource:
    """Open one microphone; raises when it cannot be opened."""
    source = microphone.source
    if source.kind == "test":
        # No script: room tone on every seat.
        start = time.monotonic() if origin is None else origin
        return ScriptSource(script or synthetic.SpeechScript(()), microphone.channels, start)
    if source.kind == "file":
        return AvMicrophone(source.target, None)
    # A device gives what it is asked for (FFmpeg's default is two channels):
    # ask for every channel up to the highest the map uses.
    channels = max(channel for channel, _ in microphone.channels) + 1
    return AvMicrophone(source.target, source.kind, channels)

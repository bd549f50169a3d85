from __future__ import annotations

import asyncio
import fractions
from pathlib import Path

import av
import numpy as np
import pytest

from hearing.errors import InvalidInput
from hearing.media.sources import from_camera, from_file
from hearing.media.tracks import draw_counter, read_counter


def write_clip(path: Path, frames: int = 20) -> None:
    """A short WebM (VP8 + Opus) with a frame counter drawn in, made with PyAV."""
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("libvpx", rate=25)
        video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
        audio = container.add_stream("libopus", rate=48000)
        for i in range(frames):
            image = np.zeros((240, 320, 3), dtype=np.uint8)
            draw_counter(image, i)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = i
            frame.time_base = fractions.Fraction(1, 25)
            for packet in video.encode(frame):
                container.mux(packet)
        for i in range(frames * 2):
            samples = (np.sin(2 * np.pi * 440 * (np.arange(960) + i * 960) / 48000) * 8000).astype(np.int16)
            sound = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
            sound.sample_rate, sound.pts = 48000, i * 960
            for packet in audio.encode(sound):
                container.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                container.mux(packet)


def test_a_recorded_file_plays_as_a_participant(tmp_path: Path) -> None:
    clip = tmp_path / "rehearsal.webm"
    write_clip(clip)

    async def play() -> list[int]:
        source = from_file(clip, loop=False)
        assert source.audio is not None and source.video is not None and len(source.tracks) == 2
        counters = []
        for _ in range(5):
            frame = await source.video.recv()
            counters.append(read_counter(frame.to_ndarray(format="bgr24")))  # type: ignore[union-attr]
        for track in source.tracks:
            track.stop()
        return counters

    assert asyncio.run(play()) == [0, 1, 2, 3, 4]


def test_missing_or_broken_files_and_cameras_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="No media file"):
        from_file(tmp_path / "nothing.webm")
    junk = tmp_path / "junk.webm"
    junk.write_bytes(b"not a media file at all")
    with pytest.raises(InvalidInput, match="not a playable media file"):
        from_file(junk)
    with pytest.raises(InvalidInput, match="No camera"):
        from_camera("/dev/video-that-does-not-exist")

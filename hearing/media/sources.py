"""Media sources for the Python client: a recorded file or a camera.

Both read through FFmpeg (PyAV) in a worker thread, by aiortc's MediaPlayer;
the synthetic test sources live in hearing/media/tracks.py.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import av
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamTrack

from hearing.errors import InvalidInput


@dataclasses.dataclass
class Source:
    player: MediaPlayer
    audio: MediaStreamTrack | None
    video: MediaStreamTrack | None

    @property
    def tracks(self) -> list[MediaStreamTrack]:
        return [t for t in (self.audio, self.video) if t is not None]


def from_file(path: Path, *, loop: bool = True) -> Source:
    """Play a recorded file as if it were a participant (tests, rehearsals)."""
    if not path.is_file():
        raise InvalidInput(f"No media file at {path}.", field="file")
    try:
        player = MediaPlayer(str(path), loop=loop)
    except (av.FFmpegError, AssertionError) as exc:
        raise InvalidInput(f"{path} is not a playable media file ({type(exc).__name__}).", field="file") from exc
    return Source(player, player.audio, player.video)


def from_camera(device: str = "/dev/video0", *, size: str = "1280x720", fps: int = 25) -> Source:
    """A V4L2 camera (the courtroom rig's cameras, a custody endpoint's)."""
    if not Path(device).exists():
        raise InvalidInput(f"No camera at {device}.", field="camera")
    try:
        player = MediaPlayer(device, format="v4l2", options={"video_size": size, "framerate": str(fps)})
    except av.FFmpegError as exc:
        raise InvalidInput(f"The camera at {device} cannot be opened: {exc}", field="camera") from exc
    return Source(player, None, player.video)

"""The rig's camera readers: a file, a V4L2 device, an RTSP or HTTP camera
(each decoded by PyAV) and the synthetic test pattern, all read as BGR frames.

`open_camera` chooses the reader by the configured kind; a `CameraFeed`
(hearing/courtroom/sources.py) calls it in its thread and opens it again
after a failure. Apart from the feeds so that the threads and the failure
rules know no device, and a device's quirks stay here.
"""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Any

import av
import av.container
import numpy as np

from hearing.courtroom import config, synthetic
from hearing.courtroom.sources import NETWORK_OPEN_TIMEOUT, NETWORK_READ_TIMEOUT, FrameSource, Image, Pacer
from hearing.errors import InvalidInput


class PatternSource:
    """The synthetic camera: the seat's test pattern at `fps`."""

    def __init__(self, camera: config.Camera, width: int, height: int, fps: int) -> None:
        self.pattern = synthetic.TestPattern(camera.seat, camera.label.en, width, height)
        self._pacer = Pacer(1 / fps)
        self._n = 0

    def read(self) -> Image:
        self._pacer.wait()
        # The clock on the picture is the wall clock (UTC), as a courtroom clock would be.
        frame = self.pattern.frame(self._n, time.time())
        self._n += 1
        return frame

    def close(self) -> None:
        pass


def _rate(stream: Any) -> float:
    rate = stream.average_rate or stream.guessed_rate or Fraction(25)
    return float(min(max(float(rate), 1.0), 120.0))


def _bgr(frame: av.VideoFrame) -> Image:
    # asarray: the typing says any sample format; bgr24 is uint8 (no copy).
    return np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)


class FileCamera:
    """A video file, decoded with PyAV, looped, paced to its own frame rate."""

    def __init__(self, path: str) -> None:
        self.path = path
        # Opened here, not on the first read, so a missing file is "cannot open".
        container, stream = self._open()
        self._container: av.container.InputContainer | None = container
        self._pacer = Pacer(1 / _rate(stream))
        self._frames = self._decode(container, stream)

    def _open(self) -> tuple[av.container.InputContainer, Any]:
        container = av.open(self.path)
        if not container.streams.video:
            container.close()
            raise InvalidInput(f"{self.path} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return container, stream

    def _decode(self, container: av.container.InputContainer, stream: Any) -> Any:
        while True:
            frames = 0
            for frame in container.decode(stream):
                frames += 1
                yield frame
            container.close()
            self._container = None
            if not frames:
                raise InvalidInput(f"{self.path} has no video frames")
            # Reopen rather than seek: seeking to 0 is not reliable in every
            # container, and once per loop the cost does not matter.
            container, stream = self._open()
            self._container = container

    def read(self) -> Image:
        image = _bgr(next(self._frames))
        self._pacer.wait()
        return image

    def close(self) -> None:
        self._frames.close()
        if self._container is not None:
            self._container.close()
            self._container = None


class LiveCamera:
    """A device or a network camera: it paces itself; PyAV's read timeout
    turns a camera that stopped sending into an exception."""

    def __init__(self, container: av.container.InputContainer) -> None:
        self._container = container
        if not container.streams.video:
            container.close()
            raise InvalidInput("the source has no video stream")
        self._frames = container.decode(container.streams.video[0])

    def read(self) -> Image:
        try:
            return _bgr(next(self._frames))
        except StopIteration:
            # The camera ended its stream (an RTSP TEARDOWN, a device unplugged).
            raise EOFError("the stream ended") from None

    def close(self) -> None:
        self._container.close()


def network_options(kind: str) -> dict[str, str]:
    """Options for av.open of an RTSP or HTTP camera."""
    # Microseconds, as FFmpeg wants them: the socket gives up on a silent peer.
    timeout = str(int(NETWORK_READ_TIMEOUT * 1_000_000))
    if kind == "rtsp":
        # TCP: UDP loses packets through courthouse firewalls and NAT, and a lost
        # packet is a smeared keyframe.
        return {"rtsp_transport": "tcp", "timeout": timeout}
    return {"timeout": timeout, "reconnect": "0"}


def open_camera(source: config.CameraSource, camera: config.Camera, width: int, height: int, fps: int) -> FrameSource:
    """Open one camera; raises when it cannot be opened."""
    if source.kind == "test":
        return PatternSource(camera, width, height, fps)
    if source.kind == "file":
        return FileCamera(source.target)
    if source.kind == "v4l2":
        container = av.open(
            source.target,
            format="v4l2",
            options={"video_size": f"{width}x{height}", "framerate": str(fps)},
            timeout=(NETWORK_OPEN_TIMEOUT, NETWORK_READ_TIMEOUT),
        )
        return LiveCamera(container)
    container = av.open(
        source.target, options=network_options(source.kind), timeout=(NETWORK_OPEN_TIMEOUT, NETWORK_READ_TIMEOUT)
    )
    return LiveCamera(container)

"""The courtroom program: the rig's cameras composed into one picture.

Everything is drawn into one preallocated BGR canvas by slice assignment
(each source resized straight into its tile's view of the canvas) and
converted into one preallocated I420 buffer, so a composition allocates
nothing per frame apart from OpenCV's temporaries. No I/O, no aiortc: the
rig agent feeds it frames and encodes what it returns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from hearing.errors import ConfigurationError, InvalidInput

CameraId = str
Frame = npt.NDArray[np.uint8]
Layout = Literal["single", "speaker_strip", "grid"]
LAYOUTS: tuple[Layout, ...] = ("single", "speaker_strip", "grid")

MIN_SIDE = 160
MAX_SIDE = 3840
GRID_CAMERAS = 4
STRIP_THUMBNAILS = 4  # the strip is a quarter of the width per thumbnail
SLATE_TEXT = ("camera unavailable", "kamera utilgængelig")
SLATE_COLOUR = (48, 48, 48)
TEXT_COLOUR = 255
# How long a source that delivers nothing keeps its last frame on screen:
# a camera that skips a frame or two must not flash a slate, one that is gone
# must not freeze the courtroom on its last picture (2 s at 25 fps).
STALE_AFTER = 50
# OpenCV 5's own font renders "æøå" (the Hershey fonts print "?" instead).
FONT = cv2.FontFace("sans")


def label_of(da: str, en: str) -> str:
    """A label on a picture everyone sees (the program, the recording): the
    Danish, and the English where it differs."""
    return da if da == en else f"{da} · {en}"


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


@dataclasses.dataclass(frozen=True, slots=True)
class Tile:
    """A rectangle of the canvas: where one camera goes."""

    x: int
    y: int
    width: int
    height: int

    def __post_init__(self) -> None:
        if self.x < 0 or self.y < 0 or self.width < 2 or self.height < 2:
            raise InvalidInput(f"Tile {self}: off the canvas or too small", field="tile")

    def of(self, canvas: Frame) -> Frame:
        return canvas[self.y : self.y + self.height, self.x : self.x + self.width]

    def fit(self, width: int, height: int) -> Tile:
        """The largest rectangle of a source's aspect centred in this tile
        (letterboxed or pillarboxed; even sizes, as I420 wants)."""
        scale = min(self.width / width, self.height / height)
        fitted_width = min(self.width, _even(round(width * scale)))
        fitted_height = min(self.height, _even(round(height * scale)))
        return Tile(
            self.x + (self.width - fitted_width) // 2 // 2 * 2,
            self.y + (self.height - fitted_height) // 2 // 2 * 2,
            fitted_width,
            fitted_height,
        )


def tiles(layout: Layout, width: int, height: int, count: int) -> list[Tile]:
    """The tiles of a layout for `count` cameras, the main camera's first."""
    if layout == "single":
        return [Tile(0, 0, width, height)]
    if layout == "grid":
        if count > GRID_CAMERAS:
            raise InvalidInput(f"the grid has {GRID_CAMERAS} tiles, not {count}", field="frames")
        half_width, half_height = _even(width / 2), _even(height / 2)
        return [Tile(x, y, half_width, half_height) for y in (0, half_height) for x in (0, half_width)][:count]
    if layout == "speaker_strip":
        others = count - 1
        if others > STRIP_THUMBNAILS:
            raise InvalidInput(f"the strip has {STRIP_THUMBNAILS} thumbnails, not {others}", field="frames")
        thumb_width, thumb_height = _even(width / 4), _even(height / 4)
        start = (width - others * thumb_width) // 2 // 2 * 2
        strip = [Tile(start + i * thumb_width, height - thumb_height, thumb_width, thumb_height) for i in range(others)]
        return [Tile(0, 0, width, height - thumb_height), *strip]
    raise InvalidInput(f"unknown layout {layout!r}: one of {', '.join(LAYOUTS)}", field="layout")


def band_height(tile: Tile) -> int:
    # Readable on a 320x180 thumbnail, not a third of the full frame.
    return _even(min(48, max(18, tile.height // 10)))


class Compositor:
    """Composes the newest frame of each camera into the program, in I420.

    `compose` returns the same I420 buffer every time: the caller encodes it
    (or copies it) before the next call."""

    def __init__(self, width: int = 1280, height: int = 720, *, stale_after: int = STALE_AFTER) -> None:
        for name, side in (("width", width), ("height", height)):
            if isinstance(side, bool) or not isinstance(side, int):
                raise ConfigurationError(f"Compositor {name} must be an integer, not {side!r}")
            if side % 2 or not MIN_SIDE <= side <= MAX_SIDE:
                raise ConfigurationError(f"Compositor {name} {side}: must be even and within {MIN_SIDE}-{MAX_SIDE}")
        if stale_after < 1:
            raise ConfigurationError(f"Compositor stale_after {stale_after}: must be at least 1 composition")
        self.width = width
        self.height = height
        self.stale_after = stale_after
        self.canvas: Frame = np.zeros((height, width, 3), np.uint8)
        self.i420: Frame = np.zeros((height * 3 // 2, width), np.uint8)
        self.compositions = 0
        self._newest: dict[CameraId, tuple[Frame, int]] = {}  # frame, the composition it arrived before
        self._plan: tuple[object, ...] | None = None
        self._masks: dict[tuple[str, int, int], npt.NDArray[np.bool_]] = {}
        self._slates: dict[tuple[int, int], Frame] = {}

    def __repr__(self) -> str:
        return f"Compositor({self.width}x{self.height})"

    def update(self, camera_id: CameraId, frame: Frame | None) -> None:
        """A camera's newest frame (kept by reference: a source hands over a
        new array each time); None: the camera is gone, show its slate."""
        if frame is None:
            self._newest.pop(camera_id, None)
            return
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3 or min(frame.shape[:2]) < 2:
            raise InvalidInput(
                f"{self!r} camera {camera_id!r}: a frame is BGR uint8 (height, width, 3), "
                f"not {frame.dtype} {frame.shape}",
                field="frames",
            )
        self._newest[camera_id] = (frame, self.compositions)

    def current(self, camera_id: CameraId) -> Frame | None:
        """The frame a composition would show now, or None for the slate."""
        kept = self._newest.get(camera_id)
        if kept is None or self.compositions - kept[1] >= self.stale_after:
            return None
        return kept[0]

    def compose(
        self,
        layout: Layout,
        frames: Mapping[CameraId, Frame | None],
        main: CameraId | None = None,
        labels: Mapping[CameraId, str] | None = None,
    ) -> Frame:
        """The program: `frames` names the cameras shown, in order; a frame
        updates its camera, None keeps the camera's last frame (the slate if
        it has none, or none recent). `main` is the speaker (single, strip)."""
        if layout not in LAYOUTS:
            raise InvalidInput(f"unknown layout {layout!r}: one of {', '.join(LAYOUTS)}", field="layout")
        cameras = list(frames)
        if main is not None:
            if main not in frames:
                raise InvalidInput(f"{self!r}: the main camera {main!r} is not among {cameras}", field="main")
            cameras.remove(main)
            cameras.insert(0, main)
        for camera_id, frame in frames.items():
            if frame is not None:
                self.update(camera_id, frame)
        labels = labels or {}
        shown = cameras[:1] if layout == "single" else cameras
        placed = list(zip(shown, tiles(layout, self.width, self.height, len(shown)), strict=True)) if shown else []
        pictures = [self.current(camera_id) for camera_id, _ in placed]
        plan = (
            layout,
            tuple(
                (camera_id, None if picture is None else picture.shape[:2])
                for (camera_id, _), picture in zip(placed, pictures, strict=True)
            ),
            tuple(labels.get(camera_id, "") for camera_id, _ in placed),
        )
        if plan != self._plan:
            # Letterbox bars and empty places are black; they are cleared only
            # when what goes where changes (nothing else draws on them).
            self.canvas.fill(0)
            self._plan = plan
        for (camera_id, tile), picture in zip(placed, pictures, strict=True):
            if picture is None:
                tile.of(self.canvas)[...] = self._slate(tile)
            else:
                self._draw(picture, tile)
            if label := labels.get(camera_id, ""):
                self._label(label, tile)
        self.compositions += 1
        cv2.cvtColor(self.canvas, cv2.COLOR_BGR2YUV_I420, dst=self.i420)
        return self.i420

    def _draw(self, picture: Frame, tile: Tile) -> None:
        target = tile.fit(picture.shape[1], picture.shape[0])
        view = target.of(self.canvas)
        if picture.shape[:2] == view.shape[:2]:
            view[...] = picture
            return
        resized = cv2.resize(picture, (target.width, target.height), dst=view, interpolation=cv2.INTER_AREA)
        if not np.shares_memory(resized, self.canvas):  # OpenCV chose a buffer of its own after all
            view[...] = resized

    def _label(self, label: str, tile: Tile) -> None:
        height = band_height(tile)
        band = Tile(tile.x, tile.y + tile.height - height, tile.width, height).of(self.canvas)
        np.right_shift(band, 2, out=band)  # a quarter of the picture's brightness: dark, still seen through
        band[self._mask(label, tile.width, height)] = TEXT_COLOUR

    def _mask(self, text: str, width: int, height: int) -> npt.NDArray[np.bool_]:
        """Where a label's text is in its band (rendered once, then reused)."""
        key = (text, width, height)
        if (mask := self._masks.get(key)) is None:
            image = np.zeros((height, width), np.uint8)
            size = max(10, height * 2 // 3)
            cv2.putText(image, text, (height // 3, (height + size * 2 // 3) // 2), TEXT_COLOUR, FONT, size)
            mask = self._masks[key] = image > 127
        return mask

    def _slate(self, tile: Tile) -> Frame:
        key = (tile.width, tile.height)
        if (slate := self._slates.get(key)) is None:
            slate = np.empty((tile.height, tile.width, 3), np.uint8)
            slate[...] = SLATE_COLOUR
            size = max(10, min(tile.height // 8, tile.width // 14))
            for line, text in enumerate(SLATE_TEXT):
                width = cv2.getTextSize((tile.width, tile.height), text, (0, 0), FONT, size)[2]
                baseline = tile.height // 2 + (line * 2 - 1) * size * 3 // 4 + size // 3
                cv2.putText(slate, text, ((tile.width - width) // 2, baseline), (220, 220, 220), FONT, size)
            self._slates[key] = slate
        return slate

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hearing.courtroom.compositor import SLATE_COLOUR, Compositor, Frame, Layout, Tile, band_height
from hearing.errors import ConfigurationError, InvalidInput

RED, GREEN, BLUE, YELLOW = (0, 0, 200), (0, 200, 0), (200, 0, 0), (0, 200, 200)
LABELS = {"judge": "Dommer / Judge", "prosecutor": "Anklager / Prosecutor", "defence": "Forsvarer / Defence"}


def solid(colour: tuple[int, int, int], width: int = 1280, height: int = 720) -> Frame:
    frame = np.empty((height, width, 3), np.uint8)
    frame[...] = colour
    return frame


def bgr(i420: Frame) -> Frame:
    return cv2.cvtColor(i420, cv2.COLOR_YUV2BGR_I420)


def at(picture: Frame, x: int, y: int) -> tuple[int, ...]:
    return tuple(int(v) for v in picture[y, x])


def close(pixel: tuple[int, ...], colour: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


FOUR = {"judge": solid(RED), "prosecutor": solid(GREEN), "defence": solid(BLUE), "custody": solid(YELLOW)}


def test_single_shows_the_main_camera_full_frame() -> None:
    picture = bgr(Compositor().compose("single", FOUR, main="defence"))
    for x, y in ((640, 360), (5, 5), (1275, 600)):
        assert close(at(picture, x, y), BLUE), (x, y)


def test_single_letterboxes_to_keep_the_aspect() -> None:
    # 4:3 into 16:9: a 960-wide picture centred, black bars either side.
    picture = bgr(Compositor().compose("single", {"judge": solid(RED, 640, 480)}))
    assert close(at(picture, 640, 360), RED)
    assert close(at(picture, 100, 360), (0, 0, 0)) and close(at(picture, 1180, 360), (0, 0, 0))
    assert close(at(picture, 170, 360), RED) and close(at(picture, 1110, 360), RED)


def test_speaker_strip_puts_the_speaker_large_and_the_others_below() -> None:
    picture = bgr(Compositor().compose("speaker_strip", FOUR, main="prosecutor"))
    assert close(at(picture, 640, 270), GREEN)  # the speaker: 1280x540, its picture 960x540
    # The others in order below, 320x180 each, centred: 160-480, 480-800, 800-1120.
    assert [close(at(picture, x, 630), c) for x, c in ((320, RED), (640, BLUE), (960, YELLOW))] == [True] * 3
    assert close(at(picture, 60, 630), (0, 0, 0)) and close(at(picture, 1200, 630), (0, 0, 0))


def test_grid_puts_each_camera_in_its_quarter() -> None:
    picture = bgr(Compositor().compose("grid", FOUR))
    expected = {(320, 180): RED, (960, 180): GREEN, (320, 540): BLUE, (960, 540): YELLOW}
    for (x, y), colour in expected.items():
        assert close(at(picture, x, y), colour), ((x, y), at(picture, x, y))


def test_grid_puts_the_main_camera_first() -> None:
    picture = bgr(Compositor().compose("grid", FOUR, main="custody"))
    assert close(at(picture, 320, 180), YELLOW) and close(at(picture, 960, 180), RED)


@pytest.mark.parametrize("layout", ["single", "speaker_strip", "grid"])
def test_each_tile_has_its_label_on_a_dark_band(layout: Layout) -> None:
    frames = {name: solid((230, 230, 230)) for name in LABELS}
    compositor = Compositor()
    picture = bgr(compositor.compose(layout, frames, main="judge", labels=LABELS))
    unlabelled = bgr(Compositor().compose(layout, frames, main="judge"))
    width, height = compositor.width, compositor.height
    tile = Tile(0, 0, width, height) if layout == "single" else Tile(0, 0, width // 2, height // 2)
    if layout == "speaker_strip":
        tile = Tile(0, 0, width, height - height // 4)
    band = picture[tile.height - band_height(tile) : tile.height, tile.width // 3 : tile.width * 2 // 3]
    text = picture[tile.height - band_height(tile) : tile.height, : tile.width // 3]
    assert (band < 80).all(), "the band is dark where there is no text"
    assert (text > 200).any(), "the label's text is drawn, light on the band"
    assert close(at(picture, tile.width // 2, tile.height // 3), (230, 230, 230)), "the picture above it is untouched"
    assert (unlabelled[tile.height - 4, tile.width // 2] > 200).all(), "no label, no band"


def test_a_missing_camera_gets_the_slate() -> None:
    picture = bgr(Compositor().compose("grid", {"judge": solid(RED), "custody": None}, labels=LABELS))
    slate = picture[0:360, 640:1280]
    assert close(at(picture, 700, 40), SLATE_COLOUR), "the slate's ground"
    assert (slate > 180).any(), "its text"
    assert close(at(picture, 320, 180), RED)


def test_a_source_without_a_new_frame_keeps_its_last_then_turns_to_the_slate() -> None:
    compositor = Compositor(stale_after=3)
    compositor.update("judge", solid(RED))
    for _ in range(3):
        assert close(at(bgr(compositor.compose("single", {"judge": None})), 640, 360), RED)
    assert close(at(bgr(compositor.compose("single", {"judge": None})), 640, 100), SLATE_COLOUR)
    compositor.update("judge", solid(GREEN))
    assert close(at(bgr(compositor.compose("single", {"judge": None})), 640, 360), GREEN)
    compositor.update("judge", None)  # the camera is gone
    assert close(at(bgr(compositor.compose("single", {"judge": None})), 640, 100), SLATE_COLOUR)


def test_the_newest_frame_given_to_compose_wins() -> None:
    compositor = Compositor()
    compositor.update("judge", solid(RED))
    assert close(at(bgr(compositor.compose("single", {"judge": solid(BLUE)})), 640, 360), BLUE)


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (640, 360), (160, 160), (1920, 1080)])
def test_the_output_is_i420_of_the_canvas_size(width: int, height: int) -> None:
    out = Compositor(width, height).compose("speaker_strip", FOUR, labels=LABELS)
    assert out.shape == (height * 3 // 2, width) and out.dtype == np.uint8


def test_nothing_is_reallocated_between_compositions() -> None:
    compositor = Compositor()
    canvas = compositor.canvas
    first = compositor.compose("grid", FOUR, labels=LABELS)
    for layout in ("single", "speaker_strip", "grid"):
        again = compositor.compose(layout, {"judge": solid(RED, 640, 360), "custody": None}, labels=LABELS)
        assert again is first and compositor.canvas is canvas
    assert close(at(bgr(again), 320, 180), RED), "the buffer holds the newest composition"


@pytest.mark.parametrize(
    ("width", "height"), [(1281, 720), (1280, 721), (158, 720), (3842, 720), (1280, 100), (1280, 4000)]
)
def test_bad_sizes_are_refused(width: int, height: int) -> None:
    with pytest.raises(ConfigurationError):
        Compositor(width, height)


def test_bad_calls_are_refused() -> None:
    compositor = Compositor()
    with pytest.raises(InvalidInput, match="layout"):
        compositor.compose("mosaic", FOUR)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="main camera"):
        compositor.compose("single", FOUR, main="clerk")
    with pytest.raises(InvalidInput, match="grid has 4"):
        compositor.compose("grid", {**FOUR, "clerk": solid(RED)})
    with pytest.raises(InvalidInput, match="BGR uint8"):
        compositor.update("judge", np.zeros((720, 1280), np.uint8))
    with pytest.raises(InvalidInput, match="BGR uint8"):
        compositor.update("judge", np.zeros((720, 1280, 3), np.float32))  # type: ignore[arg-type]

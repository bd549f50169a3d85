"""Synthetic courtroom sources for the demo and the tests: a test pattern
per seat whose frame number and seat can be read back from the program,
the "camera unavailable" slate, and per-seat speech-like audio following
a script. Pure: numpy and OpenCV only, no aiortc, no I/O.

(hearing/media/tracks.py has the media client's aiortc test tracks; its
`draw_counter` carries no seat and no check, so a frame without a code
reads as some number. The code here carries both, and a checksum.)
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from collections.abc import Iterable

import cv2
import numpy as np
import numpy.typing as npt

from hearing.courtroom.compositor import Layout, tiles
from hearing.courtroom.config import SEATS
from hearing.errors import InvalidInput
from hearing.media.mixer import FULL_SCALE, SAMPLE_RATE, Pcm

Image = npt.NDArray[np.uint8]

# The code: two rows of blocks along the bottom of the picture. Blocks are
# 1/20 of the width and 1/16 of the height, so at 640x360 each is 32x22
# pixels: big enough to survive scaling, blur and VP8's quantiser.
SYNC = (1, 0, 1, 1, 0, 0)  # a fixed start, so a picture without a code is rarely taken for one
SEAT_BITS = 4
COUNTER_BITS = 22  # 46 hours at 25 fps
CHECK_BITS = 8
CODE_COLUMNS = 20
CODE_ROWS = 2
CODE_BLOCKS = len(SYNC) + SEAT_BITS + COUNTER_BITS + CHECK_BITS
assert CODE_BLOCKS == CODE_COLUMNS * CODE_ROWS
CODE_ROW_FRACTION = 1 / 16
# The code stands this far above the bottom edge: the program's role label
# (a band of at most a tenth of a tile, hearing/courtroom/compositor.py)
# darkens the bottom of a picture, and must not hide the code.
CODE_MARGIN_FRACTION = 1 / 8
# Light and dark must differ by this much on the 0-255 scale, or it is no code.
MIN_CONTRAST = 60.0

FONT = cv2.FONT_HERSHEY_SIMPLEX


def seat_index(seat: str) -> int:
    """The number a seat's pattern carries: its place in SEATS, or for a
    court's own seat a number from its name (stable, not unique)."""
    if seat in SEATS:
        return SEATS.index(seat)
    return len(SEATS) + zlib.crc32(seat.encode()) % ((1 << SEAT_BITS) - len(SEATS))


def _check(seat: int, counter: int) -> int:
    return zlib.crc32((seat << COUNTER_BITS | counter).to_bytes(4, "big")) & ((1 << CHECK_BITS) - 1)


def _bits(seat: int, counter: int) -> list[int]:
    value = (seat << COUNTER_BITS | counter) << CHECK_BITS | _check(seat, counter)
    payload = SEAT_BITS + COUNTER_BITS + CHECK_BITS
    return list(SYNC) + [value >> (payload - 1 - i) & 1 for i in range(payload)]


def _block(width: int, height: int, index: int) -> tuple[int, int, int, int]:
    """Block `index`'s rectangle (x0, y0, x1, y1) in a width x height picture."""
    row, column = divmod(index, CODE_COLUMNS)
    top = height - round((CODE_ROWS * CODE_ROW_FRACTION + CODE_MARGIN_FRACTION) * height)
    return (
        column * width // CODE_COLUMNS,
        top + round(row * CODE_ROW_FRACTION * height),
        (column + 1) * width // CODE_COLUMNS,
        top + round((row + 1) * CODE_ROW_FRACTION * height),
    )


def draw_code(image: Image, seat: int, counter: int) -> None:
    if not 0 <= seat < 1 << SEAT_BITS:
        raise InvalidInput(f"seat index {seat} is not 0-{(1 << SEAT_BITS) - 1}")
    height, width = image.shape[:2]
    for index, bit in enumerate(_bits(seat, counter % (1 << COUNTER_BITS))):
        x0, y0, x1, y1 = _block(width, height, index)
        image[y0:y1, x0:x1] = 255 if bit else 0


def read_back(frame: Image) -> tuple[int, int] | None:
    """(seat index, counter) from a test pattern's picture, scaled to any
    size and lossy coded; None when the picture carries no valid code.
    Give it the pattern's own rectangle (the tile, not the whole program)."""
    height, width = frame.shape[:2]
    if width < CODE_COLUMNS * 4 or height < 32:
        return None
    grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    levels = []
    for index in range(CODE_BLOCKS):
        x0, y0, x1, y1 = _block(width, height, index)
        # The middle half only: the edges blur into the neighbours.
        dx, dy = (x1 - x0) // 4, (y1 - y0) // 4
        levels.append(float(grey[y0 + dy : y1 - dy, x0 + dx : x1 - dx].mean()))
    light = [v for v, bit in zip(levels, SYNC, strict=False) if bit]
    dark = [v for v, bit in zip(levels, SYNC, strict=False) if not bit]
    if min(light) - max(dark) < MIN_CONTRAST:
        return None
    threshold = (min(light) + max(dark)) / 2
    bits = [1 if v > threshold else 0 for v in levels]
    if tuple(bits[: len(SYNC)]) != SYNC:
        return None
    value = 0
    for bit in bits[len(SYNC) :]:
        value = value << 1 | bit
    check = value & ((1 << CHECK_BITS) - 1)
    value >>= CHECK_BITS
    seat, counter = value >> COUNTER_BITS, value & ((1 << COUNTER_BITS) - 1)
    return (seat, counter) if _check(seat, counter) == check else None


def seat_shown(program: Image, layout: Layout = "speaker_strip", cameras: int = 5) -> str | None:
    """Which seat's test pattern fills the main tile of a program picture
    (composed of `cameras` 16:9 patterns in `layout`), as a receiver reads it
    back; None when no code reads (a slate, a picture in between)."""
    height, width = program.shape[:2]
    tile = tiles(layout, width, height, 1 if layout == "single" else cameras)[0].fit(width, height)
    code = read_back(np.ascontiguousarray(tile.of(program)))
    if code is None or code[0] >= len(SEATS):
        return None
    return SEATS[code[0]]


def put_text(image: Image, text: str, origin: tuple[int, int], scale: float, colour: tuple[int, int, int]) -> None:
    # OpenCV 5's built-in fonts draw UTF-8 (æ, ø, å) themselves.
    cv2.putText(image, text, origin, FONT, scale, colour, max(1, round(scale * 2)), cv2.LINE_AA)


def _clock(t: float) -> str:
    centis = int(round(t * 100)) % (24 * 3600 * 100)
    seconds, cs = divmod(centis, 100)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{cs:02d}"


class TestPattern:
    """One seat's synthetic camera: the seat's colour, its label, a clock,
    a ball that moves, and the frame counter and seat as text and as code."""

    __test__ = False  # a source, not a pytest class

    def __init__(self, seat: str, label: str, width: int = 1280, height: int = 720, index: int | None = None) -> None:
        if width < 160 or height < 90 or width % 2 or height % 2:
            raise InvalidInput(f"a test pattern is at least 160x90 and even, got {width}x{height}")
        self.seat, self.label, self.width, self.height = seat, label, width, height
        self.index = seat_index(seat) if index is None else index
        if not 0 <= self.index < 1 << SEAT_BITS:
            raise InvalidInput(f"seat index {self.index} is not 0-{(1 << SEAT_BITS) - 1}")
        # Drawn once; each frame copies it and draws what changes.
        hue = self.index * 180 // 8 % 180
        gradient = np.linspace(60, 200, width, dtype=np.float32)
        hsv = np.empty((height, width, 3), dtype=np.uint8)
        hsv[..., 0] = hue
        hsv[..., 1] = 140
        hsv[..., 2] = gradient.astype(np.uint8)[None, :]
        background = np.asarray(cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR), dtype=np.uint8)
        self._scale = height / 720
        put_text(background, label, (int(40 * self._scale), int(110 * self._scale)), 2.4 * self._scale, (255, 255, 255))
        put_text(background, seat, (int(40 * self._scale), int(170 * self._scale)), 1.2 * self._scale, (230, 230, 230))
        self._background = background

    def frame(self, n: int, t: float) -> Image:
        image = self._background.copy()
        s = self._scale
        # The ball crosses the picture in 4 s at 25 fps, above the code rows.
        span = self.width - int(80 * s)
        phase = n % 200 / 100
        x = int(40 * s + span * (phase if phase <= 1 else 2 - phase))
        cv2.circle(image, (x, int(self.height * 0.6)), int(36 * s), (20, 20, 20), -1, cv2.LINE_AA)
        put_text(image, _clock(t), (int(40 * s), int(260 * s)), 1.6 * s, (255, 255, 255))
        put_text(image, f"#{n}", (int(40 * s), int(330 * s)), 1.2 * s, (255, 255, 255))
        draw_code(image, self.index, n)
        return image


def slate(width: int, height: int, label: str = "") -> Image:
    """What a camera that failed shows: dark, "camera unavailable" in Danish
    and English, and whose camera it was. It carries no code (read_back is None)."""
    image = np.full((height, width, 3), 40, dtype=np.uint8)
    s = height / 720
    put_text(image, "Kamera utilgængeligt", (int(60 * s), int(300 * s)), 2.0 * s, (255, 255, 255))
    put_text(image, "Camera unavailable", (int(60 * s), int(390 * s)), 1.6 * s, (200, 200, 200))
    if label:
        put_text(image, label, (int(60 * s), int(480 * s)), 1.2 * s, (200, 200, 200))
    return image


# -- audio -----------------------------------------------------------------------

SPEECH_PEAK = 0.4  # of full scale, at the top of a syllable
ROOM_TONE_DBFS = -72.0
SYLLABLE_HZ = 4.0
FADE_SECONDS = 0.01


@dataclasses.dataclass(frozen=True)
class Turn:
    seat: str
    start: float
    end: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start) and math.isfinite(self.end)) or not 0 <= self.start < self.end:
            raise InvalidInput(f"a turn runs from a start >= 0 to a later end, got {self.start}-{self.end}")


def _noise(index: npt.NDArray[np.int64], seed: int) -> npt.NDArray[np.float64]:
    """Uniform noise in [-1, 1) as a function of the sample's number: the
    same sample is the same however the signal is cut into frames."""
    x = index.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(seed)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    result: npt.NDArray[np.float64] = (x >> np.uint64(11)).astype(np.float64) / float(1 << 52) - 1.0
    return result


class SpeechScript:
    """Who speaks when: each seat's microphone carries syllable-like bursts
    (a voice-like harmonic tone with a little noise, its loudness rising and
    falling about four times a second) during its turns and room tone
    (about -72 dBFS) otherwise. Deterministic: a function of the seat, the
    seed and the sample's time, however it is cut into frames."""

    def __init__(self, turns: Iterable[tuple[str, float, float]], seed: int = 13) -> None:
        self.turns = tuple(Turn(seat, float(start), float(end)) for seat, start, end in turns)
        self.seed = seed

    def speakers(self, t: float) -> frozenset[str]:
        return frozenset(turn.seat for turn in self.turns if turn.start <= t < turn.end)

    def samples(self, seat: str, t0: float, n: int, rate: int = SAMPLE_RATE) -> Pcm:
        if n < 0 or rate <= 0:
            raise InvalidInput(f"n >= 0 and rate > 0, got {n} at {rate}")
        first = round(t0 * rate)
        index = np.arange(first, first + n, dtype=np.int64)
        t = index / rate
        key = zlib.crc32(seat.encode()) ^ self.seed
        gate = np.zeros(n, dtype=np.float64)
        for turn in self.turns:
            if turn.seat == seat:
                # Short fades: a hard edge would click.
                rise = np.clip((t - turn.start) / FADE_SECONDS, 0, 1)
                fall = np.clip((turn.end - t) / FADE_SECONDS, 0, 1)
                gate = np.maximum(gate, np.minimum(rise, fall))
        room = _noise(index, key) * (10 ** (ROOM_TONE_DBFS / 20) * math.sqrt(3))
        signal = room
        if gate.any():
            # Each seat its own pitch (a voice from about 100 to 220 Hz), wandering slowly.
            f0 = 100 + key % 120
            phase = 2 * math.pi * (f0 * t + 3 * np.sin(2 * math.pi * 0.3 * t) / (2 * math.pi * 0.3))
            voice = sum(np.sin(k * phase) / k for k in range(1, 6)) / 1.6
            syllables = 0.3 + 0.7 * np.sin(math.pi * SYLLABLE_HZ * t + key % 7) ** 2
            voiced = (voice + 0.15 * _noise(index, key + 1)) * syllables * SPEECH_PEAK
            signal = room + gate * voiced
        pcm: Pcm = np.clip(np.round(signal * FULL_SCALE), -FULL_SCALE, FULL_SCALE - 1).astype(np.int16)
        return pcm

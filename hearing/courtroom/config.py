"""The rig's configuration: one TOML file, read once at start-up.

Every mistake is a ConfigurationError that names the table, the key and,
where the file has one, the line: the rig exits non-zero on it (systemd
shows the message), so the message is all an operator has. Pure: the only
I/O is `load_rig` reading the file.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from hearing.errors import ConfigurationError

# The seats the switcher and the compositor know by name; a court may add
# its own (e.g. "lay_judges"), any short lowercase word.
SEATS = ("judge", "prosecutor", "defence", "witness", "overview")
LAYOUTS = ("single", "speaker_strip", "grid")
# A rig file is a page of text; anything larger is the wrong file.
MAX_CONFIG_BYTES = 64 * 1024
MIN_WIDTH, MAX_WIDTH = 160, 3840
MIN_HEIGHT, MAX_HEIGHT = 90, 2160
MIN_FPS, MAX_FPS = 1, 60
MAX_CHANNELS = 64
MAX_LABEL = 40

_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_CHANNEL = re.compile(r"[0-9]{1,3}")

CameraKind = Literal["v4l2", "rtsp", "http", "file", "test"]
MicrophoneKind = Literal["alsa", "pulse", "file", "test"]


def _name(value: str, what: str) -> None:
    if not _NAME.fullmatch(value):
        raise ConfigurationError(f"{what}: {value!r} is not a short lowercase name (a-z, 0-9, _ and -)")


@dataclasses.dataclass(frozen=True)
class Label:
    """A role label as the screens show it, in Danish and in English."""

    da: str
    en: str

    def __post_init__(self) -> None:
        for language, text in (("da", self.da), ("en", self.en)):
            if not text.strip() or len(text) > MAX_LABEL:
                raise ConfigurationError(f"label.{language}: 1-{MAX_LABEL} characters, got {text!r}")


@dataclasses.dataclass(frozen=True)
class CameraSource:
    kind: CameraKind
    # The device path, URL or file; empty for the synthetic pattern.
    target: str

    def __post_init__(self) -> None:
        if self.kind == "v4l2" and not self.target.startswith("/dev/"):
            raise ConfigurationError(f"source: a V4L2 device is a path under /dev/, got {self.target!r}")
        if self.kind in ("rtsp", "http"):
            parts = urlsplit(self.target)
            if not parts.hostname:
                raise ConfigurationError(f"source: {self.target!r} has no host")
        if self.kind == "file" and not self.target:
            raise ConfigurationError("source: file: needs a path, e.g. file:clips/judge.mp4")
        if self.kind == "test" and self.target:
            raise ConfigurationError(f"source: the synthetic source is just test:, got test:{self.target}")

    @classmethod
    def parse(cls, text: str) -> CameraSource:
        scheme, sep, rest = text.partition(":")
        if not sep:
            raise ConfigurationError(f"source: {text!r} is not one of v4l2:, rtsp://, http(s)://, file: or test:")
        if scheme == "v4l2":
            return cls("v4l2", rest)
        if scheme == "rtsp" and rest.startswith("//"):
            return cls("rtsp", text)
        if scheme in ("http", "https") and rest.startswith("//"):
            return cls("http", text)
        if scheme == "file":
            return cls("file", rest)
        if scheme == "test":
            return cls("test", rest)
        raise ConfigurationError(f"source: {text!r} is not one of v4l2:, rtsp://, http(s)://, file: or test:")


@dataclasses.dataclass(frozen=True)
class MicrophoneSource:
    kind: MicrophoneKind
    target: str

    def __post_init__(self) -> None:
        if self.kind in ("alsa", "pulse", "file") and not self.target:
            raise ConfigurationError(f"source: {self.kind}: needs a device or a path")
        if self.kind == "test" and self.target:
            raise ConfigurationError(f"source: the synthetic source is just test:, got test:{self.target}")

    @classmethod
    def parse(cls, text: str) -> MicrophoneSource:
        scheme, sep, rest = text.partition(":")
        if sep and scheme in ("alsa", "pulse", "file", "test"):
            kind: MicrophoneKind = scheme  # type: ignore[assignment]
            return cls(kind, rest)
        raise ConfigurationError(f"source: {text!r} is not one of alsa:, pulse:, file: or test:")


@dataclasses.dataclass(frozen=True)
class Camera:
    id: str
    seat: str
    label: Label
    source: CameraSource
    # Where it stands in the room, for people (e.g. "above the bench").
    position: str = ""

    def __post_init__(self) -> None:
        _name(self.id, "id")
        _name(self.seat, "seat")
        if len(self.position) > 80:
            raise ConfigurationError("position: at most 80 characters")


@dataclasses.dataclass(frozen=True)
class Microphone:
    id: str
    source: MicrophoneSource
    # (channel, seat), in channel order: one channel of the device per seat.
    channels: tuple[tuple[int, str], ...]

    def __post_init__(self) -> None:
        _name(self.id, "id")
        if not self.channels:
            raise ConfigurationError("channels: map at least one channel to a seat")
        seen: dict[int, str] = {}
        for channel, seat in self.channels:
            if not 0 <= channel < MAX_CHANNELS:
                raise ConfigurationError(f"channels: channel {channel} is not 0-{MAX_CHANNELS - 1}")
            if channel in seen:
                raise ConfigurationError(f"channels: channel {channel} is mapped twice ({seen[channel]} and {seat})")
            _name(seat, f"channels.{channel}")
            seen[channel] = seat


@dataclasses.dataclass(frozen=True)
class RigSettings:
    server_url: str
    token_file: Path
    bench_camera: str
    width: int = 1280
    height: int = 720
    fps: int = 25
    layout: str = "speaker_strip"

    def __post_init__(self) -> None:
        parts = urlsplit(self.server_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(f"server_url: an http(s) URL with a host, got {self.server_url!r}")
        if not str(self.token_file) or str(self.token_file) == ".":
            raise ConfigurationError("token_file: the path of the device token file")
        # Even sizes: I420 halves both dimensions for the chroma planes.
        for key, value, low, high in (
            ("width", self.width, MIN_WIDTH, MAX_WIDTH),
            ("height", self.height, MIN_HEIGHT, MAX_HEIGHT),
        ):
            if not low <= value <= high or value % 2:
                raise ConfigurationError(f"{key}: an even number of pixels from {low} to {high}, got {value}")
        if not MIN_FPS <= self.fps <= MAX_FPS:
            raise ConfigurationError(f"fps: {MIN_FPS}-{MAX_FPS}, got {self.fps}")
        if self.layout not in LAYOUTS:
            raise ConfigurationError(f"layout: one of {', '.join(LAYOUTS)}, got {self.layout!r}")


@dataclasses.dataclass(frozen=True)
class RigConfig:
    rig: RigSettings
    cameras: tuple[Camera, ...]
    microphones: tuple[Microphone, ...]

    def __post_init__(self) -> None:
        if not self.cameras:
            raise ConfigurationError("[[camera]]: the rig needs at least one camera")
        ids: set[str] = set()
        seats: set[str] = set()
        for camera in self.cameras:
            if camera.id in ids:
                raise ConfigurationError(f"[[camera]] id {camera.id!r}: two cameras have this id")
            # One camera a seat: the switcher picks the camera by the seat that speaks.
            if camera.seat in seats:
                raise ConfigurationError(f"[[camera]] id {camera.id!r}: seat {camera.seat!r} already has a camera")
            ids.add(camera.id)
            seats.add(camera.seat)
        if self.rig.bench_camera not in ids:
            raise ConfigurationError(f"[rig] bench_camera: no camera has the id {self.rig.bench_camera!r}")
        mic_ids: set[str] = set()
        heard: dict[str, str] = {}
        for mic in self.microphones:
            if mic.id in mic_ids or mic.id in ids:
                raise ConfigurationError(f"[[microphone]] id {mic.id!r}: the id is taken")
            mic_ids.add(mic.id)
            for channel, seat in mic.channels:
                if seat not in seats:
                    raise ConfigurationError(
                        f"[[microphone]] id {mic.id!r}: channels.{channel}: no camera has the seat {seat!r}"
                    )
                # A seat on two channels would give the switcher two levels for one voice.
                if seat in heard:
                    raise ConfigurationError(
                        f"[[microphone]] id {mic.id!r}: channels.{channel}: "
                        f"seat {seat!r} is already heard on {heard[seat]}"
                    )
                heard[seat] = f"{mic.id} channel {channel}"

    def camera(self, camera_id: str) -> Camera:
        for camera in self.cameras:
            if camera.id == camera_id:
                return camera
        raise KeyError(camera_id)

    def seat_camera(self, seat: str) -> Camera | None:
        return next((c for c in self.cameras if c.seat == seat), None)


# -- reading the file ------------------------------------------------------------


class _Lines:
    """Line numbers of the file's tables and keys, for messages: tomllib
    gives values without positions."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def _headers(self, name: str, array: bool) -> list[int]:
        pattern = re.compile(rf"\s*\[\[\s*{name}\s*\]\]" if array else rf"\s*\[\s*{name}\s*\]")
        return [i for i, line in enumerate(self.lines) if pattern.match(line)]

    def where(self, table: str, index: int | None, key: str | None) -> str:
        headers = self._headers(table, index is not None)
        position = 0 if index is None else index
        if position >= len(headers):
            return ""
        start = headers[position]
        if key is None:
            return f" (line {start + 1})"
        key_line = re.compile(rf"\s*{re.escape(key)}\s*[=.]")
        for i in range(start + 1, len(self.lines)):
            if self.lines[i].lstrip().startswith("["):
                break
            if key_line.match(self.lines[i]):
                return f" (line {i + 1})"
        return f" (table at line {start + 1})"


_RIG_KEYS = {"server_url", "token_file", "bench_camera", "width", "height", "fps", "layout"}
_CAMERA_KEYS = {"id", "seat", "label", "position", "source"}
_MICROPHONE_KEYS = {"id", "source", "channels"}


class _Table:
    """One table of the document, read key by key with type checks."""

    def __init__(self, data: Any, name: str, index: int | None, lines: _Lines) -> None:
        self.name = name
        self.index = index
        self.lines = lines
        if not isinstance(data, dict):
            raise self.error(None, f"must be a table, got {type(data).__name__}")
        self.data: dict[str, Any] = data

    def title(self) -> str:
        if self.index is None:
            return f"[{self.name}]"
        ident = self.data.get("id") if isinstance(getattr(self, "data", None), dict) else None
        named = f" id {ident!r}" if isinstance(ident, str) else ""
        return f"[[{self.name}]] number {self.index + 1}{named}"

    def error(self, key: str | None, message: str) -> ConfigurationError:
        where = self.lines.where(self.name, self.index, key)
        prefix = f"{self.title()} {key}" if key else self.title()
        return ConfigurationError(f"{prefix}{where}: {message}")

    def only(self, allowed: set[str]) -> None:
        for key in self.data:
            if key not in allowed:
                raise self.error(key, f"unknown key (known: {', '.join(sorted(allowed))})")

    def get(self, key: str, kind: type, default: Any = None, required: bool = True) -> Any:
        if key not in self.data:
            if required:
                raise self.error(None, f"missing key {key!r}")
            return default
        value = self.data[key]
        # bool is an int in Python; `fps = true` is still a mistake.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.error(key, f"must be {_kind_name(kind)}, got {_toml_type(value)}")
        return value

    def build(self, key: str | None, make: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a dataclass's validation, with this table's place in the message."""
        try:
            return make(*args, **kwargs)
        except ConfigurationError as exc:
            raise self.error(key, exc.message) from exc


def _kind_name(kind: type) -> str:
    return {str: "a string", int: "a whole number", dict: "a table", list: "an array"}.get(kind, kind.__name__)


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return "a date or time"


def _rig(document: Mapping[str, Any], lines: _Lines, base: Path | None) -> RigSettings:
    if "rig" not in document:
        raise ConfigurationError("missing table [rig]")
    table = _Table(document["rig"], "rig", None, lines)
    table.only(_RIG_KEYS)
    token = Path(table.get("token_file", str))
    if base is not None and not token.is_absolute():
        # Relative to the configuration file, not to wherever systemd started us.
        token = base / token
    settings: RigSettings = table.build(
        None,
        RigSettings,
        server_url=table.get("server_url", str),
        token_file=token,
        bench_camera=table.get("bench_camera", str),
        width=table.get("width", int, 1280, required=False),
        height=table.get("height", int, 720, required=False),
        fps=table.get("fps", int, 25, required=False),
        layout=table.get("layout", str, "speaker_strip", required=False),
    )
    return settings


def _array(document: Mapping[str, Any], name: str) -> list[Any]:
    value = document.get(name, [])
    if not isinstance(value, list):
        raise ConfigurationError(f"{name}: write each as a [[{name}]] table")
    return value


def _camera(data: Any, index: int, lines: _Lines) -> Camera:
    table = _Table(data, "camera", index, lines)
    table.only(_CAMERA_KEYS)
    label_data: dict[str, Any] = table.get("label", dict)
    for key in label_data:
        if key not in ("da", "en"):
            raise table.error("label", f"unknown language {key!r} (a label has da and en)")
    for language in ("da", "en"):
        if not isinstance(label_data.get(language), str):
            raise table.error("label", f'needs {language} = "..." (a label has da and en)')
    camera: Camera = table.build(
        None,
        Camera,
        id=table.get("id", str),
        seat=table.get("seat", str),
        label=table.build("label", Label, label_data["da"], label_data["en"]),
        source=table.build("source", CameraSource.parse, table.get("source", str)),
        position=table.get("position", str, "", required=False),
    )
    return camera


def _microphone(data: Any, index: int, lines: _Lines) -> Microphone:
    table = _Table(data, "microphone", index, lines)
    table.only(_MICROPHONE_KEYS)
    raw: dict[str, Any] = table.get("channels", dict)
    channels: dict[int, str] = {}
    for key, seat in raw.items():
        if not _CHANNEL.fullmatch(key):
            raise table.error("channels", f'{key!r} is not a channel number (write 0 = "judge")')
        if not isinstance(seat, str):
            raise table.error("channels", f"channel {key} must name a seat, got {_toml_type(seat)}")
        # "1" and "01" are different TOML keys but the same channel.
        if int(key) in channels:
            raise table.error("channels", f"channel {int(key)} is mapped twice ({channels[int(key)]} and {seat})")
        channels[int(key)] = seat
    microphone: Microphone = table.build(
        None,
        Microphone,
        id=table.get("id", str),
        source=table.build("source", MicrophoneSource.parse, table.get("source", str)),
        channels=tuple(sorted(channels.items())),
    )
    return microphone


def loads_rig(text: str, base: Path | None = None) -> RigConfig:
    """The configuration in `text`; relative paths are taken from `base`."""
    if len(text.encode("utf-8")) > MAX_CONFIG_BYTES:
        raise ConfigurationError(f"the rig configuration is larger than {MAX_CONFIG_BYTES // 1024} KiB")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message names the line and column (and catches duplicate keys).
        raise ConfigurationError(f"not valid TOML: {exc}") from exc
    lines = _Lines(text)
    for key in document:
        if key not in ("rig", "camera", "microphone"):
            raise ConfigurationError(f"unknown top-level key or table {key!r} (known: rig, camera, microphone)")
    rig = _rig(document, lines, base)
    cameras = tuple(_camera(data, i, lines) for i, data in enumerate(_array(document, "camera")))
    microphones = tuple(_microphone(data, i, lines) for i, data in enumerate(_array(document, "microphone")))
    return RigConfig(rig, cameras, microphones)


def load_rig(path: Path) -> RigConfig:
    try:
        with path.open("rb") as file:
            # Read one byte past the limit rather than trusting stat (a pipe, /proc).
            data = file.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigurationError(f"cannot read the rig configuration {path}: {exc}") from exc
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigurationError(f"{path}: the rig configuration is larger than {MAX_CONFIG_BYTES // 1024} KiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigurationError(f"{path}: not UTF-8 text ({exc})") from exc
    try:
        return loads_rig(text, base=path.parent)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{path}: {exc.message}") from exc


EXAMPLE_RIG = Path(__file__).with_name("example_rig.toml")

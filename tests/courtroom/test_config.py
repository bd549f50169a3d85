from __future__ import annotations

from pathlib import Path

import pytest

from hearing.courtroom.config import EXAMPLE_RIG, MAX_CONFIG_BYTES, SEATS, CameraSource, load_rig, loads_rig
from hearing.errors import ConfigurationError

RIG = """\
[rig]
server_url = "https://hearing.court.local"
token_file = "/etc/hearing/rig.token"
bench_camera = "a"
{rig_extra}

[[camera]]
id = "a"
seat = "judge"
label = {{ da = "Dommer", en = "Judge" }}
source = "test:"
{camera_extra}

[[camera]]
id = "b"
seat = "witness"
label = {{ da = "Vidne", en = "Witness" }}
source = "v4l2:/dev/video0"

[[microphone]]
id = "desk"
source = "alsa:hw:1,0"
channels = {{ {channels} }}
"""


def rig(rig_extra: str = "", camera_extra: str = "", channels: str = '0 = "judge", 1 = "witness"') -> str:
    return RIG.format(rig_extra=rig_extra, camera_extra=camera_extra, channels=channels)


def test_the_example_loads() -> None:
    config = load_rig(EXAMPLE_RIG)
    assert [c.seat for c in config.cameras] == list(SEATS)
    assert all(c.source.kind == "test" for c in config.cameras)
    assert (config.rig.width, config.rig.height, config.rig.fps) == (1280, 720, 25)
    assert config.camera(config.rig.bench_camera).seat == "judge"
    # A relative token file is found beside the configuration, not in the working directory.
    assert config.rig.token_file == EXAMPLE_RIG.parent / "rig.token"
    assert config.microphones[0].channels[0] == (0, "judge")


def test_defaults_and_sources() -> None:
    config = loads_rig(rig())
    assert (config.rig.width, config.rig.height, config.rig.fps, config.rig.layout) == (1280, 720, 25, "speaker_strip")
    assert config.camera("b").source == CameraSource("v4l2", "/dev/video0")
    assert config.seat_camera("witness") is config.camera("b")
    assert config.seat_camera("defence") is None
    assert CameraSource.parse("rtsp://cam3.court.local:554/s1").kind == "rtsp"
    assert CameraSource.parse("https://cam4.court.local/mjpeg").kind == "http"
    assert CameraSource.parse("file:clips/judge.mp4") == CameraSource("file", "clips/judge.mp4")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (rig(rig_extra="colour = 1"), "[rig] colour (line 5): unknown key"),
        (rig(camera_extra="zoom = 2"), "[[camera]] number 1 id 'a' zoom (line 12): unknown key"),
        (rig() + "\n[extra]\n", "unknown top-level key or table 'extra'"),
        (rig(rig_extra='fps = "25"'), "[rig] fps (line 5): must be a whole number, got a string"),
        (rig(rig_extra="fps = true"), "fps (line 5): must be a whole number, got a boolean"),
        (rig(rig_extra="width = 1280.0"), "width (line 5): must be a whole number, got a decimal number"),
        (rig(camera_extra="position = 3"), "position (line 12): must be a string, got a whole number"),
        (rig(rig_extra="fps = 0"), "[rig] (line 1): fps: 1-60, got 0"),
        (rig(rig_extra="fps = 61"), "fps: 1-60, got 61"),
        (rig(rig_extra="width = 1281"), "width: an even number of pixels from 160 to 3840, got 1281"),
        (rig(rig_extra="height = 4320"), "height: an even number of pixels from 90 to 2160, got 4320"),
        (rig(rig_extra="width = 100"), "width: an even number of pixels"),
        (rig(rig_extra='layout = "pip"'), "layout: one of single, speaker_strip, grid, got 'pip'"),
        (rig(rig_extra="fps = 25\nfps = 30"), "not valid TOML"),
        (rig(channels='0 = "judge", 00 = "witness"'), "channel 0 is mapped twice (judge and witness)"),
        (rig(channels='0 = "judge", 1 = "defence"'), "channels.1: no camera has the seat 'defence'"),
        (rig(channels='0 = "judge", 1 = "judge"'), "seat 'judge' is already heard on desk channel 0"),
        (rig(channels='x = "judge"'), "'x' is not a channel number"),
        (rig(channels="0 = 1"), "channel 0 must name a seat, got a whole number"),
        (rig(channels='99 = "judge"'), "channel 99 is not 0-63"),
        (rig().replace('bench_camera = "a"', 'bench_camera = "z"'), "bench_camera: no camera has the id 'z'"),
        (rig().replace('id = "b"', 'id = "a"'), "[[camera]] id 'a': two cameras have this id"),
        (rig().replace('seat = "witness"', 'seat = "judge"'), "seat 'judge' already has a camera"),
        (rig().replace('seat = "witness"', 'seat = "Witness Stand"'), "seat: 'Witness Stand' is not a short"),
        (rig().replace('source = "v4l2:/dev/video0"', 'source = "v4l2:video0"'), "path under /dev/"),
        (rig().replace('source = "v4l2:/dev/video0"', 'source = "webcam"'), "number 2 id 'b' source (line 18)"),
        (rig().replace('source = "v4l2:/dev/video0"', 'source = "rtsp://"'), "has no host"),
        (rig().replace('source = "alsa:hw:1,0"', 'source = "test:x"'), "just test:"),
        (rig().replace('{ da = "Vidne", en = "Witness" }', '{ da = "Vidne" }'), "label (line 17): needs en ="),
        (rig().replace('{ da = "Vidne", en = "Witness" }', '{ da = "Vidne", en = "W", de = "Z" }'), "language 'de'"),
        (
            rig().replace('{ da = "Vidne", en = "Witness" }', '{ da = " ", en = "W" }'),
            "label.da: 1-40",
        ),
        (
            rig().replace('server_url = "https://hearing.court.local"', 'server_url = "ftp://x"'),
            "an http(s)",
        ),
        (rig().replace('token_file = "/etc/hearing/rig.token"\n', ""), "[rig] (line 1): missing key 'token_file'"),
        (rig().split("[[camera]]")[0], "the rig needs at least one camera"),
        ("[[camera]]\n", "missing table [rig]"),
        (rig().replace("[[camera]]", "[camera]", 1), "not valid TOML"),
    ],
)
def test_mistakes_are_named(text: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        loads_rig(text)
    assert expected in caught.value.message


def test_a_file_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rig.toml"
    path.write_text(rig(rig_extra="fps = 90"))
    with pytest.raises(ConfigurationError, match=r"rig\.toml: \[rig\] \(line 1\): fps: 1-60, got 90"):
        load_rig(path)
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_rig(tmp_path / "missing.toml")
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigurationError, match="not UTF-8"):
        load_rig(path)


def test_an_oversized_file_is_refused(tmp_path: Path) -> None:
    # Valid TOML all the way: the size alone refuses it.
    text = rig() + "#" * (MAX_CONFIG_BYTES - len(rig())) + "\n"
    path = tmp_path / "rig.toml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match="larger than 64 KiB"):
        load_rig(path)
    with pytest.raises(ConfigurationError, match="larger than 64 KiB"):
        loads_rig(text)
    # Just under the limit is read.
    assert loads_rig(text[: MAX_CONFIG_BYTES - 1]).rig.fps == 25

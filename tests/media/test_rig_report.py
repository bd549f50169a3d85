"""The rig's messages on the media socket (hearing/media/rig_report.py):
valid ones round-trip, every malformed shape is refused with the socket's
stable code, and the live hearing's view of its rig reports only transitions
and paces the previews."""

from __future__ import annotations

import base64
import copy
import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearing.courtroom.config import LAYOUTS
from hearing.media import signaling
from hearing.media.rig_report import (
    MAX_CAMERAS,
    MAX_LABEL_CHARS,
    MAX_PREVIEW_BYTES,
    MAX_REASON_CHARS,
    PREVIEW_SECONDS,
    PROGRAM,
    PROGRAM_REASONS,
    RigMessageError,
    RigView,
    levels_of,
    preview_of,
    report_of,
)

JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + bytes(range(60))).decode()


def camera(camera_id: str = "cam-judge", seat: str = "judge", state: str = "live", reason: str | None = None) -> Any:
    return {"id": camera_id, "seat": seat, "label": {"da": "Dommer", "en": "Judge"}, "state": state, "reason": reason}


def report(witness: str = "live", reason: str | None = None) -> dict[str, Any]:
    return {
        "cameras": [camera(), camera("cam-witness", "witness", witness, reason)],
        "program": {"camera": "cam-judge", "layout": "speaker_strip", "reason": "voice"},
    }


def assert_refused(parse: Callable[[Any], object], body: Any) -> None:
    with pytest.raises(RigMessageError) as caught:
        parse(body)
    assert caught.value.code == "malformed_message" and caught.value.message


def test_a_report_round_trips() -> None:
    body = report("unavailable", "read failed: TimeoutError")
    parsed = report_of(body)
    assert parsed.to_json() == {
        "cameras": [{**c, "label": dict(c["label"])} for c in body["cameras"]],
        "program": body["program"],
    }
    assert report_of(parsed.to_json()) == parsed
    assert parsed.camera("cam-witness") is not None and parsed.camera("cam-none") is None
    # No camera works: the program shows none.
    dark = {"cameras": [camera(state="unavailable", reason="gone")], "program": {**body["program"], "camera": None}}
    assert report_of(dark).program.camera is None


def _mutate(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    body = report()
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


_DELETE = object()
MALFORMED_REPORTS: dict[str, Any] = {
    "no cameras": {"program": report()["program"]},
    "cameras not a list": {**report(), "cameras": {"cam-judge": camera()}},
    "empty cameras": {**report(), "cameras": []},
    "too many cameras": {
        "cameras": [camera(f"cam-{i}", f"seat-{i}") for i in range(MAX_CAMERAS + 1)],
        "program": {"camera": "cam-0", "layout": "single", "reason": "voice"},
    },
    "camera not an object": {**report(), "cameras": ["cam-judge"]},
    "camera missing key": _mutate(("cameras", 0, "reason"), _DELETE),
    "camera extra key": _mutate(("cameras", 0, "url"), "rtsp://user:pass@cam/stream"),
    "id not a string": _mutate(("cameras", 0, "id"), 7),
    "id not a name": _mutate(("cameras", 0, "id"), "Cam Judge"),
    "id oversized": _mutate(("cameras", 0, "id"), "c" * 33),
    "seat wrong type": _mutate(("cameras", 0, "seat"), None),
    "label not an object": _mutate(("cameras", 0, "label"), "Dommer"),
    "label missing en": _mutate(("cameras", 0, "label"), {"da": "Dommer"}),
    "label extra language": _mutate(("cameras", 0, "label"), {"da": "D", "en": "J", "de": "R"}),
    "label blank": _mutate(("cameras", 0, "label", "da"), "   "),
    "label oversized": _mutate(("cameras", 0, "label", "en"), "x" * (MAX_LABEL_CHARS + 1)),
    "label wrong type": _mutate(("cameras", 0, "label", "en"), 3),
    "unknown state": _mutate(("cameras", 0, "state"), "broken"),
    "state wrong type": _mutate(("cameras", 0, "state"), True),
    "reason oversized": _mutate(("cameras", 1, "reason"), "r" * (MAX_REASON_CHARS + 1)),
    "reason wrong type": _mutate(("cameras", 1, "reason"), ["timeout"]),
    "reason empty": _mutate(("cameras", 1, "reason"), ""),
    "duplicate camera": _mutate(("cameras", 1, "id"), "cam-judge"),
    "no program": _mutate(("program",), _DELETE),
    "program not an object": _mutate(("program",), "cam-judge"),
    "program missing key": _mutate(("program", "reason"), _DELETE),
    "program extra key": _mutate(("program", "seat"), "judge"),
    "program camera not among cameras": _mutate(("program", "camera"), "cam-defence"),
    "program camera wrong type": _mutate(("program", "camera"), 1),
    "unknown layout": _mutate(("program", "layout"), "mosaic"),
    "layout wrong type": _mutate(("program", "layout"), None),
    "unknown reason": _mutate(("program", "reason"), "whim"),
    "reason of program wrong type": _mutate(("program", "reason"), 0),
}


@pytest.mark.parametrize("body", MALFORMED_REPORTS.values(), ids=MALFORMED_REPORTS.keys())
def test_a_malformed_report_is_refused(body: Any) -> None:
    assert_refused(report_of, body)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["starting", "live", "unavailable"]), min_size=1, max_size=MAX_CAMERAS),
    st.sampled_from(LAYOUTS),
    st.sampled_from(PROGRAM_REASONS),
)
def test_any_well_formed_report_round_trips(states: list[str], layout: str, why: str) -> None:
    cameras = [camera(f"cam-{i}", f"seat-{i}", s, "down" if s == "unavailable" else None) for i, s in enumerate(states)]
    body = {"cameras": cameras, "program": {"camera": "cam-0", "layout": layout, "reason": why}}
    parsed = report_of(json.loads(json.dumps(body)))
    assert parsed.to_json() == body and report_of(parsed.to_json()) == parsed


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5), st.lists, max_leaves=5))
def test_any_wrong_value_in_a_camera_is_refused_not_crashed(value: Any) -> None:
    for key in ("id", "seat", "label", "state"):
        body = copy.deepcopy(report())
        body["cameras"][0][key] = value
        try:
            report_of(body)
        except RigMessageError as exc:
            assert exc.code == "malformed_message"
        else:  # only a value that is itself valid passes
            assert value == body["cameras"][0][key] and isinstance(value, str)


def test_levels_round_trip_rounded_and_sorted() -> None:
    parsed = levels_of({"levels": {"witness": -42.345, "judge": None, "defence": 0, "prosecutor": -200}})
    assert parsed.levels == (("defence", 0.0), ("judge", None), ("prosecutor", -200.0), ("witness", -42.3))
    assert levels_of({"levels": {}}).levels == ()


@pytest.mark.parametrize(
    "levels",
    [
        None,
        [],
        "judge=-20",
        {"judge": math.nan},
        {"judge": math.inf},
        {"judge": -math.inf},
        {"judge": 0.5},
        {"judge": 3},
        {"judge": -200.1},
        {"judge": True},
        {"judge": False},
        {"judge": "-20"},
        {"judge": [-20]},
        {"Judge": -20},
        {"": -20},
        {"s" * 33: -20},
        {f"seat-{i}": -20 for i in range(MAX_CAMERAS + 1)},
    ],
    ids=repr,
)
def test_malformed_levels_are_refused(levels: Any) -> None:
    assert_refused(levels_of, {"levels": levels})


def test_a_preview_round_trips() -> None:
    assert preview_of({"camera": "cam-judge", "jpeg": JPEG}) == preview_of({"camera": "cam-judge", "jpeg": JPEG})
    parsed = preview_of({"camera": PROGRAM, "jpeg": JPEG})
    assert (parsed.camera, parsed.jpeg) == (PROGRAM, JPEG)
    # The largest JPEG allowed still passes.
    largest = base64.b64encode(b"\xff\xd8\xff" + bytes(MAX_PREVIEW_BYTES - 3)).decode()
    assert preview_of({"camera": "cam-judge", "jpeg": largest}).jpeg == largest


@pytest.mark.parametrize(
    "body",
    [
        {"camera": "cam-judge"},
        {"camera": "cam-judge", "jpeg": None},
        {"camera": "cam-judge", "jpeg": 12},
        {"camera": "cam-judge", "jpeg": ""},
        {"camera": "cam-judge", "jpeg": "not base64 at all!"},
        {"camera": "cam-judge", "jpeg": "/9j/" + "*" * 8},
        {"camera": "cam-judge", "jpeg": JPEG + "==="},
        {"camera": "cam-judge", "jpeg": base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(40)).decode()},
        {"camera": "cam-judge", "jpeg": base64.b64encode(b"\xff\xd8" + bytes(40)).decode()},
        {"camera": "cam-judge", "jpeg": base64.b64encode(b"\xff\xd8\xff" + bytes(MAX_PREVIEW_BYTES + 8)).decode()},
        {"camera": "Cam Judge", "jpeg": JPEG},
        {"camera": None, "jpeg": JPEG},
        {"camera": 3, "jpeg": JPEG},
        {"jpeg": JPEG},
    ],
    ids=lambda b: repr(b)[:60],
)
def test_a_malformed_preview_is_refused(body: Any) -> None:
    assert_refused(preview_of, body)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=64))
def test_only_a_jpeg_passes_as_a_preview(data: bytes) -> None:
    jpeg = base64.b64encode(data).decode()
    try:
        preview_of({"camera": PROGRAM, "jpeg": jpeg})
    except RigMessageError as exc:
        assert exc.code == "malformed_message"
        assert not data.startswith(b"\xff\xd8\xff")
    else:
        assert data.startswith(b"\xff\xd8\xff")


def test_the_view_reports_only_transitions() -> None:
    view = RigView()
    assert view.message() is None and not view.has_camera("cam-judge")
    # A camera down when the rig starts counts; "starting" is not down.
    first = view.reported(report_of(report("unavailable", "cannot open")))
    assert [(c.camera.id, c.unavailable) for c in first] == [("cam-witness", True)]
    assert view.reported(report_of(report("unavailable", "still not"))) == []
    back = view.reported(report_of(report("starting")))
    assert [(c.camera.id, c.unavailable) for c in back] == [("cam-witness", False)]
    assert view.reported(report_of(report("live"))) == []
    assert RigView().reported(report_of(report("starting"))) == []
    assert view.has_camera("cam-witness") and not view.has_camera("cam-defence")
    message = view.message()
    assert message is not None and message["type"] == "rig" and message["connected"] is True
    assert message["program"] == report()["program"] and message["layouts"] == list(LAYOUTS)
    assert message["cameras"] == report_of(report()).to_json()["cameras"]

    view.disconnected()
    assert not view.has_camera("cam-witness")
    gone = view.message()
    assert gone is not None and gone["connected"] is False and gone["program"] is None
    # Reconnected: a camera that was down and still is was already counted.
    view.reported(report_of(report("unavailable", "x")))
    assert view.reported(report_of(report("unavailable", "x"))) == []


def test_the_view_paces_previews() -> None:
    view = RigView()
    assert not view.preview_due(PROGRAM, 0.0)  # nothing reported yet
    view.reported(report_of(report()))
    assert view.preview_due("cam-judge", 10.0)
    assert not view.preview_due("cam-judge", 10.0 + PREVIEW_SECONDS / 2)
    assert view.preview_due("cam-witness", 10.0 + PREVIEW_SECONDS / 2)  # each camera its own pace
    assert view.preview_due("cam-judge", 10.0 + PREVIEW_SECONDS)
    assert view.preview_due(PROGRAM, 10.0) and not view.preview_due(PROGRAM, 10.1)
    assert not view.preview_due("cam-defence", 100.0)  # not a camera the rig reported
    view.disconnected()
    view.reported(report_of(report()))
    assert view.preview_due("cam-judge", 10.0 + PREVIEW_SECONDS + 0.01)  # forgotten on disconnect


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=5, allow_nan=False), min_size=1, max_size=30))
def test_previews_are_never_relayed_faster_than_the_pace(gaps: list[float]) -> None:
    view = RigView()
    view.reported(report_of(report()))
    now, relayed = 0.0, []
    for gap in gaps:
        now += gap
        if view.preview_due("cam-judge", now):
            relayed.append(now)
    assert all(b - a >= PREVIEW_SECONDS for a, b in zip(relayed, relayed[1:], strict=False))


def test_the_sockets_parser_reads_rig_messages_strictly() -> None:
    rig = {"type": "rig", **report()}
    assert signaling.parse(json.dumps(rig)) == report_of(report())
    assert signaling.parse(json.dumps({"type": "levels", "levels": {"judge": -20}})) == levels_of(
        {"levels": {"judge": -20}}
    )
    preview = {"type": "preview", "camera": PROGRAM, "jpeg": JPEG}
    assert signaling.parse(json.dumps(preview)) == preview_of({"camera": PROGRAM, "jpeg": JPEG})
    for bad in (
        {**rig, "token": "secret"},
        {**rig, "cameras": []},
        {"type": "levels", "levels": {"judge": 1}},
        {"type": "preview", "camera": PROGRAM, "jpeg": JPEG, "extra": 1},
    ):
        with pytest.raises(signaling.SignalingError) as caught:
            signaling.parse(json.dumps(bad))
        assert caught.value.code == "malformed_message"
    with pytest.raises(signaling.SignalingError) as caught:
        signaling.parse(json.dumps({**rig, "pad": "x" * signaling.MAX_MESSAGE_BYTES}))
    assert caught.value.code == "message_too_large"

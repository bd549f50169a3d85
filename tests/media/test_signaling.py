from __future__ import annotations

import json

import pytest

from hearing.errors import HearingError
from hearing.media.signaling import (
    MAX_MESSAGE_BYTES,
    Answer,
    Candidate,
    FloorRequest,
    Leave,
    Offer,
    Ping,
    SignalingError,
    parse,
)
from hearing.web.errors import socket_error

SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"type": "offer", "sdp": SDP}, Offer(SDP)),
        ({"type": "answer", "sdp": SDP}, Answer(SDP)),
        (
            {
                "type": "candidate",
                "candidate": "candidate:1 1 UDP 1 127.0.0.1 5000 typ host",
                "sdpMid": "0",
                "sdpMLineIndex": 0,
            },
            Candidate("candidate:1 1 UDP 1 127.0.0.1 5000 typ host", "0", 0),
        ),
        ({"type": "ping", "nonce": 7}, Ping(7)),
        ({"type": "leave"}, Leave()),
        ({"type": "offer", "sdp": SDP, "views": ["custody", "courtroom"]}, Offer(SDP, ("custody", "courtroom"))),
        ({"type": "request", "speaker": "custody:detainee"}, FloorRequest("request", "custody:detainee")),
        ({"type": "withdraw", "speaker": "custody:detainee"}, FloorRequest("withdraw", "custody:detainee")),
    ],
)
def test_valid_messages(raw: dict[str, object], expected: object) -> None:
    assert parse(json.dumps(raw)) == expected
    assert parse(json.dumps(raw).encode()) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "malformed_message"),
        ("{", "malformed_message"),
        (b"\xff\xfe", "malformed_message"),
        ("[]", "malformed_message"),
        ('{"sdp": "v=0"}', "malformed_message"),
        ('{"type": 5}', "malformed_message"),
        ('{"type": "explode"}', "unknown_message"),
        ('{"type": "offer"}', "malformed_message"),
        ('{"type": "offer", "sdp": "hello"}', "bad_sdp"),
        ("[" * 5000 + "]" * 5000, "malformed_message"),
        ('{"type": "offer", "sdp": "v=0", "admin": true}', "malformed_message"),
        ('{"type": "candidate", "candidate": ""}', "malformed_message"),
        ('{"type": "candidate", "candidate": "c", "sdpMLineIndex": -1}', "malformed_message"),
        ('{"type": "candidate", "candidate": "c", "sdpMLineIndex": true}', "malformed_message"),
        ('{"type": "ping", "nonce": "x"}', "malformed_message"),
        ('{"type": "ping", "nonce": 1e300}', "malformed_message"),
        ("x" * (MAX_MESSAGE_BYTES + 1), "message_too_large"),
        ('{"type": "offer", "sdp": "v=0", "views": "custody"}', "malformed_message"),
        ('{"type": "offer", "sdp": "v=0", "views": [1]}', "malformed_message"),
        ('{"type": "offer", "sdp": "v=0", "views": [""]}', "malformed_message"),
        ('{"type": "offer", "sdp": "v=0", "views": ["a", "b", "c", "d", "e"]}', "malformed_message"),
        ('{"type": "request"}', "malformed_message"),
        ('{"type": "request", "speaker": 5}', "malformed_message"),
        ('{"type": "withdraw", "speaker": "custody:detainee", "why": "x"}', "malformed_message"),
        (json.dumps({"type": "offer", "sdp": "v=0" + "a" * 40000}), "malformed_message"),
    ],
)
def test_bad_messages_get_a_stable_code(raw: str | bytes, code: str) -> None:
    with pytest.raises(SignalingError) as info:
        parse(raw)
    assert info.value.code == code
    reply = socket_error(info.value)
    assert reply["type"] == "error" and reply["error"] == code and reply["message"]
    assert isinstance(info.value, HearingError) and info.value.status == 400


@pytest.mark.parametrize(
    "raw",
    [
        '{"type": "leave", "type": "ping", "nonce": 1}',  # which type? parsers disagree: refused
        json.dumps({"type": "ping", "nonce": 1}).encode("utf-16"),  # UTF-8 only, never a guess
        json.dumps({"type": "ping", "nonce": 1}).encode("utf-32"),
        '{"type": "request", "speaker": "\\ud800"}',  # a string that is not text
        '{"type": "ping", "nonce": 1, "x": ' + "[" * 40 + "]" * 40 + "}",  # deeper than strict_json allows
    ],
)
def test_only_strict_json_is_a_message(raw: str | bytes) -> None:
    """Messages are read by hearing/strict_json.py: bounded depth, UTF-8,
    no duplicate members, no unpaired surrogates."""
    with pytest.raises(SignalingError) as info:
        parse(raw)
    assert info.value.code == "malformed_message"

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hearing.audit.checkpoint import (
    BadCheckpoint,
    Checkpoint,
    key_hash,
    open_note,
    parse_verifier_key,
    sign,
    verifier_key,
)

KEY = Ed25519PrivateKey.generate()
ORIGIN = "example-court/hearing-audit"
CP = Checkpoint(ORIGIN, 42, bytes(range(32)), datetime(2026, 11, 23, 9, 30, 1, 123456, tzinfo=UTC))


def test_note_has_the_c2sp_checkpoint_shape() -> None:
    note = sign(CP, KEY)
    lines = note.split("\n")
    assert lines[:4] == [ORIGIN, "42", base64.b64encode(bytes(range(32))).decode(), "time 2026-11-23T09:30:01.123456Z"]
    assert lines[4] == ""
    dash, name, blob = lines[5].split(" ")
    assert (dash, name) == ("\u2014", ORIGIN)
    raw = base64.b64decode(blob)
    assert len(raw) == 68 and raw[:4] == key_hash(ORIGIN, KEY.public_key())
    assert note.endswith("\n")


def test_round_trip() -> None:
    assert open_note(sign(CP, KEY), ORIGIN, KEY.public_key()) == CP


@pytest.mark.parametrize(
    "mutate",
    [
        lambda n: n.replace("\n42\n", "\n43\n"),
        lambda n: n.replace("time 2026", "time 2025"),
        lambda n: n.replace(ORIGIN + "\n", "other-log\n", 1),
        lambda n: n[: n.index("\n\n")] + "\nextra line" + n[n.index("\n\n") :],
    ],
)
def test_any_change_to_the_body_breaks_the_signature(mutate) -> None:
    with pytest.raises(BadCheckpoint):
        open_note(mutate(sign(CP, KEY)), ORIGIN, KEY.public_key())


@pytest.mark.parametrize(
    "note",
    [
        "",
        "no signature block",
        f"{ORIGIN}\n42\nAAAA\n\n\u2014 {ORIGIN} !!!notbase64\n",
        f"{ORIGIN}\n42\nAAAA\n\n\u2014 {ORIGIN} {base64.b64encode(b'short').decode()}\n",
        "x" * 5000,
    ],
)
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(BadCheckpoint):
        open_note(note, ORIGIN, KEY.public_key())


def test_another_key_or_origin_is_refused() -> None:
    note = sign(CP, KEY)
    with pytest.raises(BadCheckpoint, match="not signed by this log's key"):
        open_note(note, ORIGIN, Ed25519PrivateKey.generate().public_key())
    with pytest.raises(BadCheckpoint):
        open_note(note, "another-origin", KEY.public_key())


@pytest.mark.parametrize("key", [Ed25519PrivateKey.generate() for _ in range(20)])
def test_verifier_key_round_trip_and_refusals(key: Ed25519PrivateKey) -> None:
    # Twenty keys: base64 of some contains '+', which must not confuse parsing.
    text = verifier_key(ORIGIN, key.public_key())
    origin, parsed = parse_verifier_key(text + "\n")
    assert origin == ORIGIN
    assert key_hash(origin, parsed) == key_hash(ORIGIN, key.public_key())
    name, hash_hex, blob = text.split("+", 2)
    for bad in ["", "a+b", f"{name}+00000000+{blob}", f"{name}+{hash_hex}+AAAA", f"other+{hash_hex}+{blob}"]:
        with pytest.raises(BadCheckpoint):
            parse_verifier_key(bad)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"origin": ""},
        {"origin": "two words"},
        {"origin": "a+b"},
        {"size": -1},
        {"root": b"short"},
        {"at": datetime(2026, 1, 1)},
    ],
)
def test_invalid_checkpoints_cannot_be_made(kwargs: dict[str, object]) -> None:
    values = {"origin": ORIGIN, "size": 1, "root": bytes(32), "at": datetime.now(UTC), **kwargs}
    with pytest.raises(BadCheckpoint):
        Checkpoint(**values)
